/**
 * The health gate (image/ab-slots.md, update flow step 4), run by root at every boot
 * (thinkiosk-health-gate.service):
 *
 * - a trial boot (this boot's slot is the requested trial, not the committed one): the new version
 *   stays only when, within update_trial_minutes of the gate's start, the kiosk reported its page
 *   ready AND its controller answered (markers the kiosk writes in /run/thinkiosk/health/; a kiosk
 *   with no controller configured says so in its ready marker, and then ready alone counts). Then
 *   tk-slot.txt names the new slot (commit). Otherwise the trial is cancelled (the old slot is
 *   still the committed one), 'rolled-back' is recorded, and the box reboots into the old slot.
 * - a normal boot that finds a trial that was started (tk_tried = its id) but is on the old slot:
 *   the trial never reached the gate (kernel hang, crash loop, watchdog, power cut): recorded as
 *   'did-not-finish', the trial cleared.
 * The outcome stays on the settings partition (last-trial.json) for the status and the check-in.
 * The deadline counts from the gate's start: once the kiosk has shown its page, or 60 s into the
 * wait for it (thinkiosk-health-gate.service). A kernel that hangs before that is the watchdog's
 * and panic=10's to end (the boot loader then falls back by itself).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Slot, TrialOutcome } from '../../../contract/update-status.js';
import type { BootSlots, SlotView } from './boot-slots.js';
import { statusSentence, type UpdateState } from './update-state.js';
import type { StatusReporter } from './update-status-report.js';
import type { UpdateSettings } from './update-settings.js';

export const HEALTH_DIR = '/run/thinkiosk/health';
export const READY_MARKER = 'ready';
export const CONTROLLER_MARKER = 'controller-ok';

/** What the kiosk writes once its page has loaded: and whether it has a controller to reach. */
export const ReadyMarker = z.object({ at: z.string(), controller: z.string().nullable() });
export type ReadyMarker = z.infer<typeof ReadyMarker>;
/** What the kiosk writes once its controller answered. */
export const ControllerMarker = z.object({ at: z.string(), controller: z.string() });

export type BootKind = 'not-ab' | 'normal' | 'trial' | 'did-not-finish';

export function classifyBoot(view: SlotView): BootKind {
  const { booted, file, tried } = view;
  if (booted === null) return 'not-ab';
  if (file.trial !== null && booted === file.trial) return 'trial';
  if (file.trial !== null && booted === file.slot && tried === file.trialId) return 'did-not-finish';
  return 'normal';
}

export interface Health {
  ready: boolean;
  /** null: no controller configured (ready alone counts). */
  controllerOk: boolean | null;
}

export async function readHealth(dir: string = HEALTH_DIR): Promise<Health> {
  const json = async (name: string): Promise<unknown> => JSON.parse(await readFile(join(dir, name), 'utf8')) as unknown;
  const ready = ReadyMarker.safeParse(await json(READY_MARKER).catch(() => null)).data;
  if (!ready) return { ready: false, controllerOk: false };
  if (ready.controller === null) return { ready: true, controllerOk: null };
  const answered = ControllerMarker.safeParse(await json(CONTROLLER_MARKER).catch(() => null)).data;
  return { ready: true, controllerOk: answered !== undefined };
}

export function healthy(health: Health): boolean {
  return health.ready && health.controllerOk !== false;
}

export interface GateDeps {
  slots: BootSlots;
  state: UpdateState;
  status: StatusReporter;
  runningVersion: string;
  settings: () => Promise<UpdateSettings>;
  health: () => Promise<Health>;
  reboot: () => Promise<void>;
  now?: () => Date;
  /** Between looks at the markers (default 2 s). */
  pollMs?: number;
  log?: (message: string) => void;
}

export type GateResult = 'not-ab' | 'normal' | 'committed' | 'rolled-back' | 'did-not-finish';

export async function runHealthGate(deps: GateDeps): Promise<GateResult> {
  const now = deps.now ?? (() => new Date());
  const log = deps.log ?? (() => undefined);
  const view = await deps.slots.read();
  const kind = classifyBoot(view);
  const pending = deps.state.pendingTrial();
  if (kind === 'not-ab' || kind === 'normal') {
    deps.status.report(view, { phase: 'idle' });
    return kind;
  }
  const trialSlot = view.file.trial as Slot;
  // The version tried: this boot's own on a trial boot, else what the request said before the reboot.
  const triedVersion = kind === 'trial' ? deps.runningVersion : pending?.trialId === view.file.trialId ? pending.version : 'unknown';
  const record = (outcome: TrialOutcome['outcome'], detail: string): void => {
    deps.state.setLastTrial({ version: statusSentence(triedVersion), slot: trialSlot, outcome, detail: statusSentence(detail), at: now().toISOString() });
    deps.state.setPendingTrial(null);
    if (outcome !== 'committed') {
      const attempts = deps.state.targetAttempts();
      deps.state.setTargetAttempts({ version: triedVersion, failures: attempts?.version === triedVersion ? attempts.failures : 0, lastAt: now().toISOString(), lastMessage: detail, trialFailed: true });
    } else if (deps.state.targetAttempts()?.version === triedVersion) {
      deps.state.setTargetAttempts(null);
    }
  };

  if (kind === 'did-not-finish') {
    await deps.slots.cancelTrial();
    const detail = `The kiosk came back on slot ${view.file.slot.toUpperCase()}: the trial of slot ${trialSlot.toUpperCase()} never reached the health check (it did not start, hung, crashed or lost power).`;
    record('did-not-finish', detail);
    log(`trial of ${triedVersion} in slot ${trialSlot} did not finish; trial cleared`);
    deps.status.report(await deps.slots.read(), { phase: 'idle' });
    return 'did-not-finish';
  }

  const { trialMinutes } = await deps.settings();
  const started = now().getTime();
  const deadline = started + trialMinutes * 60_000;
  const waiting = `Trying version ${deps.runningVersion} in slot ${trialSlot.toUpperCase()}: waiting up to ${trialMinutes} min for the kiosk to be ready and reach its controller.`;
  deps.status.report(view, { phase: 'trial', targetVersion: deps.runningVersion, message: waiting });
  log(waiting);
  let health = await deps.health();
  while (!healthy(health) && now().getTime() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(deps.pollMs ?? 2000, Math.max(0, deadline - now().getTime()))));
    health = await deps.health();
  }
  if (healthy(health)) {
    await deps.slots.commit(trialSlot);
    const seconds = Math.round((now().getTime() - started) / 1000);
    record('committed', `The kiosk was ready${health.controllerOk === null ? ' (no controller is configured)' : ' and reached its controller'} ${seconds} s after the check began.`);
    log(`trial of ${deps.runningVersion} in slot ${trialSlot} committed`);
    deps.status.report(await deps.slots.read(), { phase: 'idle', message: `Version ${deps.runningVersion} is now the one this kiosk starts.` });
    return 'committed';
  }
  await deps.slots.cancelTrial();
  const missing = !health.ready ? 'the kiosk page was not ready' : 'the kiosk did not reach its controller';
  record('rolled-back', `Within ${trialMinutes} min ${missing}; the kiosk went back to slot ${view.file.slot.toUpperCase()}.`);
  log(`trial of ${deps.runningVersion} in slot ${trialSlot} failed (${missing}); rebooting into slot ${view.file.slot}`);
  deps.status.report(await deps.slots.read(), { phase: 'rebooting', targetVersion: deps.runningVersion, message: `The new version did not become healthy in time (${missing}): going back to the previous version.` });
  await deps.reboot();
  return 'rolled-back';
}
