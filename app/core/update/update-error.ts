/**
 * The one error of installing an update bundle: a kind the caller can act on (retry the download,
 * tell the admin the bundle is from another build machine, ...), a sentence for the admin screen,
 * and a detail for the log only. `slotMarked` says whether the target slot was marked as not
 * bootable (anything was written to it) or left as it was (refused before writing).
 */
export type UpdateErrorKind =
  | 'not-a-bundle'      // not a thinkiosk bundle, or one of a format this kiosk does not read
  | 'untrusted-key'     // signed with a key this kiosk was not built to trust
  | 'bad-signature'     // the manifest is not what its key signed (tampered or damaged)
  | 'wrong-architecture'
  | 'downgrade'         // an older version, and the caller did not allow it
  | 'does-not-fit'      // a payload is larger than its partition
  | 'truncated'         // the stream ended (connection cut, file incomplete) before the bundle did
  | 'corrupt'           // a payload is not what the signed manifest says (size or sha256)
  | 'write-failed'      // the target could not be written or read back (ENOSPC, EIO, ...)
  | 'verify-failed'     // what was read back from the target differs from what was written
  | 'aborted';          // the caller stopped it

export class UpdateError extends Error {
  constructor(
    readonly kind: UpdateErrorKind,
    /** For the admin screen, as it is: what happened and what to do. */
    message: string,
    /** For the log: byte counts, hashes, errno. Never shown. */
    readonly detail: string = message,
    /** True when the target slot was marked as not bootable (something had been written). */
    public slotMarked = false,
  ) {
    super(message);
    this.name = 'UpdateError';
  }
}
