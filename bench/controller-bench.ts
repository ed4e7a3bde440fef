/**
 * `make bench`: what the shim costs a kiosk, measured against the real test cloud
 * (scripts/test-cloud/up.sh). One run, one user (alice), three figures:
 *   1. list my desktops — shim GET /v1/desktops vs the Nova + Glance calls a kiosk would make itself;
 *   2. login            — shim POST /v1/session vs Keystone POST /v3/auth/tokens;
 *   3. login storm      — 500 kiosks logging in and listing their desktops within a short window.
 * It prints figures and ratios; it asserts nothing. Tunables: BENCH_ITERATIONS (default 40),
 * BENCH_STORM_SECONDS (default 60: the "500 kiosks within 60 s"; at most 60), BENCH_STORM_KIOSKS (default 500),
 * THINKIOSK_CLOUD_DIR (where up.sh wrote cloud.json).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ErrorBody, Session } from '../contract/api.js';
import { ROUTES } from '../contract/routes.js';
import { buildController } from '../controller/app.js';
import { parseConfig } from '../controller/core/config.js';
import { silentLogger } from '../controller/core/log.js';
import { OpenStackError } from '../controller/desktops/openstack/errors.js';
import { OpenStackHttp } from '../controller/desktops/openstack/http.js';
import { KeystoneClient, PasswordTokenSource, type KeystoneToken } from '../controller/desktops/openstack/keystone.js';
import { NOVA_MICROVERSION } from '../controller/desktops/openstack/nova.js';
import { METRICS_ROUTE } from '../controller/http/server.js';

const WARMUP_ROUNDS = 3;
const STORM_HARD_STOP_MS = 90_000;
const UP_HINT = 'Start it with: scripts/test-cloud/up.sh';

// ---------------------------------------------------------------- settings and cloud inventory

interface Settings { iterations: number; stormSeconds: number; stormKiosks: number }

function positiveEnv(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

function readSettings(): Settings {
  return {
    iterations: Math.round(positiveEnv('BENCH_ITERATIONS', 40)),
    // The storm is "500 logins within a minute": a longer window would measure something gentler.
    stormSeconds: Math.min(positiveEnv('BENCH_STORM_SECONDS', 60), 60),
    stormKiosks: Math.round(positiveEnv('BENCH_STORM_KIOSKS', 500)),
  };
}

interface User { name: string; password: string }
interface Cloud { authUrl: string; project: string; domain: string; users: User[] }

const CloudJson = z.object({
  keystone: z.string().url(),
  users: z.record(z.string(), z.object({ password: z.string() })),
});

/** The inventory up.sh wrote; without it, up.sh's documented defaults (the probe then tells). */
function readCloud(): Cloud {
  const dir = process.env.THINKIOSK_CLOUD_DIR ?? '/var/tmp/thinkiosk-cloud';
  const fallback: Cloud = {
    authUrl: 'http://127.0.0.1:5000/v3', project: 'kiosk', domain: 'Default',
    users: [{ name: 'alice', password: 'alicepass' }, { name: 'bob', password: 'bobpass' }],
  };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(`${dir}/cloud.json`, 'utf8'));
  } catch {
    return fallback;
  }
  const parsed = CloudJson.safeParse(raw);
  if (!parsed.success) return fallback;
  const users = ['alice', 'bob'].flatMap((name) => {
    const user = parsed.data.users[name];
    return user ? [{ name, password: user.password }] : [];
  });
  return { ...fallback, authUrl: parsed.data.keystone.replace(/\/+$/, ''), users: users.length ? users : fallback.users };
}

// ---------------------------------------------------------------- measuring

/** A failed call, named the way the report groups it: "503 upstream-unavailable", "network ECONNRESET". */
class CallFailed extends Error {}

async function failureOf(response: Response): Promise<CallFailed> {
  const text = await response.text();
  let kind = '';
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(text));
    if (parsed.success) kind = ` ${parsed.data.error.kind}`;
  } catch {
    // not the shim's JSON error (an OpenStack service answered): the status says enough
  }
  return new CallFailed(`${response.status}${kind}`);
}

function describeError(error: unknown): string {
  if (error instanceof CallFailed) return error.message;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'aborted (hard stop)';
  // fetch reports socket trouble as TypeError("fetch failed") with the system error as its cause.
  const cause: unknown = error instanceof Error ? error.cause : undefined;
  if (cause && typeof cause === 'object' && 'code' in cause) return `network ${String(cause.code)}`;
  return (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 120);
}

