/**
 * Root's update agent: installs a bundle into the slot that is not running, asks the boot loader for
 * a trial of it, and reboots (image/ab-slots.md, "Update flow"). Sources: an address typed on the
 * admin screen, a USB stick, or the version the settings name (update_version + update_url, a
 * fleet's group target). Progress and failures go to the status file as sentences.
 *
 * Never while a trial runs: this boot's slot must be the committed one, so the other slot (the one
 * written) is never the way back.
 */
import type { Readable } from 'node:stream';
import type { Architecture } from '../../../contract/update-bundle.js';
import type { Slot } from '../../../contract/update-status.js';
import type { BootSlots, SlotView } from './boot-slots.js';
import { installBundle, type InstallProgress } from './install.js';
import type { TrustedKeys } from './signing-keys.js';
import type { SlotTarget } from './slot-target.js';
import { withSlotLabel } from './slot-label.js';
import type { BundleChoice, MountedSticks } from './usb-bundles.js';
import { UpdateError } from './update-error.js';
import type { UpdateRequest } from './update-request.js';
import type { UpdateSettings } from './update-settings.js';
import { bundleUrlFor } from './update-settings.js';
import type { UpdateState } from './update-state.js';
import type { Activity, StatusReporter } from './update-status-report.js';
import { decideTarget } from './update-target.js';

export interface UpdateAgentDeps {
  slots: BootSlots;
  state: UpdateState;
  status: StatusReporter;
  runningVersion: string;
  architecture: Architecture;
  settings: () => Promise<UpdateSettings>;
  trustedKeys: () => TrustedKeys;
  /** The partition of a slot (partition 2 or 3 of the layout's disk). */
  slotTarget: (slot: Slot) => Promise<SlotTarget>;
  download: (url: string, signal?: AbortSignal) => Readable;
  openFile: (file: string) => Readable;
  mountSticks: () => Promise<MountedSticks>;
  chooseBundle: (dirs: readonly string[]) => Promise<BundleChoice | null>;
  /** Gives the written root its slot's file system label (TKROOT-A/B), which the initramfs mounts by. */
  reboot: () => Promise<void>;
  now?: () => Date;
  log?: (message: string) => void;
}

export type AgentResult = 'rebooting' | 'failed' | 'nothing';

const other = (slot: Slot): Slot => (slot === 'a' ? 'b' : 'a');

export class UpdateAgent {
  private readonly now: () => Date;
  private readonly log: (message: string) => void;

  constructor(private readonly deps: UpdateAgentDeps) {
    this.now = deps.now ?? (() => new Date());
    this.log = deps.log ?? (() => undefined);
  }

  async handle(request: UpdateRequest): Promise<AgentResult> {
    const view = await this.deps.slots.read();
    if (request.source === 'target') return this.target(view);
    if (request.source === 'url') return this.install(view, request.url, () => this.deps.download(request.url), null);
    return this.fromUsb(view);
  }

  private async target(view: SlotView): Promise<AgentResult> {
    const settings = await this.deps.settings();
    const attempts = this.deps.state.targetAttempts();
    const decision = decideTarget(settings, this.deps.runningVersion, attempts, this.now());
    if (decision.action === 'none') {
      // Only the status says so: nothing was tried, so no failure phase.
      if (this.busy(view) === null) this.report(view, { phase: 'idle', message: decision.message });
      return 'nothing';
    }
    let url: string;
    try {
      url = bundleUrlFor(decision.urlTemplate, decision.version, this.deps.architecture);
    } catch (error) {
      this.report(view, { phase: 'failed', targetVersion: decision.version, message: (error as Error).message });
      return 'failed';
    }
    const result = await this.install(view, `settings: ${url}`, () => this.deps.download(url), decision.version);
    if (result === 'failed') {
      const mine = attempts?.version === decision.version ? attempts : null;
      const failures = (mine?.failures ?? 0) + 1;
      this.deps.state.setTargetAttempts({ version: decision.version, failures, lastAt: this.now().toISOString(), lastMessage: this.deps.state.status()?.message ?? null, trialFailed: false });
      const again = decideTarget(settings, this.deps.runningVersion, this.deps.state.targetAttempts(), this.now());
      const status = this.deps.state.status();
      if (again.action === 'none' && again.message) this.report(view, { phase: 'failed', targetVersion: decision.version, source: status?.source ?? null, message: again.message });
    }
    return result;
  }

