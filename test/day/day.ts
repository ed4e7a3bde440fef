/**
 * A classroom day on one kiosk: people one after another, each leaving the desktop list open
 * through several refreshes, opening a desktop over VNC and SPICE in the page and over RDP (and,
 * every fifth person, SPICE with USB) in a native viewer, disconnecting and logging out. During the
 * day two people use the OpenStack desktops (an admin repoints the kiosk, with a look at the
 * technician terminal), the controller restarts under someone's session, the link to the controller
 * goes down for 20 s under someone else's, the desktops' host restarts under a third, and one person
 * walks away from an open RDP desktop (visits.ts). After each person the kiosk, the controller, the
 * page and Chromium are measured (sampler.ts); afterwards nothing may be left (leftovers.ts).
 *
 * Time is compressed by configuration only: idle logout in seconds (settings.json), refreshes by
 * clicking Refresh with short waits. `make test` runs one day of 30 people; `make soak` runs days
 * back to back for as long as asked and prints the same figures (report.ts).
 */
import type { Classroom } from './classroom.js';
import { KioskScreen } from './kiosk-screen.js';
import { leftBehind } from './leftovers.js';
import { Sampler, type Sample } from './sampler.js';
import type { Tally } from './tally.js';
import { WORKS } from './tally.js';
import { Visits, type DayEvent } from './visits.js';

export interface DayOptions {
  /** People in one day; the day's events are placed at fixed shares of it. */
  peoplePerDay: number;
  /** Soak: keep starting new days until this many minutes have passed (0: one day). */
  minutes: number;
  log: (line: string) => void;
}

export interface DayReport {
  tally: Tally;
  samples: Sample[];
  events: DayEvent[];
  /** Things left behind after the day, as sentences; empty when nothing is. */
  leftovers: string[];
  /** What the controller's relay logged, over all its processes; its /metrics counters (running process). */
  relay: { opened: number; closed: number; metrics: string };
  /** What the desktops' own logs said at unexpected failures, and at which people. */
  diagnoses: { person: number; said: string }[];
  durationMs: number;
  people: number;
  days: number;
  openstack: string;
  /** Uncaught errors in the page (a person would see a broken screen). */
  pageErrors: string[];
}

export type Visit = 'openstack-alice' | 'openstack-bob' | 'controller-restart' | 'link-drop' | 'desktops-restart' | 'walk-away';

/**
 * Who does what in a day of n people (1-based, distinct people). The OpenStack visits come early,
 * inside the warm-up, so that every kind of first use (a second controller, the terminal) is over
 * before the slopes start; the outages are spread over the rest of the day.
 */
export function schedule(n: number): Map<number, Visit> {
  const wanted: [Visit, number][] = [
    ['openstack-alice', 3 / 30], ['openstack-bob', 4 / 30], ['controller-restart', 0.27], ['link-drop', 0.45],
    ['desktops-restart', 0.65], ['walk-away', 0.8],
  ];
  const at = new Map<number, Visit>();
  for (const [visit, share] of wanted) {
    let person = Math.min(n, Math.max(2, Math.round(n * share)));
    while (at.has(person) && person <= n) person += 1;
    if (person <= n) at.set(person, visit);
  }
  return at;
}

