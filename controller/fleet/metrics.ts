/**
 * The fleet's Prometheus series (controller/monitoring's dashboard and Zabbix template read them).
 * They are registered on the controller's own Registry and computed when scraped, from one read of
 * the fleet store that serves every series of that scrape (and scrapes within a few seconds of it),
 * so a scrape of thousands of kiosks costs one query. Only check_ins_total is counted as it
 * happens, by this instance: Prometheus sums it over instances.
 *
 * Every instance sharing a PostgreSQL fleet exports the same fleet-wide gauges; dashboards take
 * max (or scrape one instance) for those.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { KioskState } from '../../contract/fleet.js';
import { TrialOutcome, UpdatePhase } from '../../contract/update-status.js';

type TrialResult = TrialOutcome['outcome'];
const TRIAL_RESULTS: readonly TrialResult[] = TrialOutcome.shape.outcome.options;

/** One kiosk as the series need it. */
export interface KioskReading {
  name: string;
  state: KioskState;
  /** The image's version, or "unknown" before its first check-in. */
  version: string;
  lastCheckIn: Date | null;
  temperatureC: number | null;
  throttled: boolean;
  restarts: number;
  crashes: number;
  /** The protocol of the seat's open desktop ("none" when logged in without one), or null when nobody is. */
  seat: string | null;
  /** The version its update status says it runs ("0.2.0": what update_version names); null without one. */
  runningVersion: string | null;
  /** What its update agent was doing at the last check-in; null when it reports no update status. */
  updatePhase: UpdatePhase | null;
  /** How its last trial boot ended; null when it reports none. */
  lastTrial: TrialResult | null;
}

export interface FleetReading {
  kiosks: KioskReading[];
  repairs: Array<{ fault: string; repaired: boolean; total: number }>;
}

export type CheckInResult = 'ok' | 'refused' | 'invalid' | 'error';

export interface FleetMetricsOptions {
  /** How long one read of the store serves scrapes. */
  cacheSeconds: number;
  clock: () => Date;
}

export class FleetMetrics {
  /** Check-ins by result: ok, refused (credential not known), invalid (body), error (the controller's fault). */
  readonly checkIns: Counter<'result'>;
  private cached: { at: number; reading: Promise<FleetReading> } | null = null;

