/**
 * The kiosk in its controller's fleet (contract/fleet.ts, issue 11): it enrols, then checks in
 * every checkInSeconds (plus up to a tenth of jitter, so a room of kiosks switched on together does
 * not call at the same second). Pull-based: the kiosk always calls, so it works behind NAT and
 * opens no port.
 *
 * - Enrolment with the preset's fleet_token, or without (the controller may know the MAC). The
 *   credential (kioskId + secret) is kept in the settings directory (fleet/credential.json, 0600).
 *   A 403 (not registered) is asked again every few minutes and shown on the admin screen; it never
 *   holds up the kiosk. A 401 at check-in (secret rotated, kiosk forgotten): enrol again.
 * - Each check-in carries the kiosk's version, its inventory (inventory.ts), who sits at it, its
 *   health (healing.ts), what it did with the last settings, the outcomes of commands, and where it
 *   stands with its updates (the update agent's status, contract/update-status.ts).
 * - The answer's settings are applied when their revision is new (fleet-settings.ts) and kept as the
 *   last good copy, which is applied again at every start before the first check-in; its commands
 *   run once each (commands.ts).
 * - A failed check-in is tried again sooner, then later (15 s doubling to 10 minutes). When the
 *   fleet had moved the kiosk to an address that then fails, it goes back to the last address that
 *   worked and says so.
 *
 * Nothing here waits on the person at the kiosk or makes them wait: every call is asynchronous,
 * and close() ends the loop and aborts a call under way.
 */
import { randomUUID } from 'node:crypto';
import type { Identity } from '../../../contract/api.js';
import type { CheckIn, CheckInReply, Command, EnrolRequest, Enrolment, FleetSettings, SeatSession, ScreenshotUpload } from '../../../contract/fleet.js';
import type { PresetSystem } from '../../../contract/preset/keys.js';
import { UpdateStatus } from '../../../contract/update-status.js';
import { ControllerError, normaliseControllerUrl } from '../controller-client.js';
import type { FleetView, KioskEvent } from '../kiosk-api.js';
import type { Seat } from '../kiosk-service.js';
import type { KioskPreset } from '../preset.js';
import type { Settings } from '../settings.js';
import { FleetCommands, type CommandHandlers } from './commands.js';
import { FleetFiles, type StoredCredential } from './fleet-files.js';
import { applyFleetSettings, type SettingsTarget } from './fleet-settings.js';
import type { Healing } from './healing.js';
import { UNREACHABLE_AFTER_FAILURES } from './healing.js';
import { readBoard, readInventory, readMacs, readUptimeSeconds, shortText, type InventorySources } from './inventory.js';

/** The controller's side as the agent uses it (ControllerClient implements it). */
export interface FleetController {
  identity(): Promise<Identity>;
  enrol(request: EnrolRequest, signal?: AbortSignal): Promise<Enrolment>;
  checkIn(credential: string, request: CheckIn, signal?: AbortSignal): Promise<CheckInReply>;
  uploadScreenshot(credential: string, upload: ScreenshotUpload, signal?: AbortSignal): Promise<void>;
}

/** The kiosk service as the agent uses it. */
export interface FleetSeat {
  seat(): Seat | null;
  logOutPerson(): Promise<boolean>;
  setAutoConnect(value: string | null): void;
  emit(event: KioskEvent): void;
}

