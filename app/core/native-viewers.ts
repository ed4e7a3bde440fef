// TEMPORARY until app/core/native lands (helper): every native launch reports client-missing.
import type { NativeViewers, NativeViewerSession } from './kiosk-service.js';
export function createNativeViewers(): NativeViewers {
  const missing = (protocol: 'rdp' | 'spice'): NativeViewerSession => ({
    id: 'x', protocol, started: new Promise(() => undefined),
    result: Promise.resolve({ outcome: 'client-missing', message: 'not yet' }), stop: async () => undefined, sendCtrlAltDel: async () => undefined,
  });
  return { startRdp: () => missing('rdp'), startSpice: () => missing('spice'), stopAll: async () => undefined };
}
