/**
 * What the fleet's restart-app and reboot commands do to the box.
 *
 * - restart-app: the app ends cleanly and its supervisor starts it again: on the appliance
 *   thinkiosk-kiosk.service (Restart=always; the browser shell or Electron ends, cage with it); in
 *   development whatever started it (nothing, by hand). Each shell says how it ends itself
 *   (KioskRuntimeOptions.restartApp); by default the process sends itself SIGTERM, which both
 *   shells answer by stopping cleanly.
 * - reboot: the kiosk runs as the unprivileged user kiosk, which may not reboot the box: it asks
 *   root by making a file that thinkiosk-reboot.path watches (rootfs-overlay/etc/systemd/system).
 *   Where that directory does not exist (not the appliance image), it refuses with a sentence
 *   rather than reboot a developer's machine.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../../contract/files/atomic-write.js';

/** Made by tmpfiles.d/thinkiosk.conf on the image: root's and the kiosk group's. */
export const REQUEST_DIR = '/run/thinkiosk/requests';

export async function requestReboot(requestDir: string = REQUEST_DIR, now: Date = new Date()): Promise<void> {
  if (!existsSync(requestDir)) {
    throw new Error(`this kiosk cannot reboot itself: it does not run on the thinkiosk image (${requestDir} is missing)`);
  }
  writeFileAtomic(join(requestDir, 'reboot'), `${now.toISOString()}\n`, { mode: 0o660 });
}

export function restartBySignal(): void {
  process.kill(process.pid, 'SIGTERM');
}
