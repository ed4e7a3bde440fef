/**
 * Kiosk benchmark (not a test): time from "Connect" to the first correct frame, for each protocol,
 * through the whole kiosk (page → kiosk relay → controller → controller relay → server, or the
 * supervised native viewer) against the same server opened directly (a bare noVNC / spice-html5
 * page behind a plain websocket-to-TCP bridge, or xfreerdp started by hand), side by side in one
 * run, interleaved; and the kiosk's memory (PSS of its Node process and every Chromium process) at
 * the desktop list and during a VNC session.
 * "Correct frame" = the local desktops' known picture (checkQuadPattern), polled the same way
 * on both sides: a quarter-scale capture of the page (grabPage) every ~50 ms. A full-size PNG took
 * 300-500 ms here under load, so a frame that came 60 ms later often cost a whole extra
 * screenshot: the ratio jumped between ~1.0 and ~1.7 from round to round.
 *   BENCH_ROUNDS (default 5; 0: the memory only)
 *   BENCH_CHROMIUM_ARGS: switches added to the kiosk's Chromium, space-separated (to try one before it goes into chromium-args.ts)
 *   BENCH_MEMORY_PROCESSES=1 also prints every process of the kiosk with its command line
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import type { CDPSession, Page } from 'playwright-core';
import { hashPassword } from '../controller/core/password-hash.js';
import { startLocalDesktops } from '../scripts/local-desktops/start.js';
import { startStaticController } from '../test/support/static-harness.js';
import { startKiosk } from '../test/support/kiosk.js';
import { chromiumArgs, hasGpuRenderNode } from '../app/shell/chromium-args.js';
import { createProfile } from '../app/shell/chromium-profile.js';
import { checkQuadPattern } from '../test/support/pattern.js';

const ROUNDS = Math.max(0, Number(process.env.BENCH_ROUNDS ?? 5));
const PORTS = { vnc: 17101, spice: 17102, rdp: 17103, controller: 17110, bridge: 17111 };
/** The goals of issue 13, printed next to the figures. */
const GOALS = { ratio: { vnc: 1.1, spice: 1.1, rdp: 1.05 }, memoryMiB: { list: 250, vncSession: 300 } };
const DISPLAY_BASE = 65; // :65 VNC, :66 RDP server
const VIEWER_DISPLAY = ':67'; // where native viewers draw
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function untilPattern(what: string, grab: () => Promise<Buffer> | Buffer, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const check = checkQuadPattern(await grab());
    if (check.ok) return;
    last = check.detail;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what}: no correct frame within the time limit (last: ${last})`);
}

const captures = new WeakMap<Page, CDPSession>();

/** What the page shows, at a quarter of its size (the known picture is four big blocks): cheap to take, encode and check. */
async function grabPage(page: Page): Promise<Buffer> {
  let cdp = captures.get(page);
  if (!cdp) captures.set(page, (cdp = await page.context().newCDPSession(page)));
  const { data } = await cdp.send('Page.captureScreenshot', { format: 'png', clip: { x: 0, y: 0, width: 1024, height: 768, scale: 0.25 }, optimizeForSpeed: true });
  return Buffer.from(data, 'base64');
}

/** The baseline's plumbing: a static page server plus a bare websocket→TCP bridge (no auth, no tickets). */
function startBaselineServer(): Promise<http.Server> {
  const pages: Record<string, string> = {
    '/vnc.html': `<!doctype html><body style="margin:0"><div id="screen" style="width:100vw;height:100vh"></div><script type="module">
import RFB from '/vendor/novnc/core/rfb.js';
const q = new URLSearchParams(location.search);
let rfb;
window.go = () => { rfb = new RFB(document.getElementById('screen'), 'ws://' + location.host + '/tcp/' + q.get('port'), { credentials: { password: q.get('password') } }); rfb.scaleViewport = true; };
window.stop = () => rfb.disconnect();
window.ready = true;
</script></body>`,
    '/spice.html': `<!doctype html><body style="margin:0"><div id="spice-screen" style="width:100vw;height:100vh"></div><div id="m" hidden></div><script type="module">