  private async fromUsb(view: SlotView): Promise<AgentResult> {
    const refused = this.busy(view);
    if (refused) return this.fail(view, { phase: 'failed', message: refused });
    this.report(view, { phase: 'downloading', source: 'USB stick', message: 'Looking for an update on the USB stick…' });
    let sticks: MountedSticks;
    try {
      sticks = await this.deps.mountSticks();
    } catch (error) {
      return this.fail(view, { phase: 'failed', source: 'USB stick', message: `The USB stick could not be read (${(error as Error).message}).` });
    }
    try {
      if (!sticks.dirs.length) {
        const why = sticks.failures.length ? ` (${sticks.failures.join('; ')})` : '';
        return this.fail(view, { phase: 'failed', source: 'USB stick', message: `No USB stick with a readable file system was found${why}. Plug it in and try again.` });
      }
      const choice = await this.deps.chooseBundle(sticks.dirs);
      if (!choice) return this.fail(view, { phase: 'failed', source: 'USB stick', message: `No update for this kiosk (a .tkupdate file of this kiosk's build machine, for ${this.deps.architecture}) is on the USB stick.` });
      const name = choice.file.split('/').at(-1)!;
      for (const p of choice.passedOver) this.log(`USB: passed over ${p.file}: ${p.why}`);
      this.log(`USB: chose ${choice.file} (${choice.manifest.version}, built ${choice.manifest.created})`);
      return await this.install(view, `USB stick: ${name}`, () => this.deps.openFile(choice.file), choice.manifest.version);
    } finally {
      await sticks.release();
    }
  }

  /** Why nothing may be installed now, or null. */
  private busy(view: SlotView): string | null {
    if (view.booted === null) return 'This kiosk does not run the A/B image (no thinkiosk.slot on its kernel command line): it cannot update itself. Flash the new image instead.';
    if (view.booted !== view.file.slot) return 'A trial of a new version is running: wait until it is committed or rolled back.';
    return null;
  }

  private async install(view: SlotView, source: string, open: () => Readable, expectedVersion: string | null): Promise<AgentResult> {
    const refused = this.busy(view);
    if (refused) return this.fail(view, { phase: 'failed', source, message: refused });
    const inactive = other(view.booted!);
    const settings = await this.deps.settings();
    try {
      // A trial of the slot about to be overwritten must not be started by the boot loader.
      if (view.file.trial === inactive) await this.deps.slots.cancelTrial();
      const target = withSlotLabel(await this.deps.slotTarget(inactive), inactive);
      this.report(view, { phase: 'downloading', targetVersion: expectedVersion, source, percent: 0, message: `Getting the update from ${source}…` });
      let lastPercent = -1;
      let loggedTenth = -1;
      const manifest = await installBundle(open(), target, this.deps.trustedKeys(), this.deps.runningVersion, {
        allowDowngrade: settings.allowDowngrade,
        architecture: this.deps.architecture,
        onProgress: (p) => {
          const activity = progressActivity(p);
          if (activity.percent !== lastPercent || p.phase === 'checking') {
            lastPercent = activity.percent ?? -1;
            this.report(view, { ...activity, targetVersion: expectedVersion, source });
          }
          // The journal (and a box's serial console) gets a line every tenth of the way.
          const tenth = Math.floor((activity.percent ?? 0) / 10);
          if (tenth !== loggedTenth) {
            loggedTenth = tenth;
            this.log(`${activity.phase} ${tenth * 10}% (${source})`);
          }
        },
      });
      if (expectedVersion !== null && manifest.version !== expectedVersion) {
        // The slot holds a good bundle, but not the one asked for: not tried.
        throw new UpdateError('not-a-bundle', `The bundle at ${source} is version ${manifest.version}, not the ${expectedVersion} the settings ask for. Check update_url.`, 'version mismatch');
      }
      const trialId = await this.deps.slots.requestTrial(inactive);
      this.deps.state.setPendingTrial({ version: manifest.version, slot: inactive, trialId, source, requestedAt: this.now().toISOString() });
      this.report(await this.deps.slots.read(), { phase: 'rebooting', targetVersion: manifest.version, source, percent: 100, message: `Version ${manifest.version} is written to slot ${inactive.toUpperCase()}: restarting to try it.` });
      this.log(`installed ${manifest.version} into slot ${inactive} from ${source}; trial ${trialId} requested, rebooting`);
      await this.deps.reboot();
      return 'rebooting';
    } catch (error) {
      const message = error instanceof UpdateError ? error.message : `The update failed: ${(error as Error).message}`;
      this.log(`install from ${source} failed: ${error instanceof UpdateError ? `${error.kind}: ${error.detail}` : String(error)}`);
      return this.fail(view, { phase: 'failed', targetVersion: expectedVersion, source, message });
    }
  }

  private fail(view: SlotView, activity: Activity): AgentResult {
    this.report(view, activity);
    return 'failed';
  }

  private report(view: SlotView, activity: Activity): void {
    this.deps.status.report(view, activity);
  }
}

/** The installer's progress as the status shows it: download and write are one stream. */
export function progressActivity(p: InstallProgress): Activity {
  const percent = p.bytesTotal > 0 ? (100 * p.bytesDone) / p.bytesTotal : 0;
  switch (p.phase) {
    case 'checking': return { phase: 'downloading', percent: 0, message: 'Checking the update\'s signature…' };
    case 'writing': return { phase: 'writing', percent, message: 'Writing the update into the other slot…' };
    case 'verifying':
    case 'finishing': return { phase: 'verifying', percent, message: 'Reading the written slot back…' };
    case 'done': return { phase: 'verifying', percent: 100, message: 'Written and checked.' };
  }
}