export interface FleetAgentOptions {
  settingsDir: string;
  settings: Settings;
  seat: FleetSeat;
  healing: Healing;
  /** The boot partition's kiosk keys and its fleet_token. */
  bootPreset: KioskPreset;
  fleetToken: string | null;
  kioskVersion: string;
  /** A client for a controller address. */
  controller: (url: string) => FleetController;
  inventory: InventorySources;
  /** This boot's id (healing.ts currentBootId), to know whether a boot has read the image's keys. */
  bootId: string | null;
  /** apply-preset's sentences on this boot (THINKIOSK_PRESET_PROBLEMS), to read its verdict on the fleet's image keys. */
  imagePresetProblems: () => string[];
  presetSystem: PresetSystem;
  setBootServer: ((enabled: boolean) => Promise<void>) | null;
  /** Ends the app so that its supervisor starts it again. */
  restartApp: () => void;
  reboot: () => Promise<void>;
  /** A PNG of the real screen (screen-capture.ts). */
  captureScreen: () => Promise<Buffer>;
  /**
   * The update agent's status for each check-in (slot, phase, progress, last trial); absent or null
   * outside an A/B image. A status that throws or breaks the contract goes as null (and is logged):
   * it must not cost the kiosk its check-in.
   */
  updateStatus?: () => UpdateStatus | null | Promise<UpdateStatus | null>;
  /** A crash loop was found at this start: the stored fleet settings wait for the controller. */
  safeStart?: boolean;
  now?: () => Date;
  random?: () => number;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** How long the page shows the kiosk's name (identify) and the screenshot notice. */
export const NOTICE_SECONDS = 10;
/** A kiosk its controller does not know asks again this often. */
export const NOT_REGISTERED_RETRY_MS = 5 * 60_000;
/** Backoff after failed check-ins: 15 s doubling, at most 10 minutes. */
export const FIRST_RETRY_MS = 15_000;
export const MAX_RETRY_MS = 10 * 60_000;
/** An address the kiosk left because it failed is not tried again for this long. */
export const ABANDONED_ADDRESS_MS = 30 * 60_000;

export type RoundOutcome = 'no-controller' | 'not-registered' | 'checked-in' | 'failed' | 'closed';

export class FleetAgent {
  private readonly files: FleetFiles;
  private readonly commands: FleetCommands;
  private readonly now: () => Date;
  private readonly random: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RoundOutcome> | null = null;
  private abort: AbortController | null = null;
  private closed = false;
  private restartAsked = false;
  private started = false;
  private safeStart: boolean;
  private uptimeAtReady: number | null = null;
  /** The last problem with the update status, logged once until it changes. */
  private updateStatusProblem: string | null = null;
  /** The address the kiosk just left for the last one that worked, told at the next check-in. */
  private fellBackFrom: string | null = null;
  private view: FleetView = { state: 'starting', name: null, controller: null, lastCheckIn: null, problem: null, revision: null };

  constructor(private readonly options: FleetAgentOptions) {
    this.files = new FleetFiles(options.settingsDir);
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.safeStart = options.safeStart ?? false;
    this.commands = new FleetCommands(this.files, this.commandHandlers(), this.now, options.log);
    const credential = this.files.readCredential();
    const state = this.files.readState();
    this.view = { ...this.view, name: credential?.name ?? null, lastCheckIn: state.lastCheckInAt, revision: state.applied?.revision ?? null };
  }

  /** What the admin screen shows. */
  status(): FleetView {
    return { ...this.view };
  }

  /**
   * Applies the last good settings (unless a crash loop was found at this start), then checks in
   * at once and goes on by itself until close().
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const lastGood = this.files.readState().lastGood;
    if (lastGood && !this.safeStart) {
      try {
        await this.apply(lastGood.settings, null);
        this.options.log('info', `fleet: applied the last good settings (revision ${lastGood.settings.revision}, received ${lastGood.receivedAt})`);
      } catch (error) {
        this.options.log('warn', `fleet: the last good settings could not be applied: ${String(error)}`);
      }
    }
    this.schedule(0);
  }

  /** The page has loaded: this boot's kernel start → kiosk ready, for the inventory. */
  async markReady(): Promise<void> {
    this.uptimeAtReady = await readUptimeSeconds(this.options.inventory.root);
  }

  /** One round now (tests; the loop goes on from its result). */
  checkInNow(): Promise<RoundOutcome> {
    clearTimeout(this.timer);
    return this.round();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.abort?.abort();
    await this.running?.catch(() => undefined);
    this.options.healing.recordStop(this.restartAsked);
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.round(), delayMs);
    this.timer.unref();
  }

