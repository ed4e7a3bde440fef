/**
 * The day in figures, the same for `make test` and `make soak`: a row per person (the kiosk's, the
 * controller's, the page's and Chromium's memory, open files, threads and child processes), the
 * slopes per person against their limits, the events, the connects and failures by cause, and one
 * closing line to paste into a note.
 */
import type { DayReport } from './day.js';
import { CONTROLLER_WARM_UP_PEOPLE, WARM_UP_PEOPLE, slopes, type Slopes } from './sampler.js';
import { causes, describeAttempt } from './tally.js';

/**
 * Growth per person that counts as a leak (slopes after warm-up; how they were chosen):
 * - open files and threads are whole numbers that stay put at the login screen: one socket or
 *   thread kept per person is a slope of 1, so 0.25 catches even one kept every fourth person;
 * - JS heap after a full collection (kiosk, controller, page): what is still referenced. Between
 *   people it moves by tens of KiB; a kept session, relay, viewer record or screen per person is
 *   a few hundred KiB or more, so 128 KiB per person;
 * - RSS also holds what V8 and the allocator keep after a collection, which wanders by a few MiB
 *   over a day: 512 KiB per person (12 MiB over 24 people, 2 GiB over a 4000-person soak);
 * - the page's DOM: nodes and event listeners of screens left behind (a list or session screen is
 *   hundreds of nodes and dozens of listeners): 20 nodes and 1 listener per person.
 * Printed, not limited: PSS (it shares the node binary and libraries with every other Node process
 * on the machine, so it moves when other tests start and stop theirs) and Chromium's process tree
 * (its renderer and GPU processes come and go, its PSS swings by ±100 MiB between samples; a leak in
 * the page shows in the page's heap and DOM instead).
 */
export const LIMITS: { [K in 'kiosk' | 'controller' | 'page']: Partial<Record<keyof Slopes[K], number>> } = {
  kiosk: { rssKiB: 512, heapKiB: 128, fds: 0.25, threads: 0.25 },
  controller: { rssKiB: 512, heapKiB: 128, fds: 0.25, threads: 0.25 },
  page: { heapKiB: 128, nodes: 20, listeners: 1 },
};

const mib = (kib: number | null | undefined): string => (kib === null || kib === undefined ? '—'.padStart(6) : (kib / 1024).toFixed(1).padStart(6));
const num = (v: number | null | undefined, width: number): string => (v === null || v === undefined ? '—' : String(v)).padStart(width);

export function table(report: DayReport): string {
  const lines = [
    '                 ----------- kiosk -----------  --------- controller ---------  ---- page -----  -- chromium --',
    '   # user           RSS    PSS   heap fds thr ch gen    RSS    PSS   heap fds thr   heap nodes lsn     PSS fds pr',
    '                    MiB    MiB    MiB                   MiB    MiB    MiB          MiB              MiB',
  ];
  for (const s of report.samples) {
    lines.push([
      num(s.person, 4), ` ${s.user.padEnd(10)}`,
      ` ${mib(s.kiosk?.rssKiB)} ${mib(s.kiosk?.pssKiB)} ${mib(s.kioskHeapKiB)} ${num(s.kiosk?.fds, 3)} ${num(s.kiosk?.threads, 3)} ${num(s.kiosk?.descendants, 2)}`,
      ` ${num(s.controllerGeneration, 3)} ${mib(s.controller?.rssKiB)} ${mib(s.controller?.pssKiB)} ${mib(s.controllerHeapKiB)} ${num(s.controller?.fds, 3)} ${num(s.controller?.threads, 3)}`,
      ` ${mib(s.page?.heapKiB)} ${num(s.page?.nodes, 5)} ${num(s.page?.listeners, 3)}`,
      ` ${mib(s.chromium?.pssKiB)} ${num(s.chromium?.fds, 3)} ${num(s.chromium ? s.chromium.descendants + 1 : null, 2)}`,
    ].join(''));
  }
  return lines.join('\n');
}

const isKiB = (key: string): boolean => key.endsWith('KiB');
const fmt = (key: string, value: number): string => `${key.replace(/KiB$/, '')} ${value >= 0 ? '+' : ''}${value.toFixed(isKiB(key) ? 0 : 2)}${isKiB(key) ? ' KiB' : ''}`;

