// TEMPORARY until app/core/system lands (helper).
import type { KioskEvent } from './kiosk-api.js';
import type { AdminTools } from './kiosk-service.js';
export function createAdminTools(_emit: (event: KioskEvent) => void): AdminTools {
  const no = async (): Promise<never> => { throw { kind: 'system', message: 'not yet' }; };
  return { networkStatus: no, wifiScan: no, wifiConnect: no, audioOutputs: no, setAudioOutput: no, displayOutputs: no, setDisplayMode: no,
    diagnostics: no, logs: no, terminalOpen: no, terminalInput: no, terminalResize: no, terminalClose: no,
    lockAll: async () => undefined, verifyPin: async () => false, hashPin: no };
}