/** Latencies of the calls that worked, and a count per kind of those that did not. */
class Series {
  readonly samples: number[] = [];
  readonly errors = new Map<string, number>();

  constructor(readonly label: string) {}

  /** Times `op` (body read included, as a kiosk waits for it); `record: false` is for warm-ups. */
  async time(op: () => Promise<void>, record = true): Promise<number | null> {
    const started = performance.now();
    try {
      await op();
    } catch (error) {
      if (record) this.fail(describeError(error));
      return null;
    }
    const ms = performance.now() - started;
    if (record) this.samples.push(ms);
    return ms;
  }

  fail(kind: string): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
  }

  errorCount(): number {
    return [...this.errors.values()].reduce((a, b) => a + b, 0);
  }

  /** Nearest-rank percentile: an actual observed latency, no interpolation. */
  percentile(p: number): number {
    const sorted = [...this.samples].sort((a, b) => a - b);
    return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
  }
}

// ---------------------------------------------------------------- the two sides of each comparison

/** The shim, spoken to like a kiosk does (contract/api.ts). */
class ShimClient {
  constructor(readonly base: string) {}

  async login(user: User, signal?: AbortSignal): Promise<string> {
    const response = await fetch(`${this.base}${ROUTES.login.path}`, {
      method: ROUTES.login.method, headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: user.name, password: user.password }), signal,
    });
    if (response.status !== 201) throw await failureOf(response);
    return Session.parse(await response.json()).token;
  }

  async listDesktops(token: string, signal?: AbortSignal): Promise<number> {
    const response = await fetch(`${this.base}${ROUTES.desktops.path}`, { headers: { Authorization: `Bearer ${token}` }, signal });
    if (response.status !== 200) throw await failureOf(response);
    return ShimDesktops.parse(await response.json()).desktops.length;
  }

  async metricsText(): Promise<string> {
    const response = await fetch(`${this.base}${METRICS_ROUTE.path}`);
    if (response.status !== 200) throw await failureOf(response);
    return response.text();
  }
}

// Minimal schemas on both sides of the list comparison, so neither pays more client-side parsing.
const ShimDesktops = z.object({ desktops: z.array(z.object({ id: z.string() })) });
const NovaServers = z.object({
  servers: z.array(z.object({ id: z.string(), image: z.union([z.object({ id: z.string() }), z.literal('')]).nullish() })),
});
const GlanceImage = z.object({ id: z.string() });
const KeystoneTokenBody = z.object({ token: z.object({ expires_at: z.string() }) });

/** What a kiosk without the shim does: talk to Keystone, Nova and Glance itself. */
class DirectClient {
  constructor(private readonly cloud: Cloud) {}

  async login(user: User): Promise<void> {
    const auth = {
      identity: { methods: ['password'], password: { user: { name: user.name, domain: { name: this.cloud.domain }, password: user.password } } },
      scope: { project: { name: this.cloud.project, domain: { name: this.cloud.domain } } },
    };
    const response = await fetch(`${this.cloud.authUrl}/auth/tokens`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ auth }),
    });
    if (response.status !== 201) throw await failureOf(response);
    KeystoneTokenBody.parse(await response.json());
    if (!response.headers.get('x-subject-token')) throw new CallFailed('201 without X-Subject-Token');
  }

  /** Nova's list of the user's servers, then each distinct image once, in parallel (for the guest OS). */
  async listDesktops(token: KeystoneToken): Promise<number> {
    const headers = { 'X-Auth-Token': token.token, Accept: 'application/json' };
    const query = new URLSearchParams({ user_id: token.user.id });
    const response = await fetch(`${token.endpoints.compute}/servers/detail?${query}`, {
      headers: { ...headers, 'OpenStack-API-Version': `compute ${NOVA_MICROVERSION}` },
    });
    if (response.status !== 200) throw await failureOf(response);
    const { servers } = NovaServers.parse(await response.json());
    const imageIds = new Set(servers.flatMap((s) => (s.image && typeof s.image === 'object' ? [s.image.id] : [])));
    await Promise.all([...imageIds].map(async (id) => {
      const image = await fetch(`${token.endpoints.image}/v2/images/${encodeURIComponent(id)}`, { headers });
      if (image.status !== 200) throw await failureOf(image);
      GlanceImage.parse(await image.json());
    }));
    return servers.length;
  }
}

// ---------------------------------------------------------------- phases

interface Pair { shim: Series; direct: Series }

/**
 * A, B, A, B…: whatever else the machine is doing hits both sides alike. Warm-up rounds fill
 * connection pools, JIT and the shim's image cache, and are not recorded.
 */
