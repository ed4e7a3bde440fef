/**
 * Known faults a kiosk can find on itself, the repair where one exists, and a Repair for the fleet
 * at the next check-in (contract/fleet.ts Fault). What is not yet told is kept in the fleet's
 * outbox on the settings partition, so a restart does not lose it.
 *
 * - crash loop: a small start journal (fleet/starts.json): a start with no clean stop before it in
 *   the same boot followed a crash (in another boot: the box lost power or was reset, which is no
 *   crash of the app). Three crashes within ten minutes: this start goes back to the settings of the
 *   last run that lasted (a copy taken once a run has been up for ten minutes), leaves the fleet's
 *   stored settings out until the controller has been heard again, and drops the kiosk's caches.
 * - settings partition full: below a threshold of free space, what the kiosk can rebuild is deleted
 *   (its caches, logs and screenshots, temporary files a killed write left) and the bytes freed told.
 * - wrong clock: the controller's time and the kiosk's differ by more than five minutes. The kiosk
 *   runs as an unprivileged user on the image and may not set the clock: reported, with what to
 *   check; a clock setter, where one is given, sets it.
 * - controller unreachable: several check-ins in a row failed; the kiosk goes on with its last good
 *   settings (and the fleet agent goes back to the last address that worked when the fleet moved
 *   it), and tells when the controller answers again.
 * - under-voltage: a Raspberry Pi's firmware saw its supply sag: told once a boot, nothing the box
 *   can do about it.
 */
import { copyFileSync, existsSync, lstatSync, readdirSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Fault, Health, Inventory, Repair } from '../../../contract/fleet.js';
import type { FleetFiles } from './fleet-files.js';

/** How many crashes, in how long, make a crash loop. */
export const CRASH_LOOP_CRASHES = 3;
export const CRASH_LOOP_WINDOW_MS = 10 * 60_000;
/** A run this long is one whose settings are worth going back to. */
export const KNOWN_GOOD_AFTER_MS = 10 * 60_000;
/** More than this between the controller's clock and the kiosk's is a wrong clock. */
export const CLOCK_TOLERANCE_MS = 5 * 60_000;
/** Failed check-ins in a row before the controller counts as unreachable. */
export const UNREACHABLE_AFTER_FAILURES = 3;
/** Free space below this on the settings partition is a full partition. */
export const DEFAULT_MIN_FREE_BYTES = 16 * 1024 * 1024;
/** What the kiosk can rebuild in its settings directory (never settings, credentials or known hosts). */
export const REBUILDABLE_DIRS = ['cache', 'logs', 'screenshots'] as const;
const STARTS_KEPT = 50;
const JOURNAL_NAME = 'starts.json';

const StartRecord = z.object({
  startedAt: z.string(),
  bootId: z.string().nullable(),
  /** Last seen running (each check-in round): when a crash happened, at the latest. */
  aliveAt: z.string(),
  stoppedAt: z.string().nullable(),
  /** clean: the app was stopped (shutdown, SIGTERM); asked: the fleet asked for it (restart, reboot). */
  stop: z.enum(['clean', 'asked']).nullable(),
  /** How the run before this one ended. */
  previous: z.enum(['first', 'clean', 'asked', 'crash', 'power-lost']),
});
type StartRecord = z.infer<typeof StartRecord>;

const Journal = z.object({
  starts: z.array(StartRecord),
  lastCrash: z.object({ at: z.string(), reason: z.string() }).nullable(),
  /** Starts up to here are told to the fleet. */
  reportedUpTo: z.string().nullable(),
  /** This boot's kernel start → kiosk ready, once measured. */
  boot: z.object({ id: z.string(), seconds: z.number() }).nullable(),
  /** The boot in which under-voltage was last told. */
  underVoltageToldBoot: z.string().nullable(),
});
type Journal = z.infer<typeof Journal>;

const EMPTY_JOURNAL: Journal = { starts: [], lastCrash: null, reportedUpTo: null, boot: null, underVoltageToldBoot: null };

