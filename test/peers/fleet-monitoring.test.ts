/**
 * The monitoring files the repository ships, held against a live controller: the real controller
 * (static backend, the fleet in SQLite) with simulated kiosks checking in over HTTP, scraped every
 * second by Debian's Prometheus. Every panel query of the Grafana dashboard must return data (and
 * the right numbers where the fleet makes them known); every item of the Zabbix template must find
 * its sample in the /metrics page, per kiosk its discovery rule finds; and the page shows no secret.
 * Ports 16330-16339 are this file's.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { ROUTES } from '../../contract/routes.js';
import { METRICS_ROUTE } from '../../controller/http/server.js';
import { startAdminHarness, type AdminHarness } from '../support/admin-harness.js';
import { dashboardQueries, matchPattern, parseMetricsText, zabbixTemplate, type MetricSample } from '../support/monitoring-files.js';
import { PROMETHEUS_BINARY, startPrometheus, type PromSample, type RunningPrometheus } from '../support/prometheus.js';
import type { SimulatedKiosk } from '../support/simulated-kiosk.js';
import type { TrialOutcome } from '../../contract/update-status.js';
import { updateStatus } from '../support/fleet-scenarios.js';
import { waitFor } from '../support/system-daemons.js';

const PORTS = { controller: 16330, prometheus: 16331 };
const skip = existsSync(PROMETHEUS_BINARY) ? false : `${PROMETHEUS_BINARY} is missing (scripts/install-deps.sh installs Debian's prometheus)`;
const ADMIN_PASSWORD = 'ada-admin-pw';

let fleet: AdminHarness;
let prometheus: RunningPrometheus;
let pi02: SimulatedKiosk;

/** Waits until Prometheus has scraped the controller twice more: rate() and increase() then see a counter move. */
async function twoMoreScrapes(): Promise<void> {
  const scrapes = async () => Number((await prometheus.query('count_over_time(up[10m])'))[0]?.value[1] ?? 0);
  const now = await scrapes();
  await waitFor('two more scrapes', async () => ((await scrapes()) >= now + 2 ? true : undefined), 20_000);
}

/** One round of a crash-looping kiosk: the app crashed, restarted, and the kiosk's own repair worked. */
async function crashAndRepair(): Promise<void> {
  const at = new Date().toISOString();
  pi02.health = {
    restarts: 2, crashes: 1, lastCrash: { at, reason: 'kiosk app exited with signal SIGSEGV' },
    repairs: [{ fault: 'crash-loop', at, detail: 'the kiosk restarted 5 times in 10 minutes', action: 'reset the kiosk app\'s cache and restarted it', repaired: true }],
  };
  for (const kiosk of fleet.kiosks.slice(0, 3)) await kiosk.checkIn();
}

before(async () => {
  if (skip) return;
  fleet = await startAdminHarness({
    port: PORTS.controller,
    name: 'Monitoring test controller',
    users: { ada: { password: ADMIN_PASSWORD, admin: true }, bob: { password: 'bob-user-pw', admin: false } },
    kiosks: [
      { hardware: 'pi4', hostname: 'lab3-pi01', number: 21, temperatureC: 52.5 },
      { hardware: 'pi4', hostname: 'lab3-pi02', number: 22, underVoltage: true, temperatureC: 81.5 },
      { hardware: 'pc', hostname: 'lab3-pc03', number: 23 },
      { hardware: 'pc', hostname: 'lab3-pc04', number: 24 },
      { hardware: 'pc', hostname: 'lab3-pc05', number: 25, imageVersion: '2025.05.2' },
    ],
    // Every scrape reads the fleet afresh: the test checks numbers right after check-ins.
    fleetSettings: { metricsCacheSeconds: 0 },
  });
  const [pi01, second, pc03, pc04, pc05] = fleet.kiosks as [SimulatedKiosk, SimulatedKiosk, SimulatedKiosk, SimulatedKiosk, SimulatedKiosk];
  pi02 = second;
  pc03.session = { user: 'carol', desktop: 'Lab PC (carol)', protocol: 'rdp', since: new Date().toISOString() };
  // A rollout of 0.2.0 under way: pi01 took it, pi02 tried it and came back, pc03 is writing it.
  const trialOf020 = (outcome: TrialOutcome['outcome'], detail: string): TrialOutcome => ({ version: '0.2.0', slot: 'b', outcome, detail, at: new Date().toISOString() });
  pi01.update = updateStatus((u) => { u.runningVersion = '0.2.0'; u.lastTrial = trialOf020('committed', 'ready and the controller answered'); });
  pi02.update = updateStatus((u) => { u.runningVersion = '0.1.0'; u.lastTrial = trialOf020('rolled-back', 'the kiosk page was not ready'); });
  pc03.update = updateStatus((u) => { u.runningVersion = '0.1.0'; u.phase = 'writing'; u.percent = 40; u.targetVersion = '0.2.0'; u.source = 'fleet'; });
  for (const kiosk of [pi01, pi02, pc03]) await kiosk.checkIn();
  // Check-ins every 60 s: 200 s quiet is late, 20 minutes is offline.
  await fleet.backdated(200, () => pc04.checkIn());
  await fleet.backdated(20 * 60, () => pc05.checkIn());

  prometheus = await startPrometheus({ port: PORTS.prometheus, target: `127.0.0.1:${PORTS.controller}` });
  await prometheus.waitForScrapes(2);
  // Counters move while Prometheus watches (a new repairs series first seen at 1 is no increase yet).
  await crashAndRepair();
  assert.equal((await fleet.call(ROUTES.login, { body: { username: 'ada', password: ADMIN_PASSWORD } })).status, 201);
  await twoMoreScrapes();
  await crashAndRepair();
  await twoMoreScrapes();
});

