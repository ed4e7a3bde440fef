/**
 * The kiosk service's native viewers: app/core/native's launcher (xfreerdp, remote-viewer under
 * node-pty) with the kiosk's environment, so viewers open on the kiosk's own display, and FreeRDP's
 * remembered desktop certificates in the kiosk's settings directory (see NativeLauncherOptions).
 */
import { join } from 'node:path';
import { NativeLauncher } from './native/native-session.js';
import type { NativeViewers } from './kiosk-service.js';

/** The settings directory's subdirectory xfreerdp uses as its XDG_CONFIG_HOME. */
export const RDP_CONFIG_SUBDIR = 'rdp';

export function createNativeViewers(options: { settingsDir: string; env?: NodeJS.ProcessEnv }): NativeViewers {
  return new NativeLauncher({ env: options.env ?? process.env, rdpConfigDir: join(options.settingsDir, RDP_CONFIG_SUBDIR) });
}
