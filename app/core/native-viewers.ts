/**
 * The kiosk service's native viewers: app/core/native's launcher (xfreerdp, remote-viewer under
 * node-pty) with the kiosk's environment, so viewers open on the kiosk's own display.
 */
import { NativeLauncher } from './native/native-session.js';
import type { NativeViewers } from './kiosk-service.js';

export function createNativeViewers(env: NodeJS.ProcessEnv = process.env): NativeViewers {
  return new NativeLauncher({ env });
}
