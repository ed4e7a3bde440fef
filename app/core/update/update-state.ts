/**
 * What root's update service keeps, and where:
 * - /run/thinkiosk/update/status.json: the UpdateStatus the kiosk reads (admin screen, check-in);
 *   in RAM, rewritten whole at every change, readable by everyone.
 * - on the settings partition, /var/lib/thinkiosk/update/ (root's): the last trial's outcome
 *   (reported until the next trial), the trial asked for before a reboot (which version went into
 *   which slot, to name it after the boot), and the settings target's attempts (back-off).
 * Every file is written whole (atomic rename) and checked when read: a damaged one counts as none.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../../contract/files/atomic-write.js';
import { Slot, TrialOutcome, UpdateStatus } from '../../../contract/update-status.js';

export const STATUS_FILE = '/run/thinkiosk/update/status.json';
export const STATE_DIR = '/var/lib/thinkiosk/update';

export const PendingTrial = z.object({
  version: z.string(),
  slot: Slot,
  trialId: z.string(),
  source: z.string(),
  requestedAt: z.string().datetime(),
});
export type PendingTrial = z.infer<typeof PendingTrial>;

/** The settings target (update_version) as the service has tried it: once per version, backing off. */
export const TargetAttempts = z.object({
  version: z.string(),
  /** Installs of this version that failed before a trial (download, signature, write). */
  failures: z.number().int().nonnegative(),
  lastAt: z.string().datetime(),
  lastMessage: z.string().nullable(),
  /** Its trial boot did not stick (rolled back, did not finish): not installed again by itself. */
  trialFailed: z.boolean(),
});
export type TargetAttempts = z.infer<typeof TargetAttempts>;

export class UpdateState {
  constructor(readonly stateDir: string = STATE_DIR, readonly statusFile: string = STATUS_FILE) {}

  private read<T>(name: string, schema: z.ZodType<T>): T | null {
    try {
      return schema.safeParse(JSON.parse(readFileSync(join(this.stateDir, name), 'utf8'))).data ?? null;
    } catch {
      return null;
    }
  }

  private write(name: string, value: unknown): void {
    mkdirSync(this.stateDir, { recursive: true, mode: 0o755 });
    writeFileAtomic(join(this.stateDir, name), `${JSON.stringify(value, null, 2)}\n`, { mode: 0o644 });
  }

  lastTrial(): TrialOutcome | null { return this.read('last-trial.json', TrialOutcome); }
  setLastTrial(outcome: TrialOutcome): void { this.write('last-trial.json', TrialOutcome.parse(outcome)); }

  pendingTrial(): PendingTrial | null { return this.read('pending-trial.json', PendingTrial); }
  setPendingTrial(trial: PendingTrial | null): void {
    if (trial) this.write('pending-trial.json', PendingTrial.parse(trial));
    else rmSync(join(this.stateDir, 'pending-trial.json'), { force: true });
  }

  targetAttempts(): TargetAttempts | null { return this.read('target.json', TargetAttempts); }
  setTargetAttempts(attempts: TargetAttempts | null): void {
    if (attempts) this.write('target.json', TargetAttempts.parse(attempts));
    else rmSync(join(this.stateDir, 'target.json'), { force: true });
  }

  status(): UpdateStatus | null {
    return readStatusFile(this.statusFile);
  }

  writeStatus(status: UpdateStatus): void {
    const checked = UpdateStatus.parse(status);
    mkdirSync(join(this.statusFile, '..'), { recursive: true, mode: 0o755 });
    writeFileAtomic(this.statusFile, `${JSON.stringify(checked, null, 2)}\n`, { mode: 0o644 });
  }
}

/** The status file as the kiosk reads it; null when there is none or it is not a status. */
export function readStatusFile(file: string = STATUS_FILE): UpdateStatus | null {
  try {
    return UpdateStatus.safeParse(JSON.parse(readFileSync(file, 'utf8'))).data ?? null;
  } catch {
    return null;
  }
}

/** A sentence fit for the status (one line, no control characters, at most 300 characters). */
export function statusSentence(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
}