  constructor(registry: Registry, private readonly read: () => Promise<FleetReading>, private readonly options: FleetMetricsOptions) {
    const registers = [registry];
    const reading = () => this.reading();
    this.checkIns = new Counter({ name: 'thinkiosk_fleet_check_ins_total', help: 'Kiosk check-ins this instance answered, by result (ok, refused, invalid, error).', labelNames: ['result'], registers });
    for (const result of ['ok', 'refused', 'invalid', 'error'] as const) this.checkIns.inc({ result }, 0);

    new Gauge({
      name: 'thinkiosk_fleet_kiosks', help: 'Enrolled kiosks, by state (online, late, offline) and image version.', labelNames: ['state', 'version'], registers,
      async collect() {
        const counts = new Map<string, { state: string; version: string; n: number }>();
        for (const kiosk of (await reading()).kiosks) {
          const key = `${kiosk.state}\n${kiosk.version}`;
          const entry = counts.get(key) ?? { state: kiosk.state, version: kiosk.version, n: 0 };
          entry.n += 1;
          counts.set(key, entry);
        }
        this.reset();
        for (const { state, version, n } of counts.values()) this.set({ state, version }, n);
      },
    });
    perKiosk('thinkiosk_fleet_kiosk_last_check_in_timestamp_seconds', 'When each kiosk last checked in (Unix time).', Gauge, registers, reading,
      (kiosk) => (kiosk.lastCheckIn ? kiosk.lastCheckIn.getTime() / 1000 : null));
    // A reading from a kiosk that stopped checking in is not a measurement: offline kiosks have none.
    perKiosk('thinkiosk_fleet_kiosk_temperature_celsius', 'Each kiosk\'s SoC temperature at its last check-in (not for offline kiosks).', Gauge, registers, reading,
      (kiosk) => (kiosk.state === 'offline' ? null : kiosk.temperatureC));
    perKiosk('thinkiosk_fleet_kiosk_throttled', '1 when a kiosk reports under-voltage or throttling, now or since boot (not for offline kiosks).', Gauge, registers, reading,
      (kiosk) => (kiosk.state === 'offline' ? null : kiosk.throttled ? 1 : 0));
    perKiosk('thinkiosk_fleet_kiosk_restarts_total', 'Kiosk app restarts each kiosk reported since it enrolled.', Counter, registers, reading, (kiosk) => kiosk.restarts);
    perKiosk('thinkiosk_fleet_kiosk_crashes_total', 'Kiosk app crashes each kiosk reported since it enrolled.', Counter, registers, reading, (kiosk) => kiosk.crashes);

    new Gauge({
      name: 'thinkiosk_fleet_sessions', help: 'People logged in at kiosks that are not offline, by the protocol of their open desktop (none: no desktop open).', labelNames: ['protocol'], registers,
      async collect() {
        const counts = new Map<string, number>();
        for (const kiosk of (await reading()).kiosks) {
          if (kiosk.seat !== null && kiosk.state !== 'offline') counts.set(kiosk.seat, (counts.get(kiosk.seat) ?? 0) + 1);
        }
        this.reset();
        for (const [protocol, n] of counts) this.set({ protocol }, n);
      },
    });
    // thinkiosk_fleet_kiosks's version is the image's whole release line; this one is the version an
    // update_version names, so a rollout's progress reads straight off it.
    new Gauge({
      name: 'thinkiosk_fleet_running_versions', help: 'Enrolled kiosks by the image version their update status says they run, as update_version names it (unknown: no update status reported).', labelNames: ['version'], registers,
      async collect() {
        const counts = new Map<string, number>();
        for (const kiosk of (await reading()).kiosks) {
          const version = kiosk.runningVersion ?? 'unknown';
          counts.set(version, (counts.get(version) ?? 0) + 1);
        }
        this.reset();
        for (const [version, n] of counts) this.set({ version }, n);
      },
    });
    new Gauge({
      name: 'thinkiosk_fleet_updates', help: 'Kiosks that are not offline, by what their update agent is doing (idle, downloading, writing, verifying, rebooting, trial, failed; none: no update status reported).', labelNames: ['phase'], registers,
      async collect() {
        const counts = new Map<string, number>([...UpdatePhase.options, 'none'].map((phase) => [phase, 0]));
        for (const kiosk of (await reading()).kiosks) {
          if (kiosk.state === 'offline') continue;
          const phase = kiosk.updatePhase ?? 'none';
          counts.set(phase, (counts.get(phase) ?? 0) + 1);
        }
        this.reset();
        for (const [phase, n] of counts) this.set({ phase }, n);
      },
    });
    // A trial's outcome is a past event, still true of a kiosk gone offline since: every kiosk counts.
    new Gauge({
      name: 'thinkiosk_fleet_last_trials', help: 'Kiosks by how their last trial boot of a new image ended (committed, rolled-back by the health gate, did-not-finish: the box came back on its old slot by itself).', labelNames: ['outcome'], registers,
      async collect() {
        const counts = new Map<string, number>(TRIAL_RESULTS.map((outcome) => [outcome, 0]));
        for (const kiosk of (await reading()).kiosks) {
          if (kiosk.lastTrial) counts.set(kiosk.lastTrial, (counts.get(kiosk.lastTrial) ?? 0) + 1);
        }
        this.reset();
        for (const [outcome, n] of counts) this.set({ outcome }, n);
      },
    });
    perKiosk('thinkiosk_fleet_kiosk_trial_failed', '1 when a kiosk\'s last trial boot of a new image rolled back or did not finish, 0 when it was committed (no series before its first trial).', Gauge, registers, reading,
      (kiosk) => (kiosk.lastTrial === null ? null : kiosk.lastTrial === 'committed' ? 0 : 1));

    new Counter({
      name: 'thinkiosk_fleet_repairs_total', help: 'Faults kiosks found and reported, by fault and whether the kiosk\'s own repair worked.', labelNames: ['fault', 'repaired'], registers,
      async collect() {
        const totals = (await reading()).repairs;
        this.reset();
        for (const { fault, repaired, total } of totals) this.inc({ fault, repaired: String(repaired) }, total);
      },
    });
  }

  /** One read of the store for every series of a scrape (and scrapes soon after); a failed read is not kept. */
  private reading(): Promise<FleetReading> {
    const now = this.options.clock().getTime();
    if (this.cached && now - this.cached.at < this.options.cacheSeconds * 1000) return this.cached.reading;
    const reading = this.read();
    const entry = { at: now, reading };
    this.cached = entry;
    reading.catch(() => { if (this.cached === entry) this.cached = null; });
    return reading;
  }
}

/** A series with one value per kiosk, labelled by its name; null leaves a kiosk out. */
function perKiosk(
  name: string, help: string, Kind: typeof Gauge | typeof Counter, registers: Registry[],
  reading: () => Promise<FleetReading>, value: (kiosk: KioskReading) => number | null,
): void {
  new Kind({
    name, help, labelNames: ['kiosk'], registers,
    async collect(this: Gauge<'kiosk'> | Counter<'kiosk'>) {
      const kiosks = (await reading()).kiosks;
      this.reset();
      for (const kiosk of kiosks) {
        const v = value(kiosk);
        if (v === null) continue;
        if (this instanceof Gauge) this.set({ kiosk: kiosk.name }, v);
        else this.inc({ kiosk: kiosk.name }, v);
      }
    },
  });
}