async function interleave(iterations: number, pair: Pair, shimOp: () => Promise<void>, directOp: () => Promise<void>): Promise<void> {
  for (let round = 0; round < WARMUP_ROUNDS + iterations; round++) {
    const record = round >= WARMUP_ROUNDS;
    await pair.shim.time(shimOp, record);
    await pair.direct.time(directOp, record);
  }
}

async function listPhase(settings: Settings, shim: ShimClient, direct: DirectClient, alice: User, tokens: PasswordTokenSource): Promise<Pair> {
  const pair = { shim: new Series('list   shim   GET /v1/desktops'), direct: new Series('list   direct nova + glance') };
  const session = await shim.login(alice);
  const seen = { shim: -1, direct: -1 };
  await interleave(settings.iterations, pair,
    async () => { seen.shim = await shim.listDesktops(session); },
    // The token source re-authenticates only near expiry, so this is a cached value, not a login.
    async () => { seen.direct = await direct.listDesktops(await tokens.get()); });
  if (seen.shim !== seen.direct) console.log(`warning: the shim listed ${seen.shim} desktops but Nova ${seen.direct} servers`);
  return pair;
}

async function loginPhase(settings: Settings, shim: ShimClient, direct: DirectClient, alice: User): Promise<Pair> {
  const pair = { shim: new Series('login  shim   POST /v1/session'), direct: new Series('login  direct POST /v3/auth/tokens') };
  await interleave(settings.iterations, pair, async () => { await shim.login(alice); }, () => direct.login(alice));
  return pair;
}

interface StormResult { login: Series; list: Series; okSessions: number; seconds: number; lastLoginAt: number; maxStartLagMs: number }

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Kiosk i starts at i × window / n: the schedule alone sets the load (no concurrency cap), as when
 * a room of kiosks is switched on. Whatever is still running at the hard stop is aborted and counted.
 */
async function stormPhase(settings: Settings, shim: ShimClient, users: User[]): Promise<StormResult> {
  const login = new Series('storm  login  POST /v1/session');
  const list = new Series('storm  list   GET /v1/desktops');
  const signal = AbortSignal.timeout(STORM_HARD_STOP_MS);
  const spacingMs = (settings.stormSeconds * 1000) / settings.stormKiosks;
  const t0 = performance.now();
  let okSessions = 0;
  let lastLoginAt = 0;
  let maxStartLagMs = 0;

  const kiosk = async (i: number): Promise<void> => {
    await sleep(t0 + i * spacingMs - performance.now());
    // A late start means this process, not the shim, was the bottleneck: worth reporting.
    maxStartLagMs = Math.max(maxStartLagMs, performance.now() - (t0 + i * spacingMs));
    const user = users[i % users.length] ?? users[0]!;
    let token = '';
    const loginMs = await login.time(async () => { token = await shim.login(user, signal); });
    if (loginMs === null) return;
    lastLoginAt = performance.now() - t0;
    const listMs = await list.time(async () => { await shim.listDesktops(token, signal); });
    if (listMs !== null) okSessions += 1;
  };

  await Promise.all(Array.from({ length: settings.stormKiosks }, (_, i) => kiosk(i)));
  return { login, list, okSessions, seconds: (performance.now() - t0) / 1000, lastLoginAt, maxStartLagMs };
}

// ---------------------------------------------------------------- the shim's own metrics

/** service → calls and seconds, from thinkiosk_upstream_request_duration_seconds_{sum,count}. */
type Upstream = Map<string, { count: number; sum: number; outcomes: Map<string, number> }>;

const UPSTREAM_LINE = /^thinkiosk_upstream_request_duration_seconds_(sum|count)\{([^}]*)\} (\S+)$/;

function parseUpstream(text: string): { upstream: Upstream; lines: string[] } {
  const upstream: Upstream = new Map();
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    const match = UPSTREAM_LINE.exec(line);
    if (!match) continue;
    lines.push(line);
    const [, which, labels = '', value = '0'] = match;
    const service = /service="([^"]*)"/.exec(labels)?.[1] ?? '?';
    const outcome = /outcome="([^"]*)"/.exec(labels)?.[1] ?? '?';
    const entry = upstream.get(service) ?? { count: 0, sum: 0, outcomes: new Map<string, number>() };
    if (which === 'sum') entry.sum += Number(value);
    else {
      entry.count += Number(value);
      entry.outcomes.set(outcome, (entry.outcomes.get(outcome) ?? 0) + Number(value));
    }
    upstream.set(service, entry);
  }
  return { upstream, lines };
}

