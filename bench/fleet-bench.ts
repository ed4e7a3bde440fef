/**
 * `make bench`, the fleet: many simulated kiosks checking in to real controller processes, against
 * the same controllers answering only `GET /v1/identity` at the same rate (the baseline: what a
 * request costs with no fleet work behind it). Two set-ups:
 *   1. one controller on SQLite (the embedded default);
 *   2. two controllers on one PostgreSQL (Debian's, a throwaway cluster), kiosks split between them.
 * Each simulated kiosk enrols with a site token, then checks in once per interval at its own offset
 * with a realistic body (contract/fleet.ts). Printed: p50/p99 latency, errors, the controllers' CPU
 * (share of one core) and resident memory, and the ratios to the baseline. It asserts nothing.
 * Tunables: BENCH_FLEET_KIOSKS (5000), BENCH_FLEET_INTERVAL (60 s), BENCH_FLEET_SECONDS (120: two
 * rounds of check-ins per set-up and per baseline).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CheckIn } from '../contract/fleet.js';
import { ADMIN_ROUTES, FLEET_ROUTES, ROUTES } from '../contract/routes.js';
import { startPostgres } from '../test/support/postgres.js';

const KIOSKS = positiveEnv('BENCH_FLEET_KIOSKS', 5000);
const INTERVAL_S = positiveEnv('BENCH_FLEET_INTERVAL', 60);
const SECONDS = positiveEnv('BENCH_FLEET_SECONDS', 120);
const FIRST_PORT = 16360;
const PG_PORT = 16369;
const INVENTORY = 'scripts/demo/inventory.yaml';
const CLOCK_TICKS = 100; // USER_HZ on Linux

function positiveEnv(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? Math.round(value) : fallback;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

interface Answer { status: number; body: string }
function request(port: number, method: string, path: string, body?: unknown, token?: string): Promise<Answer> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, method, path, agent,
      headers: { ...(text ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (data += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', reject);
    req.end(text);
  });
}

// ---------------------------------------------------------------- controller processes

interface Controller { port: number; child: ChildProcess; output: () => string }

async function startController(port: number, database: string, dir: string): Promise<Controller> {
  const config = join(dir, `controller-${port}.json`);
  writeFileSync(config, JSON.stringify({
    name: 'fleet bench', listen: { host: '127.0.0.1', port }, backend: 'static', stateDir: dir,
    sessionKeys: ['YmVuY2gtYmVuY2gtYmVuY2gtYmVuY2gtYmVuY2gtYmU='],
    // The bench's kiosks all come from 127.0.0.1: the login guard is not what is measured.
    loginGuard: { maxFailuresPerAddress: 100_000 },
    static: { inventoryFile: INVENTORY },
    fleet: { database, checkInSeconds: INTERVAL_S },
  }));
  const child = spawn(process.execPath, ['dist/controller/main.js', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => { output = (output + chunk.toString()).slice(-5000); });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const answer = await request(port, 'GET', ROUTES.identity.path).catch(() => null);
    if (answer?.status === 200) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`controller on ${port} did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { port, child, output: () => output };
}

async function stopController(controller: Controller): Promise<void> {
  if (controller.child.exitCode !== null) return;
  const exited = new Promise((r) => controller.child.once('exit', r));
  controller.child.kill('SIGTERM');
  await exited;
}

/** CPU seconds used so far and resident memory now, from /proc. */
function usage(pid: number): { cpuSeconds: number; rssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return { cpuSeconds, rssMiB: Number(rss) / 1024 };
}

// ---------------------------------------------------------------- simulated kiosks

interface Kiosk { credential: string; port: number; body: CheckIn }

function macOf(i: number): string {
  return ['52', '54', '00', ((i >> 16) & 255).toString(16), ((i >> 8) & 255).toString(16), (i & 255).toString(16)].map((b) => b.padStart(2, '0')).join(':');
}

