/**
 * The browser shell: the kiosk without Electron. It starts the kiosk runtime (page, calls over
 * HTTP with a launch key) and keeps Debian's Chromium open on it in app/kiosk mode, restarting it
 * if it dies. On a machine without a display it runs Chromium on a virtual X display and says how
 * to look at it (VNC on 127.0.0.1, or a screenshot).
 *
 *   node dist/app/shell/main.js [--controller URL] [--settings-dir DIR] [--preset FILE] [--port N]
 *                               [--windowed] [--no-browser] [--chromium PATH]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startKioskRuntime } from '../core/kiosk-runtime.js';
import { Settings } from '../core/settings.js';

const { values: args } = parseArgs({
  options: {
    controller: { type: 'string' },
    'settings-dir': { type: 'string' },
    preset: { type: 'string' },
    port: { type: 'string' },
    windowed: { type: 'boolean', default: false },
    'no-browser': { type: 'boolean', default: false },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
  },
});

const say = (message: string): void => void process.stdout.write(`[shell] ${message}\n`);
const VIRTUAL_DISPLAY = ':60';
const VIRTUAL_VNC_PORT = 5960;

function settingsDescription(): string {
  return process.env.THINKIOSK_BOOT_SOURCE ? `booted from ${process.env.THINKIOSK_BOOT_SOURCE}` : 'local';
}

async function main(): Promise<void> {
  const settingsDir = args['settings-dir'] ?? process.env.THINKIOSK_SETTINGS_DIR;
  if (args.controller) {
    // A convenience for the demo and for admins: the same as the preset file's `controller =`.
    new Settings(settingsDir ?? join(process.env.HOME ?? '/tmp', '.config', 'thinkiosk')).update({ controllerUrl: args.controller, controllerName: null, controllerBackend: null });
  }
  let pageLoaded = false;
  const runtime = await startKioskRuntime({
    rpcOverHttp: true,
    ...(settingsDir ? { settingsDir } : {}),
    ...(args.preset ? { presetFile: args.preset } : {}),
    ...(args.port ? { port: Number(args.port) } : {}),
    fullscreenViewers: !args.windowed,
    // One fixed line that the image's boot test and the system log look for.
    onPageLoaded: () => {
      pageLoaded = true;
      say(`THINKIOSK-KIOSK-READY page loaded (${settingsDescription()})`);
    },
  });
  const helpers: ChildProcess[] = [];
  let browser: ChildProcess | null = null;
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    browser?.kill('SIGTERM');
    for (const helper of helpers) helper.kill('SIGTERM');
    await runtime.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  if (args['no-browser']) {
    say(`kiosk page: ${runtime.url}`);
    return;
  }
  if (!existsSync(args.chromium)) {
    say(`${args.chromium} is missing (apt-get install chromium); the kiosk page is at ${runtime.url}`);
    return;
  }
  const env = { ...process.env };
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) {
    env.DISPLAY = VIRTUAL_DISPLAY;
    helpers.push(spawn('Xvfb', [VIRTUAL_DISPLAY, '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], { stdio: 'ignore' }));
    await new Promise((resolve) => setTimeout(resolve, 700));
    helpers.push(spawn('x11vnc', ['-display', VIRTUAL_DISPLAY, '-rfbport', String(VIRTUAL_VNC_PORT), '-localhost', '-forever', '-shared', '-nopw', '-quiet'], { stdio: 'ignore' }));
    say(`no display here: the kiosk runs on virtual display ${VIRTUAL_DISPLAY}.`);
    say(`  look at it with a VNC viewer on 127.0.0.1:${VIRTUAL_VNC_PORT} (e.g. ssh -L ${VIRTUAL_VNC_PORT}:127.0.0.1:${VIRTUAL_VNC_PORT} this-host)`);
    say(`  or take a screenshot: import -display ${VIRTUAL_DISPLAY} -window root kiosk.png`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'thinkiosk-chromium-'));
  process.on('exit', () => rmSync(profile, { recursive: true, force: true }));
  const chromiumArgs = [
    `--app=${runtime.url}`, `--user-data-dir=${profile}`, '--no-first-run', '--no-default-browser-check', '--noerrdialogs',
    '--disable-infobars', '--disable-session-crashed-bubble', '--disable-translate', '--disable-features=Translate,TranslateUI',
    '--overscroll-history-navigation=0', '--disable-pinch', '--password-store=basic', '--autoplay-policy=no-user-gesture-required',
    // A child process (the network service above all) ends itself when the browser has not
    // connected to it within 15 s. A first start with a fresh profile on a starved machine (four
    // emulated PCs netbooting at once) often misses that, and the browser never notices: no network
    // service, a white window for good. 300 s covers any start the watchdog below lets run.
    '--ipc-connection-timeout=300',
    ...(args.windowed ? ['--window-size=1280,800'] : ['--kiosk', '--start-fullscreen']),
    // A bare X server has no window manager to make the kiosk window fill the screen.
    ...(env.DISPLAY === VIRTUAL_DISPLAY ? ['--window-position=0,0', '--window-size=1280,800'] : []),
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), // Chromium refuses to run as root with its sandbox
  ];
  // Chromium dying must not leave a desktop or a blank screen: start it again, slower if it keeps dying.
  const recentExits: number[] = [];
  let hangs = 0;
  const launch = (): void => {
    if (stopping) return;
    const started = spawn(args.chromium, chromiumArgs, { env, stdio: 'ignore' });
    browser = started;
    say(`chromium started (pid ${started.pid})`);
    // A Chromium that runs but never loads the page (seen on starved, emulated machines: a white
    // window for good, nearly always its first start, while a restart loads in under a minute) is as
    // dead as one that exited: killed, and so started again. Each further hang doubles the wait, so
    // a machine that is merely slow still gets there.
    const waitSeconds = PAGE_LOAD_SECONDS * 2 ** Math.min(hangs, 3);
    const watchdog = setTimeout(() => {
      if (pageLoaded || stopping || started.exitCode !== null || started.signalCode !== null) return;
      hangs++;
      say(`chromium has not loaded the kiosk page in ${waitSeconds} s; starting it again`);
      started.kill('SIGKILL');
    }, waitSeconds * 1000);
    started.once('exit', () => clearTimeout(watchdog));
    started.on('exit', (code, signal) => {
      if (stopping) return;
      const now = Date.now();
      recentExits.push(now);
      while (recentExits.length && recentExits[0]! < now - 60_000) recentExits.shift();
      const delay = recentExits.length > 3 ? 10_000 : 1_000;
      say(`chromium exited (${signal ?? code}); restarting in ${delay / 1000} s`);
      setTimeout(launch, delay);
    });
  };
  launch();
  if (spawnSync('which', ['x11vnc']).status !== 0 && env.DISPLAY === VIRTUAL_DISPLAY) say('x11vnc is missing: only screenshots are possible');
}

/**
 * How long a started Chromium may first take to load the page before it counts as hung
 * (THINKIOSK_PAGE_LOAD_SECONDS). Four emulated PCs on two cores loaded it in under 45 s after a
 * restart, so 120 s is well past slow; doubled after each hang.
 */
const PAGE_LOAD_SECONDS = Math.max(10, Number(process.env.THINKIOSK_PAGE_LOAD_SECONDS) || 120);

main().catch((error: unknown) => {
  process.stderr.write(`[shell] cannot start the kiosk: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