after(async () => {
  await prometheus?.stop();
  await fleet?.close();
});

/** A query's samples by one label's value. */
function byLabel(samples: PromSample[], label: string): Map<string, number> {
  return new Map(samples.map((s) => [s.metric[label] ?? '', Number(s.value[1])]));
}

/** What is known of each panel's answer in this fleet: 3 online, 1 late, 1 offline; pi02 hot, throttled and crash-looping; carol at pc03 over RDP. */
const PANEL_CHECKS: Record<string, (samples: PromSample[]) => void> = {
  'Kiosks by state': (s) => assert.deepEqual(Object.fromEntries(byLabel(s, 'state')), { online: 3, late: 1, offline: 1 }),
  'Kiosks by version': (s) => assert.deepEqual(Object.fromEntries(byLabel(s, 'version')), { '2025.06.1': 4, '2025.05.2': 1 }),
  'Logged-in people by protocol': (s) => assert.deepEqual(Object.fromEntries(byLabel(s, 'protocol')), { rdp: 1 }),
  'Seconds since each kiosk\'s last check-in': (s) => {
    const since = byLabel(s, 'kiosk');
    assert.equal(since.size, 5);
    assert.ok(since.get('lab3-pi01')! < 60, `pi01 checked in just now: ${since.get('lab3-pi01')}`);
    assert.ok(since.get('lab3-pc05')! >= 20 * 60, `pc05 has been quiet for 20 min: ${since.get('lab3-pc05')}`);
  },
  'Temperature': (s) => {
    const temperature = byLabel(s, 'kiosk');
    assert.equal(temperature.get('lab3-pi02'), 81.5);
    assert.equal(temperature.get('lab3-pi01'), 52.5);
    assert.ok(!temperature.has('lab3-pc05'), 'an offline kiosk has no temperature');
  },
  'Throttled or under-voltage kiosks': (s) => assert.equal(Number(s[0]?.value[1]), 1),
  'Kiosk restarts (1 h)': (s) => assert.ok(byLabel(s, 'kiosk').get('lab3-pi02')! > 0),
  'Kiosk crashes (1 h)': (s) => assert.ok(byLabel(s, 'kiosk').get('lab3-pi02')! > 0),
  'Check-ins per second': (s) => assert.ok(byLabel(s, 'result').get('ok')! > 0),
  'Repairs by fault (1 h)': (s) => assert.ok(byLabel(s, 'fault').get('crash-loop')! > 0),
  'Request time p99 by route': (s) => assert.ok(s.some((sample) => Number(sample.value[1]) > 0), 'some route has a p99'),
  'Logins by result': (s) => assert.ok(byLabel(s, 'result').get('ok')! > 0),
  // pc04 and pc05 report no update status (an image without A/B updates).
  'Kiosks by running version (updates)': (s) => assert.deepEqual(Object.fromEntries(byLabel(s, 'version')), { '0.2.0': 1, '0.1.0': 2, unknown: 2 }),
  'Kiosks updating, by phase': (s) => {
    const phases = Object.fromEntries([...byLabel(s, 'phase')].filter(([, n]) => n > 0));
    assert.deepEqual(phases, { idle: 2, writing: 1, none: 1 }, 'the offline kiosk is not counted');
  },
  'Last trial boots by outcome': (s) => assert.deepEqual(Object.fromEntries(byLabel(s, 'outcome')), { committed: 1, 'rolled-back': 1, 'did-not-finish': 0 }),
  'Kiosks whose last trial failed': (s) => assert.deepEqual([...byLabel(s, 'kiosk').keys()], ['lab3-pi02']),
};

test('[monitoring] every panel of the Grafana dashboard answers from a real Prometheus, with the fleet\'s numbers', { skip }, async () => {
  const queries = dashboardQueries('.');
  assert.equal(queries.length, 16);
  for (const { panel, expr } of queries) {
    const samples = await prometheus.query(expr);
    assert.ok(samples.length > 0, `${panel}: ${expr} returned no data`);
    const check = PANEL_CHECKS[panel];
    assert.ok(check, `a check for the panel "${panel}"`);
    try {
      check(samples);
    } catch (error) {
      throw new Error(`${panel}: ${expr} answered ${JSON.stringify(samples.map((s) => [s.metric, s.value[1]]))}: ${String(error)}`);
    }
  }
});