function checkInBody(i: number): CheckIn {
  return {
    kioskVersion: '0.1.0',
    inventory: {
      hostname: `kiosk-${i}`, macs: [macOf(i)], addresses: [{ iface: 'eth0', address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }],
      board: 'Raspberry Pi 4 Model B Rev 1.5', imageVersion: 'thinkiosk 0.1.0 arm64', slot: null,
      uptimeSeconds: 3600 + i, bootSeconds: 21.5, temperatureC: 48 + (i % 20),
      throttling: { underVoltage: false, frequencyCapped: false, throttled: false, softTemperatureLimit: false, underVoltageSinceBoot: i % 97 === 0, throttledSinceBoot: false },
      displays: [{ name: 'HDMI-A-1', width: 1920, height: 1080 }],
      usb: [{ vendorId: '046d', productId: 'c31c', name: 'USB Keyboard' }],
    },
    session: i % 3 === 0 ? { user: `student${i}`, desktop: 'Lab desktop', protocol: 'spice', since: new Date().toISOString() } : null,
    health: { restarts: 0, crashes: 0, lastCrash: null, repairs: [] },
    applied: null,
    acks: [],
    // A kiosk on an A/B image reports its update state at every check-in: the bench carries one, idle after a committed trial.
    update: {
      runningVersion: 'thinkiosk 0.1.0 arm64', bootedSlot: i % 2 ? 'b' : 'a', committedSlot: i % 2 ? 'b' : 'a', phase: 'idle', targetVersion: null, source: null, percent: null, message: null,
      lastTrial: { version: 'thinkiosk 0.1.0 arm64', slot: i % 2 ? 'b' : 'a', outcome: 'committed', detail: 'the kiosk was ready and reached its controller 48 s after boot', at: '2026-03-01T07:00:00.000Z' },
      updatedAt: '2026-03-01T07:01:00.000Z',
    },
  };
}

async function inBatches<T>(count: number, width: number, work: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) { const i = next++; results[i] = await work(i); }
  }));
  return results;
}

async function enrolKiosks(controllers: Controller[]): Promise<{ kiosks: Kiosk[]; seconds: number }> {
  const first = controllers[0]!.port;
  const login = await request(first, ROUTES.login.method, ROUTES.login.path, { username: 'admin', password: 'admin' });
  if (login.status !== 201) throw new Error(`admin login failed: ${login.status} ${login.body}`);
  const adminToken = (JSON.parse(login.body) as { token: string }).token;
  const made = await request(first, ADMIN_ROUTES.newSiteToken.method, ADMIN_ROUTES.newSiteToken.path, { label: 'bench' }, adminToken);
  if (made.status !== 201 && made.status !== 200) throw new Error(`site token: ${made.status} ${made.body}`);
  const siteToken = (JSON.parse(made.body) as { token: string }).token;
  const started = performance.now();
  const kiosks = await inBatches(KIOSKS, 16, async (i) => {
    const port = controllers[i % controllers.length]!.port;
    const body = checkInBody(i);
    const answer = await request(port, FLEET_ROUTES.enrol.method, FLEET_ROUTES.enrol.path, { siteToken, hardware: { macs: body.inventory.macs, hostname: body.inventory.hostname, board: body.inventory.board } });
    if (answer.status !== 201 && answer.status !== 200) throw new Error(`enrolment of kiosk ${i}: ${answer.status} ${answer.body}`);
    const enrolment = JSON.parse(answer.body) as { kioskId: string; secret: string };
    return { credential: `${enrolment.kioskId}.${enrolment.secret}`, port, body };
  });
  return { kiosks, seconds: (performance.now() - started) / 1000 };
}

interface Run { p50: number; p99: number; requests: number; errors: number; cpuShare: number; rssMiB: number }

/**
 * Every kiosk calls once per interval at its own offset (evenly spread), for SECONDS; `call` is a
 * check-in or, for the baseline, GET /v1/identity.
 */
