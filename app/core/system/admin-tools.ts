/**
 * The admin screen's system work in one object, shaped as the kiosk service calls it (one function
 * per admin method of kiosk-api.ts, plus lock, PIN check and PIN hashing): each module of this
 * directory behind the method that needs it, terminal output turned into kiosk events, every call
 * logged to the admin log.
 */
import { DEFAULT_SETTINGS_DIR, DEFAULT_STATE_DIR } from '../../../contract/boot-server-files.js';
import type { KioskArgs, KioskEvent, KioskValue } from '../kiosk-api.js';
import { hashPin, PinGuard } from './admin-pin.js';
import { Audio } from './audio.js';
import { BootServerSwitch } from './boot-server-switch.js';
import { runDiagnostics } from './diagnostics.js';
import { Displays } from './display.js';
import { LogBuffer } from './log-buffer.js';
import { Nmcli } from './nmcli.js';
import { Terminals } from './terminal.js';

type AdminToolMethod = 'networkStatus' | 'wifiScan' | 'wifiConnect' | 'audioOutputs' | 'setAudioOutput' | 'displayOutputs' | 'setDisplayMode'
  | 'diagnostics' | 'logs' | 'terminalOpen' | 'terminalInput' | 'terminalResize' | 'terminalClose' | 'bootServerStatus' | 'setBootServer';

export type SystemAdminTools = {
  [M in AdminToolMethod]: (args: KioskArgs<M>) => Promise<KioskValue<M>>;
} & {
  /** Admin screen locked: no terminal stays open. */
  lockAll(): Promise<void>;
  /** Checks a PIN against the stored hash, with the wrong-PIN lockout (throws when locked). */
  verifyPin(pin: string, hash: string): Promise<boolean>;
  hashPin(pin: string): Promise<string>;
};

export interface SystemAdminOptions {
  /** Pushes terminal output and ends to the page. */
  emit: (event: KioskEvent) => void;
  /** The kiosk's log, shown on the admin screen. */
  log: LogBuffer;
  /** The controller the diagnostics check, as saved now (null before setup). */
  controller: () => { url: string; caFile?: string | null } | null;
  nmcli?: Nmcli;
  audio?: Audio;
  displays?: Displays;
  terminals?: Terminals;
  pinGuard?: PinGuard;
  /** The boot server's switch and status (default: the image's settings and state directories). */
  bootServer?: BootServerSwitch;
}

export function createSystemAdminTools(options: SystemAdminOptions): SystemAdminTools {
  const nmcli = options.nmcli ?? new Nmcli();
  const audio = options.audio ?? new Audio();
  const displays = options.displays ?? new Displays();
  const terminals = options.terminals ?? new Terminals();
  const pinGuard = options.pinGuard ?? new PinGuard();
  const bootServer = options.bootServer ?? new BootServerSwitch({ settingsDir: DEFAULT_SETTINGS_DIR, stateDir: DEFAULT_STATE_DIR });
  const { log } = options;

  terminals.on('output', (terminalId, data) => options.emit({ type: 'terminal-output', terminalId, data }));
  terminals.on('exit', (terminalId, exitCode) => {
    log.info(`terminal ${terminalId} ended (exit ${exitCode})`);
    options.emit({ type: 'terminal-exit', terminalId });
  });

  return {
    networkStatus: async () => ({ devices: await nmcli.devices() }),
    wifiScan: async () => ({ networks: await nmcli.wifiScan() }),
    wifiConnect: async ({ ssid, password }) => {
      log.info(`admin: joining Wi-Fi “${ssid}”`);
      const message = await nmcli.wifiConnect(ssid, password);
      log.info(`admin: joined Wi-Fi “${ssid}”`);
      return { message };
    },
    audioOutputs: async () => ({ outputs: await audio.outputs() }),
    setAudioOutput: async ({ id, volume }) => {
      await audio.setOutput(id, volume);
      log.info(`admin: sound output ${id}${volume === undefined ? '' : ` at ${Math.round(volume * 100)} %`}`);
      return {};
    },
    displayOutputs: async () => ({ outputs: await displays.outputs() }),
    setDisplayMode: async ({ output, mode }) => {
      await displays.setMode(output, mode);
      log.info(`admin: screen ${output} set to ${mode}`);
      return {};
    },
    diagnostics: async () => {
      const controller = options.controller();
      const checks = await runDiagnostics({ controllerUrl: controller?.url ?? '', caFile: controller?.caFile ?? undefined });
      const failed = checks.filter((c) => !c.ok).map((c) => c.name);
      log.info(`admin: diagnostics ${failed.length ? `found problems: ${failed.join(', ')}` : 'all passed'}`);
      return { checks };
    },
    logs: async () => ({ lines: log.lines() }),
    terminalOpen: async ({ cols, rows }) => {
      const terminalId = terminals.open(cols, rows);
      log.info(`admin: terminal ${terminalId} opened`);
      return { terminalId };
    },
    terminalInput: async ({ terminalId, data }) => {
      terminals.input(terminalId, data);
      return {};
    },
    terminalResize: async ({ terminalId, cols, rows }) => {
      terminals.resize(terminalId, cols, rows);
      return {};
    },
    terminalClose: async ({ terminalId }) => {
      terminals.close(terminalId);
      return {};
    },
    bootServerStatus: () => bootServer.status(),
    setBootServer: async ({ enabled }) => {
      const view = await bootServer.set(enabled);
      log.info(`admin: boot server switched ${enabled ? 'on' : 'off'} (${bootServer.switchPath}); the service reports ${view.state} for now`);
      return view;
    },
    lockAll: async () => {
      if (terminals.count > 0) log.info(`admin: locked, closing ${terminals.count} terminal(s)`);
      terminals.closeAll();
    },
    verifyPin: (pin, hash) => pinGuard.check(pin, hash),
    hashPin: (pin) => hashPin(pin),
  };
}
