/**
 * The browser shell: the kiosk without Electron. It starts the kiosk runtime (page, calls over
 * HTTP with a per-launch key) and keeps Debian's Chromium open on it in kiosk mode (kiosk-browser.ts),
 * on a fresh profile for every person. Chromium is started first, on the page server's socket that
 * already listens (local-server.ts listenLocal), and the runtime's modules load while it starts:
 * its first requests wait until the runtime serves them. (So this file imports nothing heavy
 * statically: the runtime and the settings store are loaded after Chromium's start.) On a machine
 * without a display it first makes a virtual X display (virtual-display.ts), which the native
 * viewers use too, and says how to look at it.
 *
 *   node dist/app/shell/main.js [--controller URL] [--settings-dir DIR] [--preset FILE] [--port N]
 *        [--windowed] [--no-browser] [--chromium PATH]
 *        [--virtual-display :N (default :60, or THINKIOSK_VIRTUAL_DISPLAY)] [--virtual-vnc-port N (default 5900+N; 0: none)]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LaunchKeys } from '../core/launch-keys.js';
import { listenLocal } from '../core/local-server.js';
import type { KioskRuntime } from '../core/kiosk-runtime.js';
import { chromiumArgs, hasGpuRenderNode } from './chromium-args.js';
import { KioskBrowser } from './kiosk-browser.js';
import { displayNumber, startVirtualDisplay, type VirtualDisplay } from './virtual-display.js';

const { values: args } = parseArgs({
  options: {
    controller: { type: 'string' },
    'settings-dir': { type: 'string' },
    preset: { type: 'string' },
    port: { type: 'string' },
    windowed: { type: 'boolean', default: false },
    'no-browser': { type: 'boolean', default: false },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
    'virtual-display': { type: 'string' },
    'virtual-vnc-port': { type: 'string' },
  },
});

const say = (message: string): void => void process.stdout.write(`[shell] ${message}\n`);
const SCREEN = { width: 1280, height: 800 };

/**
 * How long a started Chromium may first take to load the page before it counts as hung
 * (THINKIOSK_PAGE_LOAD_SECONDS). Four emulated PCs on two cores loaded it in under 45 s after a
 * restart, so 120 s is well past slow; doubled after each hang.
 */
const PAGE_LOAD_SECONDS = Math.max(10, Number(process.env.THINKIOSK_PAGE_LOAD_SECONDS) || 120);

function settingsDescription(): string {
  return process.env.THINKIOSK_BOOT_SOURCE ? `booted from ${process.env.THINKIOSK_BOOT_SOURCE}` : 'local';
}

async function main(): Promise<void> {
  const settingsDir = args['settings-dir'] ?? process.env.THINKIOSK_SETTINGS_DIR;
  if (args.controller) {
    // A convenience for the demo and for admins: the same as the preset file's `controller =`.
    const { Settings } = await import('../core/settings.js');
    new Settings(settingsDir ?? join(process.env.HOME ?? '/tmp', '.config', 'thinkiosk')).update({ controllerUrl: args.controller, controllerName: null, controllerBackend: null });
  }
  const withBrowser = !args['no-browser'] && existsSync(args.chromium);

  // The screen comes first: it is the kiosk process's own display from here on, so the native
  // viewers the kiosk starts (xfreerdp, remote-viewer) open their windows where Chromium is.
  let screen: VirtualDisplay | null = null;
  if (withBrowser && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    const display = args['virtual-display'] ?? process.env.THINKIOSK_VIRTUAL_DISPLAY ?? ':60';
    const vncPort = args['virtual-vnc-port'] !== undefined ? Number(args['virtual-vnc-port']) : 5900 + (displayNumber(display) ?? 60);
    screen = await startVirtualDisplay({ display, ...SCREEN, vncPort: vncPort > 0 ? vncPort : null });
    process.env.DISPLAY = screen.display;
    process.env.XAUTHORITY = screen.xauthority;
    say(`no display here: the kiosk runs on virtual display ${screen.display}.`);
    if (screen.vnc) {
      say(`  look at it with a VNC viewer on 127.0.0.1:${screen.vnc.port}, password ${screen.vnc.password} (e.g. ssh -L ${screen.vnc.port}:127.0.0.1:${screen.vnc.port} this-host)`);
    } else {
      say('  x11vnc is missing or off: only screenshots are possible');
    }
    say(`  or take a screenshot: XAUTHORITY=${screen.xauthority} import -display ${screen.display} -window root kiosk.png`);
  }

  const listening = await listenLocal(args.port ? Number(args.port) : 0);
  const keys = new LaunchKeys();
  let runtime: KioskRuntime | null = null;
  let browser: KioskBrowser | null = null;
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await browser?.stop();
    if (runtime) await runtime.close();
    else listening.server.close(); // (the runtime's close closes it)
    await screen?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  let ready = false;
  if (withBrowser) {
    const gpu = hasGpuRenderNode();
    browser = new KioskBrowser({
      chromium: args.chromium,
      args: (profile) => chromiumArgs({ profile, windowed: args.windowed, bareScreen: screen ? SCREEN : null, runningAsRoot: process.getuid?.() === 0, gpu }),
      env: process.env,
      pageUrl: listening.url,
      origin: listening.origin,
      keys,
      pageLoadSeconds: PAGE_LOAD_SECONDS,
      say,
      onPageLoaded: (launch, ms) => {
        // One fixed line that the image's boot test and the system log look for, at the first load.
        if (!ready) say(`THINKIOSK-KIOSK-READY page loaded (${settingsDescription()})`);
        else say(`page loaded ${ms} ms after chromium started (launch ${launch})`);
        ready = true;
      },
    });
    browser.start();
  }

  try {
    const { startKioskRuntime } = await import('../core/kiosk-runtime.js');
    runtime = await startKioskRuntime({
      rpcOverHttp: true,
      listening,
      launchKeys: keys,
      ...(settingsDir ? { settingsDir } : {}),
      ...(args.preset ? { presetFile: args.preset } : {}),
      fullscreenViewers: !args.windowed,
    });
  } catch (error) {
    // No Chromium left waiting on a page nobody will serve.
    await browser?.stop();
    throw error;
  }

  if (!browser) {
    // The page for a browser of one's own (the tests drive one): this URL works once.
    const page = `${runtime.url}#boot=${keys.beginLaunch().token}`;
    if (args['no-browser']) say(`kiosk page: ${page}`);
    else say(`${args.chromium} is missing (apt-get install chromium); the kiosk page is at ${page}`);
    return;
  }
  // Nothing of one person reaches the next: every session's end gets a Chromium that never saw it.
  runtime.backend.subscribe((event) => {
    if (event.type === 'session-ended') void browser?.recycle(`the session ended (${event.reason})`);
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`[shell] cannot start the kiosk: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