export async function runDay(room: Classroom, options: DayOptions): Promise<DayReport> {
  const { log } = options;
  const screen = new KioskScreen(room.page, room.kioskDisplay);
  const visits = new Visits(room, screen, log);
  const sampler = new Sampler(room);
  const samples: Sample[] = [];
  const pageErrors: string[] = [];
  const t0 = Date.now();
  const staticUrl = room.controller.url;
  const deadline = t0 + options.minutes * 60_000;
  let person = 0;
  let days = 0;
  try {
    do {
      days += 1;
      const plan = schedule(options.peoplePerDay);
      for (let inDay = 1; inDay <= options.peoplePerDay; inDay += 1) {
        person += 1;
        const started = Date.now();
        const planned = plan.get(inDay);
        const cloud = (planned === 'openstack-alice' || planned === 'openstack-bob') ? room.openstack : null;
        const p = cloud ? (planned === 'openstack-alice' ? cloud.alice : cloud.bob) : room.people[(person - 1) % room.people.length]!;
        visits.begin(person, p.name);
        log(`person ${person} (day ${days}, ${inDay}/${options.peoplePerDay}) ${p.name}${planned && (cloud || !planned.startsWith('openstack')) ? ` — ${planned}` : ''}`);
        const before = visits.tally.attempts.length;
        const errorsBefore = room.pageErrors.length;
        try {
          if (cloud && planned === 'openstack-alice') {
            await visits.repoint(cloud.controller.url, true);
            await visits.openstack(p, true);
          } else if (cloud && planned === 'openstack-bob') {
            await visits.openstack(p, false);
            await visits.repoint(staticUrl, false);
          } else if (planned === 'controller-restart') await visits.controllerRestart(p, inDay);
          else if (planned === 'link-drop') await visits.linkDrop(p, inDay);
          else if (planned === 'desktops-restart') await visits.desktopsRestart(p, inDay);
          else if (planned === 'walk-away') await visits.walkAway(p);
          else await visits.ordinary(p, inDay);
        } catch (error) {
          visits.note('session', 'the visit', WORKS, { works: false, cause: 'exception', sentence: (error as Error).message.split('\n')[0]!, ms: 0 });
          // Whatever the visit was in the middle of: the classroom is whole again for the next person.
          await room.network.restore().catch(() => undefined);
          if (room.controller.pid < 0) await room.controller.start().catch((e: unknown) => log(`  the controller would not start: ${String(e)}`));
          if (!room.desktops.running) await room.desktops.up().catch((e: unknown) => log(`  the desktops would not start: ${String(e)}`));
          await visits.recover();
        }
        // At the login screen again: what did this visit leave behind?
        await new Promise((resolve) => setTimeout(resolve, 200));
        samples.push(await sampler.sample(person, p.name));
        for (const error of room.pageErrors.slice(errorsBefore)) {
          pageErrors.push(`person ${person} (${p.name}): ${error}`);
          log(`  ✖ uncaught error in the page: ${error}`);
        }
        const mine = visits.tally.attempts.slice(before);
        const connects = mine.filter((a) => a.step === 'connect' || a.step === 'reconnect');
        log(`  ${mine.filter((a) => a.ok).length}/${mine.length} as expected; connects ${connects.map((a) => `${a.what.split(' ')[0]} ${a.seen.works ? `${(a.seen.ms / 1000).toFixed(1)}s` : a.seen.cause}`).join(', ') || 'none'} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      }
    } while (Date.now() < deadline);
  } finally {
    sampler.close();
  }
  const leftovers = await leftBehind(room);
  const { opened, closed } = room.controller.relayEvents();
  const relayMetrics = await room.controller.metrics().then(relayCounters, (error: unknown) => `not read: ${String(error)}`);
  return {
    tally: visits.tally, samples, events: visits.events, leftovers, relay: { opened, closed, metrics: relayMetrics }, diagnoses: visits.diagnoses,
    durationMs: Date.now() - t0, people: person, days,
    openstack: room.openstack ? 'alice (her real guest alice-linux over SPICE and VNC in the page) and bob (his list) through a second controller' : `skipped: ${room.openstackSkipped}`,
    pageErrors,
  };
}

/** `vnc ok 40, spice ok 120, unknown refused 2` from the controller's thinkiosk_relay_connections_total. */
function relayCounters(metrics: string): string {
  const counts = [...metrics.matchAll(/^thinkiosk_relay_connections_total\{([^}]*)\} (\d+)$/gm)].map(([, labels, value]) => {
    const protocol = /protocol="([^"]*)"/.exec(labels!)?.[1] ?? '?';
    const result = /result="([^"]*)"/.exec(labels!)?.[1] ?? '?';
    return `${protocol} ${result} ${value}`;
  });
  return counts.length ? counts.join(', ') : 'none counted';
}