import { SpiceMainConn } from '/vendor/spice/main.js';
const q = new URLSearchParams(location.search);
let sc;
window.go = () => { sc = new SpiceMainConn({ uri: 'ws://' + location.host + '/tcp/' + q.get('port'), screen_id: 'spice-screen', message_id: 'm', password: q.get('password') }); };
window.stop = () => { sc.stop(); document.getElementById('spice-screen').replaceChildren(); };
window.ready = true;
</script></body>`,
  };
  const vendor: Record<string, string> = { '/vendor/novnc/': 'node_modules/@novnc/novnc/', '/vendor/spice/': 'node_modules/@spice-project/spice-html5/src/' };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const page = pages[url.pathname];
    if (page) return res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    for (const [prefix, dir] of Object.entries(vendor)) {
      if (url.pathname.startsWith(prefix)) {
        try {
          return res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(path.join(ROOT, dir, url.pathname.slice(prefix.length))));
        } catch {
          break;
        }
      }
    }
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => (p.has('binary') ? 'binary' : false) });
  server.on('upgrade', (req, socket, head) => {
    const port = Number(/^\/tcp\/(\d+)$/.exec(req.url ?? '')?.[1]);
    wss.handleUpgrade(req, socket, head, (ws) => {
      const tcp = net.connect(port, '127.0.0.1');
      tcp.on('data', (data) => ws.send(data));
      ws.on('message', (data) => tcp.write(data as Buffer));
      tcp.on('close', () => ws.close());
      tcp.on('error', () => ws.close());
      ws.on('close', () => tcp.destroy());
    });
  });
  return new Promise((resolve) => server.listen(PORTS.bridge, '127.0.0.1', () => resolve(server)));
}

/** One process's share of the kiosk's memory: what it is (from its command line) and its PSS in MiB. */
interface ProcessMemory { kind: string; pid: number; pssMiB: number; cmdline: string }

/** What a kiosk process is: the Node shell, or which of Chromium's processes (its `--type`, a utility's service). */
function processKind(cmdline: string[]): string {
  if (!/chrom/i.test(cmdline[0] ?? '')) return `node (kiosk shell)`;
  const type = cmdline.find((arg) => arg.startsWith('--type='))?.slice('--type='.length);
  if (!type) return 'chromium browser';
  if (type === 'utility') {
    const service = cmdline.find((arg) => arg.startsWith('--utility-sub-type='))?.slice('--utility-sub-type='.length) ?? '?';
    return `utility ${service.replace(/\.mojom\.\w+$/, '')}`;
  }
  if (type === 'zygote') return cmdline.includes('--no-zygote-sandbox') ? 'zygote (unsandboxed)' : 'zygote';
  return type;
}

/**
 * PSS of the given processes and all their descendants, one row per process: each shared page counted
 * once in proportion (summing RSS would count Chromium's shared libraries once per process).
 */
function treeMemory(roots: number[]): ProcessMemory[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch { /* gone */ }
  }
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid; p && p > 1; p = parent.get(p)) if (roots.includes(p)) return true;
    return false;
  };
  const rows: ProcessMemory[] = [];
  for (const pid of parent.keys()) {
    if (!inTree(pid)) continue;
    try {
      const kib = Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
      // Chromium's child processes rewrite their title: one string with spaces, not NUL-separated.
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
      rows.push({ kind: processKind(cmdline), pid, pssMiB: kib / 1024, cmdline: cmdline.join(' ') });
    } catch { /* gone */ }
  }
  return rows.sort((a, b) => b.pssMiB - a.pssMiB);
}

const totalMiB = (rows: ProcessMemory[]): number => rows.reduce((sum, row) => sum + row.pssMiB, 0);

/** Per kind of process (count and PSS) at the list and in a VNC session, then the totals against the goals. */
function memoryTable(list: ProcessMemory[], session: ProcessMemory[]): string {
  const byKind = (rows: ProcessMemory[]): Map<string, { n: number; mib: number }> => {
    const kinds = new Map<string, { n: number; mib: number }>();
    for (const row of rows) {
      const kind = kinds.get(row.kind) ?? { n: 0, mib: 0 };
      kind.n += 1;
      kind.mib += row.pssMiB;
      kinds.set(row.kind, kind);
    }
    return kinds;
  };
  const [atList, inSession] = [byKind(list), byKind(session)];
  const cell = (entry: { n: number; mib: number } | undefined): string => (entry ? `${entry.mib.toFixed(1)}${entry.n > 1 ? ` (${entry.n})` : ''}` : '-').padStart(12);
  const lines = [`${'process'.padEnd(28)}${'list'.padStart(12)}${'VNC session'.padStart(12)}`];
  for (const kind of new Set([...atList.keys(), ...inSession.keys()])) lines.push(`${kind.padEnd(28)}${cell(atList.get(kind))}${cell(inSession.get(kind))}`);
  lines.push(`${'total'.padEnd(28)}${totalMiB(list).toFixed(0).padStart(12)}${totalMiB(session).toFixed(0).padStart(12)}`);
  lines.push(`${'goal'.padEnd(28)}${`≤ ${GOALS.memoryMiB.list}`.padStart(12)}${`≤ ${GOALS.memoryMiB.vncSession}`.padStart(12)}`);
  return lines.join('\n');
}

/**
 * The kiosk's page in Chromium as the browser shell starts it (kiosk-browser.ts): its own command
 * line (chromium-args.ts, none of playwright's switches), a fresh kiosk profile, a full-screen
 * window on the viewers' X display. The bare pages open later as a second tab of the same Chromium,
 * so both sides of a ratio run with the same switches. What differs from the shell, for the
 * benchmark to drive it: a debugging port on 127.0.0.1 instead of the shell's pipe (playwright
 * attaches to a running Chromium only that way), the profile's "no developer tools" preference left
 * out (it hides the page from the debugger), and the bare pages' origin allowed besides the kiosk's.
 */
async function startKioskChromium(pageUrl: string, work: string): Promise<{ page: Page; newPage(): Promise<Page>; pid: number; stop(): Promise<void> }> {
  const profile = createProfile(pageUrl, new URL(pageUrl).origin, work);
  const preferencesFile = path.join(profile, 'Default', 'Preferences');
  const preferences = JSON.parse(readFileSync(preferencesFile, 'utf8')) as { devtools?: unknown; policy: { url_allowlist: string[] } };
  delete preferences.devtools;
  preferences.policy.url_allowlist.push(`http://127.0.0.1:${PORTS.bridge}`);
  writeFileSync(preferencesFile, JSON.stringify(preferences));
  const args = chromiumArgs({ profile, windowed: false, bareScreen: { width: 1024, height: 768 }, runningAsRoot: process.getuid?.() === 0, gpu: hasGpuRenderNode() })
    .map((arg) => (arg === '--remote-debugging-pipe' ? '--remote-debugging-port=0' : arg))
    .concat((process.env.BENCH_CHROMIUM_ARGS ?? '').split(' ').filter(Boolean));
  const child = spawn('/usr/bin/chromium', args, { env: { ...process.env, DISPLAY: VIEWER_DISPLAY }, stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let port = '';
  for (let i = 0; i < 300 && !port; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    try {
      port = readFileSync(path.join(profile, 'DevToolsActivePort'), 'utf8').split('\n')[0] ?? '';
    } catch { /* not yet */ }
  }
  const { chromium: playwright } = await import('playwright-core');
  const browser = await playwright.connectOverCDP(`http://127.0.0.1:${port}`);
  const context = browser.contexts()[0]!;
  const page = context.pages().find((p) => p.url().startsWith(new URL(pageUrl).origin)) ?? await context.waitForEvent('page');
  return {
    page,
    newPage: () => context.newPage(),
    pid: child.pid!,
    stop: async () => {
      await browser.close().catch(() => undefined);
      child.kill();
      await exited;
    },
  };
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'thinkiosk-bench-'));
  const children: ChildProcess[] = [];
  const desktops = await startLocalDesktops({
    workDir: path.join(work, 'desktops'), vncPort: PORTS.vnc, spicePort: PORTS.spice, rdpPort: PORTS.rdp, displayBase: DISPLAY_BASE,
    vncPassword: 'benchpw1', spicePassword: 'bench-tkt', rdpUser: 'bench', rdpPassword: 'bench-pass',
  });
  // Everything started is stopped in the finally below, also when a start fails (a kiosk that did
  // not start must not leave the desktops holding the bench's ports).
  let ctl: Awaited<ReturnType<typeof startStaticController>> | null = null;
  let baseline: Awaited<ReturnType<typeof startBaselineServer>> | null = null;
  let kiosk: Awaited<ReturnType<typeof startKiosk>> | null = null;
  let kioskChromium: Awaited<ReturnType<typeof startKioskChromium>> | null = null;
  const results: Record<string, { kiosk: number[]; direct: number[] }> = { vnc: { kiosk: [], direct: [] }, spice: { kiosk: [], direct: [] }, rdp: { kiosk: [], direct: [] } };
  const memory: Record<'list' | 'vncSession', ProcessMemory[]> = { list: [], vncSession: [] };
  try {
    ctl = await startStaticController({
      workDir: work, port: PORTS.controller, inventory: `
users: [{ name: bench, password: "${await hashPassword('bench-pass')}" }]
desktops:
  - { id: vnc, name: VNC, guestOs: { family: other }, endpoints: { vnc: { host: 127.0.0.1, port: ${PORTS.vnc}, password: benchpw1 } }, users: [bench] }
  - { id: spice, name: SPICE, guestOs: { family: linux }, usbRedirection: false, endpoints: { spice: { host: 127.0.0.1, port: ${PORTS.spice}, password: bench-tkt } }, users: [bench] }
  - { id: rdp, name: RDP, guestOs: { family: windows }, endpoints: { rdp: { host: 127.0.0.1, port: ${PORTS.rdp} } }, users: [bench] }
` });
    const xvfb = spawn('Xvfb', [VIEWER_DISPLAY, '-screen', '0', '1024x768x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
    children.push(xvfb);
    await new Promise((resolve) => setTimeout(resolve, 800));
    baseline = await startBaselineServer();
    kiosk = await startKiosk({ preset: `controller = ${ctl.url}\n`, env: { DISPLAY: VIEWER_DISPLAY } });
    kioskChromium = await startKioskChromium(kiosk.url, work);
    const kioskPage = kioskChromium.page;
    const screen = (): Buffer => execFileSync('import', ['-display', VIEWER_DISPLAY, '-window', 'root', 'png:-']);
    await kioskPage.getByTestId('username').fill('bench');
    await kioskPage.getByTestId('password').fill('bench-pass');
    await kioskPage.getByTestId('login-submit').click();
    await kioskPage.locator('[data-desktop-id=vnc]').waitFor();
    await kioskPage.waitForTimeout(1000);
    const kioskPid = Number(execFileSync('pgrep', ['-f', `dist/app/shell/main.js --no-browser --windowed --settings-dir ${kiosk.settingsDir}`]).toString().trim().split('\n')[0]);
    const chromium = kioskChromium.pid;
    memory.list = treeMemory([kioskPid, chromium]);
    await kioskPage.locator('[data-desktop-id=vnc] [data-testid=connect]').click();
    await untilPattern('kiosk VNC (memory)', () => grabPage(kioskPage));
    await kioskPage.waitForTimeout(1000);
    memory.vncSession = treeMemory([kioskPid, chromium]);
    await kioskPage.keyboard.press('Control+Alt+Home');
    await kioskPage.getByTestId('bar-disconnect').click();
    await kioskPage.getByTestId('desktops-screen').waitFor();
    const basePage = await kioskChromium.newPage(); // after the memory reading, which is of the kiosk page alone

    const inPage = async (page: Page, start: () => Promise<void>, stop: () => Promise<void>): Promise<number> => {
      await page.bringToFront(); // a background tab's timers and animation frames are throttled
      const t0 = performance.now();
      await start();
      await untilPattern(page === kioskPage ? 'kiosk page' : 'bare page', () => grabPage(page));
      const elapsed = performance.now() - t0;
      await stop();
      return elapsed;
    };
    // "Connect" is clicked in the page itself, in one evaluation as the bare page's go() is:
    // playwright's own click first waits for the button to hold still over two animation frames,
    // scrolls and hit-tests it (30-60 ms here), none of which is the kiosk's doing.
    const kioskConnect = (id: string) => async () => kioskPage.evaluate((desktop) => (document.querySelector(`[data-desktop-id=${desktop}] [data-testid=connect]`) as HTMLElement).click(), id);
    const kioskBack = async (): Promise<void> => {
      await kioskPage.keyboard.press('Control+Alt+Home');
      await kioskPage.getByTestId('bar-disconnect').click();
      await kioskPage.getByTestId('desktops-screen').waitFor();
    };
    for (let round = 0; ROUNDS > 0 && round < ROUNDS + 1; round++) {
      const keep = round > 0; // round 0 warms caches (module loading, JIT) on both sides
      const vncKiosk = await inPage(kioskPage, kioskConnect('vnc'), kioskBack);
      await basePage.goto(`http://127.0.0.1:${PORTS.bridge}/vnc.html?port=${PORTS.vnc}&password=benchpw1`);
      await basePage.waitForFunction('window.ready === true');
      const vncDirect = await inPage(basePage, () => basePage.evaluate('window.go()'), () => basePage.evaluate('window.stop()'));
      const spiceKiosk = await inPage(kioskPage, kioskConnect('spice'), kioskBack);
      await basePage.goto(`http://127.0.0.1:${PORTS.bridge}/spice.html?port=${PORTS.spice}&password=bench-tkt`);
      await basePage.waitForFunction('window.ready === true');
      const spiceDirect = await inPage(basePage, () => basePage.evaluate('window.go()'), () => basePage.evaluate('window.stop()'));
      // RDP: the kiosk's supervised xfreerdp vs xfreerdp started by hand, both drawing on VIEWER_DISPLAY
      // (where the kiosk's Chromium is too: its last SPICE frame must be gone first).
      await kioskPage.bringToFront();
      await untilPatternGone(screen);
      let t0 = performance.now();
      await kioskConnect('rdp')();
      await untilPattern('kiosk RDP', screen);
      const rdpKiosk = performance.now() - t0;
      await kioskPage.getByTestId('native-disconnect').click();
      await kioskPage.getByTestId('desktops-screen').waitFor();
      await untilPatternGone(screen);
      t0 = performance.now();
      const direct = spawn('xfreerdp', [`/v:127.0.0.1:${PORTS.rdp}`, '/u:bench', '/p:bench-pass', '/cert:ignore', '/f'], { env: { ...process.env, DISPLAY: VIEWER_DISPLAY, HOME: work }, stdio: 'ignore' });
      await untilPattern('xfreerdp by hand', screen);
      const rdpDirect = performance.now() - t0;
      direct.kill();
      await new Promise((resolve) => direct.once('exit', resolve));
      await untilPatternGone(screen);
      if (keep) {
        results.vnc!.kiosk.push(vncKiosk); results.vnc!.direct.push(vncDirect);
        results.spice!.kiosk.push(spiceKiosk); results.spice!.direct.push(spiceDirect);
        results.rdp!.kiosk.push(rdpKiosk); results.rdp!.direct.push(rdpDirect);
      }
      process.stderr.write(`round ${round}${keep ? '' : ' (warm-up)'}: vnc ${vncKiosk.toFixed(0)}/${vncDirect.toFixed(0)} spice ${spiceKiosk.toFixed(0)}/${spiceDirect.toFixed(0)} rdp ${rdpKiosk.toFixed(0)}/${rdpDirect.toFixed(0)} ms\n`);
    }
  } finally {
    await kioskChromium?.stop();
    await kiosk?.stop();
    baseline?.close();
    await ctl?.close();
    await desktops.stop();
    for (const child of children) child.kill();
    rmSync(work, { recursive: true, force: true });
  }
  if (ROUNDS === 0) results.vnc = results.spice = results.rdp = { kiosk: [NaN], direct: [NaN] };
  console.log(`\nKiosk: "Connect" → first correct frame, median of ${ROUNDS} interleaved rounds (ms)`);
  console.log('protocol  kiosk   direct  ratio  goal   (direct = an already loaded bare noVNC / spice-html5 page behind a plain ws→TCP bridge; xfreerdp by hand)');
  for (const [protocol, r] of Object.entries(results)) {
    const k = median(r.kiosk);
    const d = median(r.direct);
    console.log(`${protocol.padEnd(8)}  ${k.toFixed(0).padStart(5)}  ${d.toFixed(0).padStart(6)}  ${(k / d).toFixed(2).padStart(5)}  ≤ ${GOALS.ratio[protocol as keyof typeof GOALS.ratio].toFixed(2)}`);
  }
  console.log('\nKiosk memory: PSS (MiB) of the kiosk\'s Node process + all its Chromium processes, only the kiosk page open');
  console.log(memoryTable(memory.list, memory.vncSession));
  if (process.env.BENCH_MEMORY_PROCESSES === '1') {
    for (const [when, rows] of Object.entries(memory)) for (const row of rows) console.log(`${when} ${row.pssMiB.toFixed(1)} MiB ${row.pid} ${row.cmdline.slice(0, 400)}`);
  }
  writeFileSync(path.join(tmpdir(), 'thinkiosk-kiosk-bench.json'), JSON.stringify({ results, memory }, null, 1));
}

async function untilPatternGone(grab: () => Buffer): Promise<void> {
  for (let i = 0; i < 100 && checkQuadPattern(grab()).ok; i++) await new Promise((resolve) => setTimeout(resolve, 50));
}

main().catch((error: unknown) => {
  console.error(`kiosk bench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