async function upstreamSnapshot(shim: ShimClient): Promise<Upstream> {
  return parseUpstream(await shim.metricsText()).upstream;
}

/** Calls and mean latency per service between two snapshots: what one phase cost upstream. */
function upstreamDelta(before: Upstream, after: Upstream): string {
  const parts = [...after].map(([service, a]) => {
    const b = before.get(service) ?? { count: 0, sum: 0 };
    const count = a.count - b.count;
    return count > 0 ? `${service} ${count} calls mean ${((1000 * (a.sum - b.sum)) / count).toFixed(1)} ms` : '';
  });
  return parts.filter(Boolean).join(', ') || 'no upstream calls';
}

// ---------------------------------------------------------------- report

const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : '-');
const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? (a / b).toFixed(2) : '-');

function errorText(series: Series): string {
  return series.errorCount() === 0 ? '0' : [...series.errors].map(([kind, n]) => `${n}× ${kind}`).join(', ');
}

function printTable(rows: Series[]): void {
  const header = `${'what'.padEnd(36)} ${'n'.padStart(4)} ${'p50 ms'.padStart(9)} ${'p95 ms'.padStart(9)} ${'p99 ms'.padStart(9)}  errors`;
  console.log(header);
  console.log('-'.repeat(header.length + 4));
  for (const s of rows) {
    console.log(`${s.label.padEnd(36)} ${String(s.samples.length).padStart(4)} ${ms(s.percentile(50)).padStart(9)} ${ms(s.percentile(95)).padStart(9)} ${ms(s.percentile(99)).padStart(9)}  ${errorText(s)}`);
  }
}

function printStorm(settings: Settings, storm: StormResult): void {
  const n = settings.stormKiosks;
  console.log(`storm: ${n} kiosks over ${settings.stormSeconds} s (offered ${(n / settings.stormSeconds).toFixed(1)} logins/s), users alternating`);
  console.log(`  logins ok ${storm.login.samples.length}/${n}, login+list ok ${storm.okSessions}/${n}, finished in ${storm.seconds.toFixed(1)} s`);
  console.log(`  achieved ${(storm.login.samples.length / Math.max(storm.lastLoginAt / 1000, 1e-3)).toFixed(1)} logins/s (ok logins / time to the last one), latest kiosk start ${storm.maxStartLagMs.toFixed(0)} ms behind schedule`);
  console.log(`  errors: login ${errorText(storm.login)}; list ${errorText(storm.list)}`);
}

function printMetrics(text: string): void {
  const { upstream, lines } = parseUpstream(text);
  console.log('shim /metrics, upstream calls over the whole run (warm-ups included):');
  for (const line of lines) console.log(`  ${line}`);
  for (const [service, e] of upstream) {
    const outcomes = [...e.outcomes].map(([o, c]) => `${o}:${c}`).join(' ');
    console.log(`  ${service.padEnd(8)} count=${e.count} sum=${e.sum.toFixed(3)}s mean=${ms((1000 * e.sum) / e.count)}ms outcomes ${outcomes}`);
  }
}

// ---------------------------------------------------------------- setup and main

class CloudUnreachable extends Error {}

/** Keystone answers at all? Checked first so a stopped cloud gives one clear sentence. */
async function probeKeystone(authUrl: string): Promise<void> {
  let status: number;
  try {
    const response = await fetch(authUrl, { signal: AbortSignal.timeout(5000) });
    await response.text();
    status = response.status;
  } catch (error) {
    throw new CloudUnreachable(`Keystone at ${authUrl} does not answer (${describeError(error)}).`);
  }
  if (status >= 500) throw new CloudUnreachable(`Keystone at ${authUrl} answers ${status}.`);
}

/** The direct side's token and catalog, got once outside the timings (a kiosk would keep them too). */
async function directTokens(cloud: Cloud, alice: User): Promise<PasswordTokenSource> {
  const keystone = new KeystoneClient(new OpenStackHttp({ timeoutMs: 15_000 }), cloud.authUrl, 'public');
  const tokens = new PasswordTokenSource(keystone, { username: alice.name, password: alice.password, domain: cloud.domain, project: cloud.project });
  try {
    await tokens.get();
  } catch (error) {
    if (error instanceof OpenStackError && error.kind === 'unavailable') throw new CloudUnreachable(error.message);
    throw error;
  }
  return tokens;
}

