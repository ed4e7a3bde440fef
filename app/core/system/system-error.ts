/**
 * The one error type of the admin/system modules: a kind the kiosk page understands, a sentence for
 * the technician at the screen (what happened, what to do), and a detail for the log only. The kiosk
 * service turns it into a KioskError as it is (it reads `kind`, `message` and `detail`).
 */
import type { KioskErrorKind } from '../kiosk-api.js';

export class SystemError extends Error {
  constructor(
    readonly kind: KioskErrorKind,
    /** Shown on screen as it is. */
    message: string,
    /** For the log: the tool's own words, exit code, errno. Never shown. */
    readonly detail: string = message,
  ) {
    super(message);
    this.name = 'SystemError';
  }
}