/** The kernel's id of this boot; null where there is none (not Linux). */
export function currentBootId(root = '/'): string | null {
  try {
    return readFileSync(join(root, 'proc/sys/kernel/random/boot_id'), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

export interface HealingOptions {
  files: FleetFiles;
  /** settings.json (restored from the known-good copy in a crash loop). */
  settingsFile: string;
  bootId: string | null;
  now: () => Date;
  minFreeBytes?: number;
  /** Sets the system clock, where the kiosk may (not on the image: it is not root). */
  setClock?: (to: Date) => Promise<void>;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface StartOutcome {
  /** The run before this one crashed. */
  crashed: boolean;
  /** A crash loop was found at this start: the fleet's stored settings are left out until the controller answers. */
  safeStart: boolean;
}

export class Healing {
  private readonly startedAt: Date;
  private knownGoodTaken = false;
  private unreachable: { url: string; since: string; failures: number } | null = null;
  private clockWrong = false;
  private spaceLow = false;

  constructor(private readonly options: HealingOptions) {
    this.startedAt = options.now();
  }

  private readJournal(): Journal {
    return this.options.files.readJson(JOURNAL_NAME, Journal) ?? { ...EMPTY_JOURNAL, starts: [] };
  }

  private writeJournal(journal: Journal): void {
    this.options.files.writeJson(JOURNAL_NAME, { ...journal, starts: journal.starts.slice(-STARTS_KEPT) });
  }

  /** Records this start, finds a crash loop and repairs it. Call before settings.json is read. */
  recordStart(): StartOutcome {
    const now = this.startedAt;
    const journal = this.readJournal();
    const last = journal.starts.at(-1);
    let previous: StartRecord['previous'] = 'first';
    if (last) {
      if (last.stop) previous = last.stop;
      else previous = last.bootId !== null && last.bootId === this.options.bootId ? 'crash' : 'power-lost';
    }
    if (previous === 'crash' && last) {
      journal.lastCrash = { at: last.aliveAt, reason: 'the kiosk app ended without stopping cleanly (a crash, or it was killed)' };
      this.options.log('warn', `fleet: the kiosk app's last run (started ${last.startedAt}, last seen ${last.aliveAt}) ended without a clean stop`);
    }
    journal.starts.push({ startedAt: now.toISOString(), bootId: this.options.bootId, aliveAt: now.toISOString(), stoppedAt: null, stop: null, previous });
    this.writeJournal(journal);

    const windowStart = now.getTime() - CRASH_LOOP_WINDOW_MS;
    const recentCrashes = journal.starts.filter((start) => start.previous === 'crash' && Date.parse(start.startedAt) >= windowStart).length;
    if (recentCrashes < CRASH_LOOP_CRASHES) return { crashed: previous === 'crash', safeStart: false };

    const done: string[] = [];
    const knownGood = this.options.files.path('settings-known-good.json');
    if (existsSync(knownGood)) {
      try {
        copyFileSync(knownGood, this.options.settingsFile);
        done.push('went back to the settings of the last run that lasted ten minutes');
      } catch (error) {
        this.options.log('warn', `fleet: could not restore the known-good settings: ${String(error)}`);
      }
    }
    done.push('left the fleet\'s stored settings out until the controller answers');
    const freed = removeRebuildable(this.options.files.settingsDir);
    if (freed > 0) done.push(`dropped ${formatBytes(freed)} of caches`);
    this.addRepair('crash-loop', `the kiosk app ended without a clean stop ${recentCrashes} times in ${CRASH_LOOP_WINDOW_MS / 60_000} minutes`, done.join('; '), false);
    this.options.log('warn', `fleet: crash loop (${recentCrashes} crashes in 10 minutes): ${done.join('; ')}`);
    return { crashed: true, safeStart: true };
  }

  /** The app stops: `asked` when the fleet or the system asked for it (restart, reboot, shutdown). */
  recordStop(asked: boolean): void {
    const journal = this.readJournal();
    const current = journal.starts.at(-1);
    if (!current || current.startedAt !== this.startedAt.toISOString()) return;
    current.stoppedAt = this.options.now().toISOString();
    current.stop = asked ? 'asked' : 'clean';
    this.writeJournal(journal);
  }

  /** Each check-in round: still running; and after ten minutes, these settings are worth going back to. */
  alive(): void {
    const now = this.options.now();
    const journal = this.readJournal();
    const current = journal.starts.at(-1);
    if (current && current.startedAt === this.startedAt.toISOString()) {
      current.aliveAt = now.toISOString();
      this.writeJournal(journal);
    }
    if (!this.knownGoodTaken && now.getTime() - this.startedAt.getTime() >= KNOWN_GOOD_AFTER_MS && existsSync(this.options.settingsFile)) {
      try {
        copyFileSync(this.options.settingsFile, this.options.files.path('settings-known-good.json'));
        this.knownGoodTaken = true;
      } catch (error) {
        this.options.log('warn', `fleet: could not keep a known-good copy of the settings: ${String(error)}`);
      }
    }
  }

  /** This boot's kernel start → kiosk ready (the first ready of the boot counts). */
  bootSeconds(uptimeAtReady: number | null): number | null {
    const journal = this.readJournal();
    const id = this.options.bootId;
    if (journal.boot && journal.boot.id === id) return journal.boot.seconds;
    if (uptimeAtReady === null || id === null) return null;
    journal.boot = { id, seconds: Math.round(uptimeAtReady * 10) / 10 };
    this.writeJournal(journal);
    return journal.boot.seconds;
  }

  /** What the next check-in tells (restarts and crashes since the last one that got through). */
  health(): Health {
    const journal = this.readJournal();
    const since = journal.reportedUpTo ? Date.parse(journal.reportedUpTo) : -Infinity;
    const unreported = journal.starts.filter((start) => Date.parse(start.startedAt) > since && start.previous !== 'first');
    return {
      restarts: unreported.length,
      crashes: unreported.filter((start) => start.previous === 'crash').length,
      lastCrash: journal.lastCrash,
      repairs: this.options.files.readOutbox().repairs,
    };
  }

  /** A check-in that carried `health` got through: its starts and repairs are told. */
  reported(health: Health, at: Date): void {
    const journal = this.readJournal();
    journal.reportedUpTo = at.toISOString();
    this.writeJournal(journal);
    const told = new Set(health.repairs.map((repair) => JSON.stringify(repair)));
    this.options.files.updateOutbox((outbox) => ({ ...outbox, repairs: outbox.repairs.filter((repair) => !told.has(JSON.stringify(repair))) }));
  }

  /** Free space on the settings partition; below the threshold, what can be rebuilt goes. */
  checkSpace(): void {
    const minFree = this.options.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES;
    const before = freeBytes(this.options.files.settingsDir);
    if (before === null) return;
    if (before >= minFree) {
      this.spaceLow = false;
      return;
    }
    if (this.spaceLow) return; // told already; nothing more to delete
    this.spaceLow = true;
    const freed = removeRebuildable(this.options.files.settingsDir);
    const after = freeBytes(this.options.files.settingsDir) ?? before;
    const repaired = after >= minFree;
    this.addRepair('settings-full', `the settings partition had ${formatBytes(before)} free (less than ${formatBytes(minFree)})`,
      freed > 0 ? `deleted ${formatBytes(freed)} of the kiosk's caches, logs, screenshots and leftover temporary files` : 'nothing the kiosk can rebuild was there to delete', repaired);
    this.options.log('warn', `fleet: settings partition low on space (${formatBytes(before)} free): freed ${formatBytes(freed)}`);
    if (repaired) this.spaceLow = false;
  }

  /** The controller's clock against the kiosk's, at the middle of the request. */
  async checkClock(serverTime: Date, sentAt: Date, receivedAt: Date): Promise<void> {
    const localMiddle = (sentAt.getTime() + receivedAt.getTime()) / 2;
    const offsetMs = serverTime.getTime() - localMiddle;
    if (Math.abs(offsetMs) <= CLOCK_TOLERANCE_MS) {
      this.clockWrong = false;
      return;
    }
    if (this.clockWrong) return;
    this.clockWrong = true;
    const detail = `the kiosk's clock is ${describeOffset(offsetMs)} the controller's`;
    if (this.options.setClock) {
      try {
        await this.options.setClock(new Date(this.options.now().getTime() + offsetMs));
        this.addRepair('clock-wrong', detail, 'set the clock to the controller\'s time', true);
        this.clockWrong = false;
        return;
      } catch (error) {
        this.addRepair('clock-wrong', `${detail}; setting it failed (${error instanceof Error ? error.message : String(error)})`, null, false);
        return;
      }
    }
    this.addRepair('clock-wrong', `${detail}; the kiosk may not set it: check that the network's time server (NTP) is reachable`, null, false);
  }

  /** A check-in failed at `url`. */
  controllerFailed(url: string, at: Date): boolean {
    if (!this.unreachable || this.unreachable.url !== url) this.unreachable = { url, since: at.toISOString(), failures: 0 };
    this.unreachable.failures += 1;
    return this.unreachable.failures >= UNREACHABLE_AFTER_FAILURES;
  }

  get failuresInARow(): number {
    return this.unreachable?.failures ?? 0;
  }

  /** A check-in got through: an outage long enough to count is told, with what the kiosk did meanwhile. */
  controllerAnswered(url: string, at: Date, fellBackFrom: string | null): void {
    const outage = this.unreachable;
    this.unreachable = null;
    if (!outage || outage.failures < UNREACHABLE_AFTER_FAILURES) {
      if (fellBackFrom) this.addRepair('controller-unreachable', `the controller at ${fellBackFrom} did not answer`, `went back to ${url}, the last address that worked`, true);
      return;
    }
    const action = fellBackFrom ? `ran on the last good settings and went back to ${url}, the last address that worked` : 'ran on the last good settings';
    this.addRepair('controller-unreachable', `the controller at ${fellBackFrom ?? outage.url} did not answer ${outage.failures} check-ins from ${outage.since} to ${at.toISOString()}`, action, true);
  }

  /** Power flags in the inventory: under-voltage is told once a boot. */
  observeInventory(inventory: Inventory): void {
    const flags = inventory.throttling;
    if (!flags || !(flags.underVoltage || flags.underVoltageSinceBoot)) return;
    const journal = this.readJournal();
    const boot = this.options.bootId ?? 'unknown';
    if (journal.underVoltageToldBoot === boot) return;
    journal.underVoltageToldBoot = boot;
    this.writeJournal(journal);
    const when = flags.underVoltage ? 'now' : 'earlier in this boot';
    this.addRepair('under-voltage', `the Raspberry Pi's supply voltage was too low (${when}${flags.throttledSinceBoot ? ', and it throttled itself' : ''}): use the official power supply`, null, false);
  }

  private addRepair(fault: Fault, detail: string, action: string | null, repaired: boolean): void {
    const repair: Repair = { fault, at: this.options.now().toISOString(), detail: detail.slice(0, 200), action: action?.slice(0, 200) ?? null, repaired };
    this.options.files.updateOutbox((outbox) => ({ ...outbox, repairs: [...outbox.repairs, repair] }));
  }
}

/** Free bytes for an unprivileged writer on the file system of `dir`; null when unknown. */
export function freeBytes(dir: string): number | null {
  try {
    const stats = statfsSync(dir);
    return stats.bavail * stats.bsize;
  } catch {
    return null;
  }
}

/** A temporary file of an atomic write (`<file>.<pid>.tmp`) whose writer is gone. */
const LEFTOVER_TEMP = /\.(\d+)\.tmp$/;

/** Deletes what the kiosk can rebuild in its settings directory; returns the bytes freed. */
export function removeRebuildable(settingsDir: string): number {
  let freed = 0;
  for (const name of REBUILDABLE_DIRS) {
    const dir = join(settingsDir, name);
    freed += sizeOf(dir);
    rmSync(dir, { recursive: true, force: true });
  }
  for (const dir of [settingsDir, join(settingsDir, 'fleet')]) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const match = LEFTOVER_TEMP.exec(name);
      if (!match || Number(match[1]) === process.pid) continue;
      freed += sizeOf(join(dir, name));
      rmSync(join(dir, name), { force: true });
    }
  }
  return freed;
}

function sizeOf(path: string): number {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.blocks * 512 || stat.size;
  let total = 0;
  for (const name of readdirSync(path)) total += sizeOf(join(path, name));
  return total;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round(bytes / (1024 * 1024) * 10) / 10} MiB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KiB`;
  return `${bytes} bytes`;
}

function describeOffset(offsetMs: number): string {
  const minutes = Math.round(Math.abs(offsetMs) / 60_000);
  const amount = minutes >= 120 ? `${Math.round(minutes / 60)} hours` : `${minutes} minutes`;
  return `${amount} ${offsetMs > 0 ? 'behind' : 'ahead of'}`;
}
