/**
 * Where a kiosk stands with its updates (issue 12): which slot it booted, what it is doing now, and
 * how its last trial boot ended. One definition, used by the kiosk's update agent and health gate,
 * its admin screen, its fleet check-in and the controller's admin page. The slots and the boot-time
 * choice are described in image/ab-slots.md.
 */
import { z } from 'zod';

// eslint-disable-next-line no-control-regex
const Sentence = z.string().max(300).regex(/^[^\x00-\x08\x0b-\x1f\x7f]*$/, 'must not hold control characters');
const When = z.string().datetime();

/** The two root slots: partitions 2 (TKROOT-A) and 3 (TKROOT-B) of the card or disk. */
export const Slot = z.enum(['a', 'b']);
export type Slot = z.infer<typeof Slot>;

/** What the update agent is doing right now. */
export const UpdatePhase = z.enum([
  'idle',        // nothing under way
  'downloading', // reading the bundle (the URL, the fleet's URL or a USB stick) and checking its signature
  'writing',     // writing the inactive slot (download and write are one stream: same phase when both)
  'verifying',   // reading the slot back
  'rebooting',   // trial requested; the box restarts into the new slot
  'trial',       // running the new slot on trial: the health gate waits for ready + controller
  'failed',      // the last attempt failed (message says why); the running slot was not touched
]);
export type UpdatePhase = z.infer<typeof UpdatePhase>;

/** How the last trial boot ended, reported until the next trial starts. */
export const TrialOutcome = z.object({
  /** The version that was tried, as its bundle's manifest said. */
  version: Sentence,
  slot: Slot,
  outcome: z.enum([
    'committed',       // the health gate passed: the new slot is now the one that boots
    'rolled-back',     // the health gate failed in time (kiosk not ready / controller not reached) and returned to the old slot
    'did-not-finish',  // the box came back on the old slot: the trial's kernel or kiosk never reached the gate (hang, crash loop, watchdog, power cut)
  ]),
  /** For the admin: what the gate saw ("the kiosk was not ready after 300 s"). */
  detail: Sentence,
  at: When,
});
export type TrialOutcome = z.infer<typeof TrialOutcome>;

export const UpdateStatus = z.object({
  /** The running image's version (/etc/thinkiosk-release). */
  runningVersion: Sentence,
  /** The slot this boot came from (kernel command line thinkiosk.slot); null outside an A/B image. */
  bootedSlot: Slot.nullable(),
  /** The slot the boot loader starts when no trial is pending; null outside an A/B image. */
  committedSlot: Slot.nullable(),
  phase: UpdatePhase,
  /** The version being installed or tried; null when idle. */
  targetVersion: Sentence.nullable(),
  /** Where the bundle comes from, for the admin ("https://…/x.tkupdate", "USB stick sda1", "fleet"). */
  source: Sentence.nullable(),
  /** 0–100 while downloading/writing/verifying; null otherwise. */
  percent: z.number().min(0).max(100).nullable(),
  /** A sentence for the admin screen: progress or why it failed. Never a stack trace. */
  message: Sentence.nullable(),
  lastTrial: TrialOutcome.nullable(),
  updatedAt: When,
});
export type UpdateStatus = z.infer<typeof UpdateStatus>;