async function paced(controllers: Controller[], kiosks: Kiosk[], call: (kiosk: Kiosk) => Promise<Answer>, okStatus: number): Promise<Run> {
  const latencies: number[] = [];
  let errors = 0;
  const before = controllers.map((c) => usage(c.child.pid!));
  const started = performance.now();
  const total = Math.floor((SECONDS / INTERVAL_S) * kiosks.length);
  const spacingMs = (INTERVAL_S * 1000) / kiosks.length;
  const inFlight = new Set<Promise<void>>();
  for (let n = 0; n < total; n++) {
    const due = started + n * spacingMs;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const kiosk = kiosks[n % kiosks.length]!;
    const sent = performance.now();
    const job = call(kiosk).then((answer) => {
      if (answer.status === okStatus) latencies.push(performance.now() - sent);
      else errors++;
    }, () => { errors++; }).finally(() => inFlight.delete(job));
    inFlight.add(job);
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  const after = controllers.map((c) => usage(c.child.pid!));
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  const cpu = after.reduce((sum, u, i) => sum + u.cpuSeconds - before[i]!.cpuSeconds, 0);
  return { p50: at(0.5), p99: at(0.99), requests: latencies.length + errors, errors, cpuShare: cpu / elapsed, rssMiB: after.reduce((sum, u) => sum + u.rssMiB, 0) };
}

const checkIn = (kiosk: Kiosk) => request(kiosk.port, FLEET_ROUTES.checkIn.method, FLEET_ROUTES.checkIn.path, kiosk.body, kiosk.credential);
const identity = (kiosk: Kiosk) => request(kiosk.port, ROUTES.identity.method, ROUTES.identity.path);

async function setUp(label: string, databases: string[], dir: string): Promise<string[]> {
  const controllers: Controller[] = [];
  try {
    for (const [i, database] of databases.entries()) controllers.push(await startController(FIRST_PORT + i, database, dir));
    const { kiosks, seconds } = await enrolKiosks(controllers);
    const fleet = await paced(controllers, kiosks, checkIn, 200);
    const baseline = await paced(controllers, kiosks, identity, 200);
    const rate = (KIOSKS / INTERVAL_S).toFixed(1);
    const row = (what: string, r: Run) => `  ${what.padEnd(24)} p50 ${r.p50.toFixed(1).padStart(6)} ms  p99 ${r.p99.toFixed(1).padStart(7)} ms  errors ${String(r.errors).padStart(5)}/${r.requests}  CPU ${(r.cpuShare * 100).toFixed(1).padStart(5)} % of a core  RSS ${r.rssMiB.toFixed(0).padStart(4)} MiB`;
    return [
      `${label}: ${KIOSKS} kiosks (enrolled in ${seconds.toFixed(1)} s), ${rate} check-ins/s for ${SECONDS} s`,
      row('check-in', fleet),
      row('/v1/identity (baseline)', baseline),
      `  ratio check-in ÷ identity: p50 ${(fleet.p50 / baseline.p50).toFixed(2)}×  p99 ${(fleet.p99 / baseline.p99).toFixed(2)}×  CPU ${(fleet.cpuShare / baseline.cpuShare).toFixed(2)}×  RSS ${(fleet.rssMiB / baseline.rssMiB).toFixed(2)}×`,
    ];
  } finally {
    for (const controller of controllers) await stopController(controller);
  }
}

async function main(): Promise<void> {
  const lines: string[] = [
    `fleet bench: ${KIOSKS} simulated kiosks, one check-in each per ${INTERVAL_S} s`,
    '(CPU and RSS are the controller processes\' own, summed; PostgreSQL\'s server is not counted. The baseline runs after the',
    ' check-ins on the same processes, so its RSS holds what they left.)',
  ];
  const dir = mkdtempSync(join(tmpdir(), 'thinkiosk-fleet-bench-'));
  try {
    lines.push(...await setUp('SQLite, one controller', [`sqlite:${join(dir, 'fleet.sqlite')}`], dir));
    const postgres = await startPostgres({ port: PG_PORT });
    try {
      const url = await postgres.createDatabase('fleet_bench');
      lines.push(...await setUp('PostgreSQL, two controllers', [url, url], dir));
    } finally {
      await postgres.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    agent.destroy();
  }
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  console.error(`fleet bench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