/** Each slope against its limit; the ones above it, as sentences. */
export function slopeVerdict(s: Slopes): { lines: string[]; over: string[] } {
  const over: string[] = [];
  const row = (name: keyof typeof LIMITS): string => {
    const limits: Record<string, number | undefined> = LIMITS[name];
    const parts = Object.entries(s[name] as Record<string, number>).map(([key, value]) => {
      const limit = limits[key];
      const bad = limit !== undefined && value > limit;
      if (bad) over.push(`${name} ${key.replace(/KiB$/, ' (KiB)')} grows ${value.toFixed(2)} per person (limit ${limit})`);
      return `${fmt(key, value)}${limit === undefined ? ' (not limited)' : bad ? ' ✖' : ''}`;
    });
    return `${name.padEnd(10)} ${parts.join(', ')}`;
  };
  const chromium = Object.entries(s.chromium).map(([key, value]) => fmt(key, value)).join(', ');
  return { lines: [row('kiosk'), row('controller'), row('page'), `${'chromium'.padEnd(10)} ${chromium} (printed, not limited)`], over };
}

export function summaryLine(report: DayReport): string {
  const c = report.tally.connects();
  const s = slopes(report.samples);
  const refresh = report.tally.count('refresh');
  const duration = `${Math.floor(report.durationMs / 60_000)}m${String(Math.round((report.durationMs % 60_000) / 1000)).padStart(2, '0')}s`;
  return [
    `classroom day: ${report.people} people${report.days > 1 ? ` over ${report.days} days` : ''} in ${duration};`,
    `${c.total} connects, ${c.worked} showed the desktop, ${c.total - c.worked} failed (expected at that moment: ${causes(c.expectedFailures)}; unexpected: ${causes(c.unexpectedFailures)});`,
    `${refresh.total} list refreshes, ${refresh.total - refresh.worked} failed; ${report.tally.unexpected.length} steps not as expected;`,
    `slopes per person: kiosk RSS ${sign(s.kiosk.rssKiB)} KiB heap ${sign(s.kiosk.heapKiB)} KiB fds ${sign(s.kiosk.fds, 2)},`,
    `controller RSS ${sign(s.controller.rssKiB)} KiB heap ${sign(s.controller.heapKiB)} KiB fds ${sign(s.controller.fds, 2)},`,
    `page heap ${sign(s.page.heapKiB)} KiB nodes ${sign(s.page.nodes, 1)};`,
    `left behind: ${report.leftovers.length ? `${report.leftovers.length} problem(s)` : 'nothing'}`,
  ].join(' ');
}

/** The desktops' words at unexpected failures, once each, with the people it happened to. */
function diagnosed(report: DayReport): string[] {
  const byWords = new Map<string, number[]>();
  for (const d of report.diagnoses) byWords.set(d.said, [...new Set([...(byWords.get(d.said) ?? []), d.person])]);
  if (!byWords.size) return [];
  return ['what the desktops logged at unexpected failures:', ...[...byWords].map(([said, people]) => `  ${said} — at people ${people.join(', ')}`)];
}

function sign(value: number, digits = 0): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;
}

/** Everything printed after a day (test or soak), ending with the summary line. */
export function fullReport(report: DayReport): string {
  const verdict = slopeVerdict(slopes(report.samples));
  const c = report.tally.connects();
  const unexpected = report.tally.unexpected;
  return [
    table(report),
    '',
    `slopes per person (least squares; after the first ${WARM_UP_PEOPLE} people, the controller within each of its processes after ${CONTROLLER_WARM_UP_PEOPLE}):`,
    ...verdict.lines.map((l) => `  ${l}`),
    '',
    'events:',
    ...report.events.map((e) => `  ${e.ok ? '•' : '✖'} person ${e.person}: ${e.name} — ${e.detail}`),
    `  OpenStack: ${report.openstack}`,
    '',
    `connects: ${c.total}, worked ${c.worked}; failures expected at that moment: ${causes(c.expectedFailures)}; unexpected: ${causes(c.unexpectedFailures)}`,
    `relayed consoles: the controller's log (all its processes) opened ${report.relay.opened}, closed ${report.relay.closed}; its /metrics since the last start: ${report.relay.metrics}`,
    ...diagnosed(report),
    unexpected.length ? `not as expected (${unexpected.length}):\n${unexpected.map((a) => `  ✖ ${describeAttempt(a)}`).join('\n')}` : 'every step as expected',
    report.leftovers.length ? `left behind:\n${report.leftovers.map((l) => `  ✖ ${l}`).join('\n')}` : 'left behind: nothing',
    report.pageErrors.length ? `uncaught errors in the page:\n${report.pageErrors.map((e) => `  ✖ ${e}`).join('\n')}` : 'uncaught errors in the page: none',
    summaryLine(report),
  ].join('\n');
}
