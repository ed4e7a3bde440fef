/**
 * The kiosk's (user kiosk's) side of updates, for the admin screen: it reads the status root's
 * update service writes (update-state.ts, /run/thinkiosk/update/status.json) and asks that service
 * for an install by writing the request file its path unit watches (update-request.ts,
 * /run/thinkiosk/requests/update). It never installs, checks a signature or decides a downgrade
 * itself: the request names a source, the rest is root's.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../../contract/files/atomic-write.js';
import type { UpdatePhase } from '../../../contract/update-status.js';
import type { UpdateView } from '../kiosk-api.js';
import { REQUEST_DIR } from '../fleet/system-actions.js';
import { AdminUpdateRequest, UPDATE_REQUEST_FILE } from './update-request.js';
import { readStatusFile, STATUS_FILE } from './update-state.js';

/** A refusal the page shows as it is (kind as in kiosk-api's KioskErrorKind). */
export class UpdateRefusal extends Error {
  constructor(readonly kind: 'conflict' | 'system' | 'invalid-input', message: string) {
    super(message);
  }
}

/** While one of these runs, a second install would be refused by root anyway: said here at once. */
const BUSY: ReadonlySet<UpdatePhase> = new Set<UpdatePhase>(['downloading', 'writing', 'verifying', 'rebooting', 'trial']);

export class KioskUpdates {
  constructor(readonly statusFile: string = STATUS_FILE, readonly requestDir: string = REQUEST_DIR) {}

  view(): UpdateView {
    return { status: readStatusFile(this.statusFile), requestWaiting: existsSync(this.requestFile) };
  }

  /** Leaves the request for root's service; the view afterwards (its status follows within seconds). */
  request(raw: AdminUpdateRequest): UpdateView {
    const request = AdminUpdateRequest.parse(raw);
    if (!existsSync(this.requestDir)) {
      throw new UpdateRefusal('system', 'This kiosk cannot install updates: it does not run on the thinkiosk image (its update service is missing).');
    }
    const { status, requestWaiting } = this.view();
    if (requestWaiting) throw new UpdateRefusal('conflict', 'An update request is already waiting for the update service. Wait for its status below.');
    if (status && BUSY.has(status.phase)) {
      throw new UpdateRefusal('conflict', status.phase === 'trial'
        ? 'The new version is still on trial: wait until it is committed or rolled back, then install another.'
        : 'An update is already under way. Wait until it has finished or failed.');
    }
    writeFileAtomic(this.requestFile, `${JSON.stringify(request)}\n`, { mode: 0o660 });
    return this.view();
  }

  private get requestFile(): string {
    return join(this.requestDir, UPDATE_REQUEST_FILE);
  }
}