  private round(): Promise<RoundOutcome> {
    this.running ??= this.roundOnce().catch((error: unknown) => {
      this.options.log('error', `fleet: check-in round failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      this.schedule(this.retryDelay(1));
      return 'failed' as const;
    }).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async roundOnce(): Promise<RoundOutcome> {
    if (this.closed) return 'closed';
    const url = this.options.settings.read().controllerUrl;
    if (!url) {
      this.view = { ...this.view, state: 'no-controller', controller: null, problem: null };
      this.schedule(this.interval(this.files.readCredential()?.checkInSeconds ?? 60));
      return 'no-controller';
    }
    const address = normaliseControllerUrl(url).toString();
    this.view.controller = address;
    this.options.healing.alive();
    this.options.healing.checkSpace();
    const client = this.options.controller(address);
    this.abort = new AbortController();
    const signal = this.abort.signal;

    let credential = this.files.readCredential();
    if (!credential) {
      credential = await this.enrol(client, address, signal);
      if (!credential) return this.closed ? 'closed' : this.view.state === 'not-registered' ? 'not-registered' : 'failed';
    }

    let body = await this.checkInBody();
    const sentAt = this.now();
    let reply: CheckInReply;
    try {
      reply = await client.checkIn(bearer(credential), body, signal);
    } catch (error) {
      if (this.closed) return 'closed';
      if (error instanceof ControllerError && error.status === 401) {
        this.options.log('warn', `fleet: ${address} no longer knows this kiosk (${error.detail}); enrolling again`);
        this.files.dropCredential();
        credential = await this.enrol(client, address, signal);
        if (!credential) return this.closed ? 'closed' : this.view.state === 'not-registered' ? 'not-registered' : 'failed';
        body = await this.checkInBody();
        try {
          reply = await client.checkIn(bearer(credential), body, signal);
        } catch (again) {
          return this.failed(address, again);
        }
      } else {
        return this.failed(address, error);
      }
    }
    if (this.closed) return 'closed';
    await this.answered(address, credential, body, reply, sentAt);
    return 'checked-in';
  }

  private async enrol(client: FleetController, address: string, signal: AbortSignal): Promise<StoredCredential | null> {
    this.view = { ...this.view, state: 'enrolling' };
    // Only what identifies the box: no display tool or firmware is asked for an enrolment.
    const sources = this.options.inventory;
    const [macs, board] = await Promise.all([readMacs(sources.root, sources.networkInterfaces()), readBoard(sources.root)]);
    if (!macs.length) {
      this.view = { ...this.view, state: 'not-registered', problem: 'This kiosk has no network card with a MAC address to enrol with.' };
      this.schedule(this.interval(NOT_REGISTERED_RETRY_MS / 1000));
      return null;
    }
    const request: EnrolRequest = {
      ...(this.options.fleetToken ? { siteToken: this.options.fleetToken } : {}),
      hardware: { macs, hostname: shortText(sources.hostname()), board },
    };
    let enrolment: Enrolment;
    try {
      enrolment = await client.enrol(request, signal);
    } catch (error) {
      if (this.closed) return null;
      if (error instanceof ControllerError && (error.status === 403 || error.status === 404)) {
        // 403: not registered (yet): an administrator registers the MAC or hands out a site token.
        // 404: a controller of a version without a fleet. Either way, asked again now and then.
        const problem = error.status === 403 ? error.message : `The controller at ${address} has no fleet (an older version).`;
        this.view = { ...this.view, state: 'not-registered', problem };
        this.options.log('warn', `fleet: ${address} ${error.status === 403 ? 'does not know this kiosk' : 'has no fleet'} (${error.detail}); asking again in ${NOT_REGISTERED_RETRY_MS / 60_000} minutes`);
        this.schedule(this.interval(NOT_REGISTERED_RETRY_MS / 1000));
        return null;
      }
      this.failed(address, error);
      return null;
    }
    const credential: StoredCredential = { ...enrolment, controllerUrl: address, enrolledAt: this.now().toISOString() };
    this.files.writeCredential(credential);
    this.view = { ...this.view, state: 'enrolled', name: enrolment.name, problem: null };
    this.options.log('info', `fleet: enrolled at ${address} as ${enrolment.name} (${enrolment.kioskId}), checking in every ${enrolment.checkInSeconds} s`);
    return credential;
  }

  private async checkInBody(): Promise<CheckIn> {
    const bootSeconds = this.options.healing.bootSeconds(this.uptimeAtReady);
    const [inventory, update] = await Promise.all([readInventory(this.options.inventory, bootSeconds), this.updateStatus()]);
    this.options.healing.observeInventory(inventory);
    return {
      kioskVersion: shortText(this.options.kioskVersion),
      // The slot as the update agent knows it (from the kernel command line): one reading of it.
      inventory: update?.bootedSlot ? { ...inventory, slot: update.bootedSlot } : inventory,
      session: seatSession(this.options.seat.seat()),
      health: this.options.healing.health(),
      applied: this.files.readState().applied,
      acks: this.commands.pending(),
      update,
    };
  }

  /** The update agent's status, checked against the contract; null when there is none or it is unusable. */
  private async updateStatus(): Promise<UpdateStatus | null> {
    const provider = this.options.updateStatus;
    if (!provider) return null;
    let problem: string | null = null;
    let status: UpdateStatus | null = null;
    try {
      const parsed = UpdateStatus.nullable().safeParse(await provider());
      if (parsed.success) status = parsed.data;
      else problem = `the update status breaks the contract (${parsed.error.issues.map((i) => `${i.path.join('.') || 'status'} ${i.message}`).join('; ')})`;
    } catch (error) {
      problem = `the update status could not be read: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (problem !== this.updateStatusProblem) {
      if (problem) this.options.log('warn', `fleet: ${problem}; the check-in goes without it`);
      else this.options.log('info', 'fleet: the update status is readable again');
      this.updateStatusProblem = problem;
    }
    return status;
  }

  private failed(address: string, error: unknown): RoundOutcome {
    if (this.closed) return 'closed';
    const at = this.now();
    const message = error instanceof ControllerError ? error.message : String(error);
    const detail = error instanceof ControllerError ? error.detail : String(error);
    const unreachable = this.options.healing.controllerFailed(address, at);
    const failures = this.options.healing.failuresInARow;
    this.view = { ...this.view, state: this.files.readCredential() ? 'unreachable' : 'enrolling', problem: message };
    this.options.log('warn', `fleet: check-in at ${address} failed (${failures} in a row): ${detail}`);
    // Moved here by the fleet, and it does not work: back to the last address that did.
    const state = this.files.readState();
    const fallback = state.lastWorkingController;
    if (unreachable && failures >= UNREACHABLE_AFTER_FAILURES && fallback && fallback !== address) {
      this.options.settings.update({ controllerUrl: fallback, controllerName: null, controllerBackend: null });
      this.files.updateState({ abandonedController: { url: address, at: at.toISOString() } });
      this.fellBackFrom = address;
      this.options.log('warn', `fleet: ${address} did not answer ${failures} check-ins; going back to ${fallback}, the last address that worked`);
      this.schedule(0);
      return 'failed';
    }
    this.schedule(this.retryDelay(failures));
    return 'failed';
  }

  private async answered(address: string, credential: StoredCredential, body: CheckIn, reply: CheckInReply, sentAt: Date): Promise<void> {
    const receivedAt = this.now();
    const state = this.files.readState();
    const fellBackFrom = this.fellBackFrom;
    this.fellBackFrom = null;
    this.options.healing.controllerAnswered(address, receivedAt, fellBackFrom);
    this.options.healing.reported(body.health, receivedAt);
    this.commands.told(body.acks);
    if (reply.name !== credential.name || reply.checkInSeconds !== credential.checkInSeconds) {
      this.files.writeCredential({ ...credential, name: reply.name, checkInSeconds: reply.checkInSeconds });
    }
    this.files.updateState({ lastWorkingController: address, lastCheckInAt: receivedAt.toISOString() });
    this.view = { ...this.view, state: 'enrolled', name: reply.name, lastCheckIn: receivedAt.toISOString(), problem: null };
    await this.options.healing.checkClock(new Date(reply.serverTime), sentAt, receivedAt);

    const applied = state.applied;
    // Also while the kiosk is not at the address the fleet names (it went back from it): tried again in time.
    const wantedController = reply.settings.values.controller;
    const elsewhere = wantedController !== undefined && !sameAddress(wantedController, address);
    if (this.safeStart || !applied || applied.revision !== reply.settings.revision || elsewhere) {
      this.safeStart = false;
      const previous = state.lastGood?.settings ?? null;
      await this.apply(reply.settings, previous);
      this.files.updateState({ lastGood: { settings: reply.settings, receivedAt: receivedAt.toISOString() } });
    }
    this.schedule(this.interval(reply.checkInSeconds));
    // Commands last: a restart or reboot among them ends this app once everything above is saved.
    await this.commands.run(reply.commands);
  }

  private async apply(settings: FleetSettings, previous: FleetSettings | null): Promise<void> {
    const { applied, controllerChanged } = await applyFleetSettings(settings, previous, this.settingsTarget(), this.now());
    this.files.updateState({ applied });
    this.view = { ...this.view, revision: applied.revision };
    // The page shows some of them (the language) and does not ask by itself.
    this.options.seat.emit({ type: 'settings-changed' });
    const rejected = Object.entries(applied.keys).filter(([, outcome]) => outcome === 'rejected').map(([key]) => key);
    this.options.log(rejected.length ? 'warn' : 'info', `fleet: settings revision ${applied.revision}: ${Object.entries(applied.keys).map(([key, outcome]) => `${key} ${outcome}`).join(', ') || 'no keys'}${applied.problems.length ? ` (${applied.problems.join('; ')})` : ''}`);
    if (controllerChanged) this.schedule(0);
  }

  private settingsTarget(): SettingsTarget {
    const files = this.files;
    return {
      settings: this.options.settings,
      bootPreset: this.options.bootPreset,
      setAutoConnect: (value) => this.options.seat.setAutoConnect(value),
      setBootServer: this.options.setBootServer,
      probeController: (url) => this.options.controller(url).identity(),
      system: this.options.presetSystem,
      readImagePreset: () => files.readImagePreset(),
      writeImagePreset: (text) => {
        files.writeImagePreset(text);
        files.updateState({ imagePresetWrittenBoot: this.options.bootId });
      },
      imagePresetBoot: () => {
        const written = files.readState().imagePresetWrittenBoot;
        const readThisBoot = files.readImagePreset() !== null && this.options.bootId !== null && written !== this.options.bootId;
        return { readThisBoot, problems: readThisBoot ? this.options.imagePresetProblems() : [] };
      },
      avoidController: (url) => {
        const abandoned = files.readState().abandonedController;
        if (!abandoned || abandoned.url !== url) return null;
        const until = Date.parse(abandoned.at) + ABANDONED_ADDRESS_MS;
        return this.now().getTime() < until
          ? `controller ${url} did not answer check-ins (${abandoned.at}); the kiosk went back to the last address that worked and tries ${url} again after ${new Date(until).toISOString()}`
          : null;
      },
    };
  }

  private commandHandlers(): CommandHandlers {
    const credential = (): string => {
      const stored = this.files.readCredential();
      if (!stored) throw new Error('the kiosk is not enrolled');
      return bearer(stored);
    };
    return {
      'restart-app': async () => ({
        detail: 'the kiosk app restarted',
        finally: async () => {
          this.restartAsked = true;
          this.options.restartApp();
        },
      }),
      reboot: async () => ({
        detail: 'the kiosk rebooted',
        finally: async () => {
          await this.options.reboot();
          this.restartAsked = true;
        },
      }),
      identify: async () => {
        const name = this.view.name ?? this.options.inventory.hostname();
        this.options.seat.emit({ type: 'identify', name, seconds: NOTICE_SECONDS });
        return { detail: `showed "${name}" on the screen for ${NOTICE_SECONDS} s` };
      },
      screenshot: async (command: Command) => {
        const png = await this.options.captureScreen();
        // Whoever is at the kiosk is told, after the picture (the notice is not in it).
        this.options.seat.emit({ type: 'screenshot-taken', seconds: NOTICE_SECONDS });
        const url = this.options.settings.read().controllerUrl;
        if (!url) throw new Error('the kiosk has no controller to send the screenshot to');
        await this.options.controller(normaliseControllerUrl(url).toString()).uploadScreenshot(credential(), { commandId: command.id, pngBase64: png.toString('base64') }, this.abort?.signal);
        return { detail: `screenshot sent (${Math.round(png.length / 1024)} KiB)` };
      },
      logout: async () => {
        const seat = this.options.seat.seat();
        const loggedOut = await this.options.seat.logOutPerson();
        return { detail: loggedOut && seat ? `logged ${seat.user} out; the login screen is back` : 'nobody was logged in' };
      },
    };
  }

  /** checkInSeconds plus 0–10 % jitter. */
  private interval(seconds: number): number {
    return Math.round(seconds * 1000 * (1 + this.random() * 0.1));
  }

  private retryDelay(failures: number): number {
    const base = Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1), MAX_RETRY_MS);
    return Math.round(base * (1 + this.random() * 0.1));
  }
}

function sameAddress(a: string, b: string): boolean {
  try {
    return normaliseControllerUrl(a).toString() === normaliseControllerUrl(b).toString();
  } catch {
    return false;
  }
}

function bearer(credential: Pick<StoredCredential, 'kioskId' | 'secret'>): string {
  return `${credential.kioskId}.${credential.secret}`;
}

function seatSession(seat: Seat | null): SeatSession {
  if (!seat) return null;
  return { user: shortText(seat.user), desktop: seat.desktop === null ? null : shortText(seat.desktop), protocol: seat.protocol, since: seat.since.toISOString() };
}

/** A fresh id (tests make commands with it). */
export const newCommandId = (): string => randomUUID();
