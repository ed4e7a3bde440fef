/**
 * Chromium's command line for the kiosk, in one place. It is readable by every local user
 * (/proc/<pid>/cmdline), so it carries no secret: not the page's address (that is in the profile,
 * see chromium-profile.ts) and no key. The parent steers Chromium over `--remote-debugging-pipe`
 * (file descriptors 3 and 4, which only the parent holds), never over a debugging port.
 */
import { readdirSync } from 'node:fs';

export interface ChromiumArgsOptions {
  profile: string;
  /** A window for development instead of full-screen kiosk mode. */
  windowed: boolean;
  /** The screen is a bare X server without a window manager: place and size the window ourselves. */
  bareScreen: { width: number; height: number } | null;
  /** Chromium refuses to run as root with its sandbox. */
  runningAsRoot: boolean;
  /** The machine has a GPU render node (/dev/dri/renderD*): see hasGpuRenderNode(). */
  gpu: boolean;
}

/**
 * Whether Chromium could draw with a GPU here. Without a render node it emulates one in software
 * (SwiftShader) in its GPU process: about 40 MiB more than its plain software compositor, and no
 * faster. The image runs Chromium without the GPU anyway (cage composes in software; see
 * rootfs-overlay/etc/chromium.d/thinkiosk).
 */
export function hasGpuRenderNode(dir = '/dev/dri'): boolean {
  try {
    return readdirSync(dir).some((name) => name.startsWith('renderD'));
  } catch {
    return false;
  }
}

export function chromiumArgs(options: ChromiumArgsOptions): string[] {
  return [
    `--user-data-dir=${options.profile}`,
    '--remote-debugging-pipe',
    '--no-first-run', '--no-default-browser-check', '--noerrdialogs', '--disable-infobars', '--disable-session-crashed-bubble',
    // No sign-in, sync, translation, extensions or background services: nothing to offer, nothing to leave by.
    '--disable-sync', '--disable-extensions', '--disable-component-extensions-with-background-pages', '--disable-default-apps',
    '--disable-background-networking', '--disable-breakpad', '--disable-translate',
    // Memory (a 1 GB board): Chromium's own process model costs more than the kiosk's one page.
    // - WebUIOmniboxPopup, WebUIOmniboxAimPopup, WebUIOmniboxFullPopup: the address bar's
    //   suggestions are a web page (chrome://omnibox-popup.top-chrome) that Chromium preloads in a
    //   renderer of its own at start, ~70 MiB; kiosk mode has no address bar to show it in.
    // - SpareRendererForSitePerProcess: a started, empty renderer kept in reserve for the next
    //   site, ~20 MiB; the kiosk never navigates to another site (its own origin only).
    // Site isolation stays on: with one origin it costs no process (one renderer in all), and it
    // still keeps any other origin's frame, should one ever get in, out of the kiosk page's process.
    '--disable-features=Translate,TranslateUI,AutofillServerCommunication,MediaRouter,GlobalMediaControls,PrivacySandboxSettings4,' +
      'WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup,SpareRendererForSitePerProcess',
    // The network service in the browser process instead of a process of its own: ~18 MiB less at
    // the list and in a session (bench/kiosk-bench.ts, Chromium 156). It loses no sandbox: on Linux
    // the network service's own process runs unsandboxed anyway, like the browser. The renderers',
    // GPU's and storage's sandboxes and site isolation are unchanged. (The GPU process stays out of
    // the browser: --in-process-gpu would take the compositor out of its sandbox for ~5 MiB.)
    '--enable-features=NetworkServiceInProcess2',
    '--overscroll-history-navigation=0', '--disable-pinch', '--password-store=basic', '--autoplay-policy=no-user-gesture-required',
    // A child process (the network service above all) ends itself when the browser has not
    // connected to it within 15 s. A first start with a fresh profile on a starved machine (four
    // emulated PCs netbooting at once) often misses that, and the browser never notices: no network
    // service, a white window for good. 300 s covers any start the shell's watchdog lets run.
    '--ipc-connection-timeout=300',
    ...(options.windowed ? ['--window-size=1280,800'] : ['--kiosk', '--start-fullscreen']),
    ...(options.bareScreen ? ['--window-position=0,0', `--window-size=${options.bareScreen.width},${options.bareScreen.height}`] : []),
    ...(options.runningAsRoot ? ['--no-sandbox'] : []),
    ...(options.gpu ? [] : ['--disable-gpu']),
  ];
}
