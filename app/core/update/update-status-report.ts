/**
 * The UpdateStatus written for the kiosk: what the boot slots say, the running version, the last
 * trial, and what the service is doing now. One place makes it, for the agent and the health gate.
 */
import type { UpdatePhase, UpdateStatus } from '../../../contract/update-status.js';
import type { SlotView } from './boot-slots.js';
import { statusSentence, type UpdateState } from './update-state.js';

export interface Activity {
  phase: UpdatePhase;
  targetVersion?: string | null;
  source?: string | null;
  percent?: number | null;
  message?: string | null;
}

export class StatusReporter {
  constructor(private readonly state: UpdateState, private readonly runningVersion: string, private readonly now: () => Date = () => new Date()) {}

  report(view: SlotView, activity: Activity): UpdateStatus {
    const status: UpdateStatus = {
      runningVersion: statusSentence(this.runningVersion) || 'unknown',
      bootedSlot: view.booted,
      committedSlot: view.booted === null ? null : view.file.slot,
      phase: activity.phase,
      targetVersion: activity.targetVersion ? statusSentence(activity.targetVersion) : null,
      source: activity.source ? statusSentence(activity.source) : null,
      percent: activity.percent === undefined || activity.percent === null ? null : Math.max(0, Math.min(100, Math.round(activity.percent))),
      message: activity.message ? statusSentence(activity.message) : null,
      lastTrial: this.state.lastTrial(),
      updatedAt: this.now().toISOString(),
    };
    this.state.writeStatus(status);
    return status;
  }
}

/** The version in /etc/thinkiosk-release ("thinkiosk 0.2.0 arm64 (key)"); "unknown" without one. */
export function releaseVersion(text: string | null): string {
  return text?.trim().split(/\s+/)[1] ?? 'unknown';
}