async function startShim(cloud: Cloud): Promise<{ app: FastifyInstance; shim: ShimClient }> {
  const config = parseConfig({
    listen: { port: 0 },
    openstack: { authUrl: cloud.authUrl, defaultProject: cloud.project },
    // The storm logs in hundreds of times from one address: the brute-force guard must not interfere.
    loginGuard: { maxFailuresPerUser: 1_000_000, maxFailuresPerAddress: 1_000_000, windowSeconds: 60, lockoutSeconds: 1 },
  }, 'bench');
  const { app } = buildController(config, silentLogger);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('the shim has no TCP address');
  return { app, shim: new ShimClient(`http://127.0.0.1:${address.port}`) };
}

async function stopShim(app: FastifyInstance): Promise<void> {
  // Kept-alive kiosk connections would otherwise hold the server (and this process) open.
  app.server.closeAllConnections();
  await app.close();
}

async function runBenchmarks(settings: Settings, cloud: Cloud, shim: ShimClient, tokens: PasswordTokenSource): Promise<void> {
  const alice = cloud.users[0]!;
  const direct = new DirectClient(cloud);
  const snapshots = [await upstreamSnapshot(shim)];
  console.log(`list: ${settings.iterations} interleaved rounds (+${WARMUP_ROUNDS} warm-up)…`);
  const list = await listPhase(settings, shim, direct, alice, tokens);
  snapshots.push(await upstreamSnapshot(shim));
  console.log(`login: ${settings.iterations} interleaved rounds (+${WARMUP_ROUNDS} warm-up)…`);
  const login = await loginPhase(settings, shim, direct, alice);
  snapshots.push(await upstreamSnapshot(shim));
  console.log(`storm: ${settings.stormKiosks} kiosks over ${settings.stormSeconds} s (hard stop ${STORM_HARD_STOP_MS / 1000} s)…`);
  const storm = await stormPhase(settings, shim, cloud.users);
  snapshots.push(await upstreamSnapshot(shim));

  console.log('');
  printTable([list.shim, list.direct, login.shim, login.direct, storm.login, storm.list]);
  console.log('');
  printStorm(settings, storm);
  console.log('');
  // The shim caches each image's guest OS (imageCacheSeconds, 600 by default), so after the
  // warm-up its list is one Nova call while the direct side also pays Glance every time.
  console.log(`upstream per phase (shim only): list: ${upstreamDelta(snapshots[0]!, snapshots[1]!)}`);
  console.log(`                                login: ${upstreamDelta(snapshots[1]!, snapshots[2]!)}`);
  console.log(`                                storm: ${upstreamDelta(snapshots[2]!, snapshots[3]!)}`);
  printMetrics(await shim.metricsText());
  console.log('');
  console.log(`ratio list shim/direct p50=${ratio(list.shim.percentile(50), list.direct.percentile(50))} p95=${ratio(list.shim.percentile(95), list.direct.percentile(95))}`);
  console.log(`ratio login shim/keystone p50=${ratio(login.shim.percentile(50), login.direct.percentile(50))} p95=${ratio(login.shim.percentile(95), login.direct.percentile(95))}`);
  // A kiosk counts as an error when its login or its list failed; percentiles are of the calls that worked.
  const stormErrors = settings.stormKiosks - storm.okSessions;
  console.log(`storm ${settings.stormKiosks} logins: errors=${stormErrors} p99=${ms(storm.login.percentile(99))}ms login_errors=${storm.login.errorCount()} list_errors=${storm.list.errorCount()} list_p99=${ms(storm.list.percentile(99))}ms`);
}

async function main(): Promise<number> {
  const settings = readSettings();
  const cloud = readCloud();
  const alice = cloud.users[0]!;
  console.log(`thinkiosk controller benchmark — cloud ${cloud.authUrl}, user ${alice.name}, project ${cloud.project}`);
  let tokens: PasswordTokenSource;
  try {
    await probeKeystone(cloud.authUrl);
    tokens = await directTokens(cloud, alice);
    // One untimed direct list: Nova and Glance must answer too before any figure means anything.
    await new DirectClient(cloud).listDesktops(await tokens.get());
  } catch (error) {
    const reason = error instanceof CloudUnreachable ? error.message : describeError(error);
    console.error(`The test cloud is not reachable or not ready: ${reason}\n${UP_HINT}`);
    return 1;
  }
  const { app, shim } = await startShim(cloud);
  try {
    await runBenchmarks(settings, cloud, shim, tokens);
  } finally {
    await stopShim(app);
  }
  return 0;
}

process.exitCode = await main();
// Calls the shim still has in flight to a saturated cloud (up to 3 × 15 s after a storm) must not
// keep the process alive once the report is out; a clean run exits on its own before this fires.
setTimeout(() => process.exit(), 2000).unref();