test('[monitoring] every Zabbix item finds its sample in /metrics, for each kiosk the discovery rule finds', { skip }, async () => {
  const answer = await fleet.call(METRICS_ROUTE);
  assert.equal(answer.status, 200);
  const samples = parseMetricsText(answer.body as string);
  const template = zabbixTemplate('.');
  assert.match(template.masterUrl, /\/metrics$/);
  const kiosks = matchPattern(template.discovery.metric, samples).map((s) => s.labels[template.discovery.label]!);
  assert.deepEqual(kiosks.sort(), ['lab3-pc03', 'lab3-pc04', 'lab3-pc05', 'lab3-pi01', 'lab3-pi02']);

  const values = new Map<string, MetricSample[]>();
  for (const item of template.items) {
    for (const kiosk of item.prototype ? kiosks : [null]) {
      const key = kiosk ? item.key.replace('{#KIOSK}', kiosk) : item.key;
      const found = matchPattern(kiosk ? item.pattern.replace('{#KIOSK}', kiosk) : item.pattern, samples);
      // Only an offline kiosk has no temperature and throttling; Zabbix keeps the last value it had.
      if (kiosk === 'lab3-pc05' && /temperature|throttled/.test(item.key)) {
        assert.equal(found.length, 0, `${key}: an offline kiosk's reading is not a measurement`);
        assert.equal(item.onNoMatch?.handler, 'DISCARD_VALUE', `${key}: without its sample the item must not turn unsupported`);
        continue;
      }
      // Only pi01 and pi02 have had a trial boot.
      if (kiosk && !['lab3-pi01', 'lab3-pi02'].includes(kiosk) && /trial_failed/.test(item.key)) {
        assert.equal(found.length, 0, `${key}: no trial, no sample`);
        assert.equal(item.onNoMatch?.handler, 'DISCARD_VALUE', `${key}: without its sample the item must not turn unsupported`);
        continue;
      }
      assert.ok(found.length > 0, `${key}: ${item.pattern} matches nothing in /metrics`);
      values.set(key, found);
    }
  }
  const sum = (key: string) => (values.get(key) ?? []).reduce((total, s) => total + s.value, 0);
  assert.equal(sum('thinkiosk.kiosks[online]'), 3);
  assert.equal(sum('thinkiosk.kiosks[late]'), 1);
  assert.equal(sum('thinkiosk.kiosks[offline]'), 1);
  assert.equal(sum('thinkiosk.sessions'), 1);
  assert.equal(sum('thinkiosk.throttled'), 1);
  assert.ok(sum('thinkiosk.check_ins') >= 11, `check-ins answered: ${sum('thinkiosk.check_ins')}`);
  assert.equal(sum('thinkiosk.kiosk.temperature[lab3-pi02]'), 81.5);
  assert.equal(sum('thinkiosk.kiosk.temperature[lab3-pc03]'), 43);
  assert.equal(sum('thinkiosk.kiosk.throttled[lab3-pi02]'), 1);
  assert.equal(sum('thinkiosk.kiosk.throttled[lab3-pi01]'), 0);
  assert.equal(sum('thinkiosk.kiosk.crashes[lab3-pi02]'), 2);
  assert.equal(sum('thinkiosk.kiosk.trial_failed[lab3-pi02]'), 1, 'pi02 came back from its trial');
  assert.equal(sum('thinkiosk.kiosk.trial_failed[lab3-pi01]'), 0, 'pi01 committed its trial');
  assert.ok(values.has('thinkiosk.kiosk.trial_failed[lab3-pi01]'));
  const lastCheckIn = sum('thinkiosk.kiosk.last_check_in[lab3-pc05]');
  assert.ok(Math.abs(Date.now() / 1000 - 20 * 60 - lastCheckIn) < 120, `pc05's last check-in 20 min ago: ${lastCheckIn}`);
  // A count that may be empty reads 0 in Zabbix rather than turning the item unsupported.
  for (const key of ['thinkiosk.kiosks[late]', 'thinkiosk.sessions']) {
    assert.deepEqual(template.items.find((item) => item.key === key)?.onNoMatch, { handler: 'CUSTOM_VALUE', value: '0' }, key);
  }
});

test('[monitoring] the metrics page shows no secret: no kiosk credential, site token or password', { skip }, async () => {
  const text = (await fleet.call(METRICS_ROUTE)).body as string;
  const secrets = [
    ...fleet.kiosks.map((kiosk) => ({ what: `${kiosk.options.hostname}'s secret`, value: kiosk.enrolment!.secret })),
    { what: 'the site token', value: fleet.siteToken },
    { what: 'the administrator\'s password', value: ADMIN_PASSWORD },
  ];
  for (const { what, value } of secrets) assert.ok(!text.includes(value), `/metrics shows ${what}`);
  // Nor kiosk ids (half of each kiosk's credential): kiosks are named by their names.
  for (const kiosk of fleet.kiosks) assert.ok(!text.includes(kiosk.id), `/metrics shows ${kiosk.options.hostname}'s id`);
});
