/**
 * Chromium's command line for the kiosk, in one place. It is readable by every local user
 * (/proc/<pid>/cmdline), so it carries no secret: not the page's address (that is in the profile,
 * see chromium-profile.ts) and no key. The parent steers Chromium over `--remote-debugging-pipe`
 * (file descriptors 3 and 4, which only the parent holds), never over a debugging port.
 */
export interface ChromiumArgsOptions {
  profile: string;
  /** A window for development instead of full-screen kiosk mode. */
  windowed: boolean;
  /** The screen is a bare X server without a window manager: place and size the window ourselves. */
  bareScreen: { width: number; height: number } | null;
  /** Chromium refuses to run as root with its sandbox. */
  runningAsRoot: boolean;
}

export function chromiumArgs(options: ChromiumArgsOptions): string[] {
  return [
    `--user-data-dir=${options.profile}`,
    '--remote-debugging-pipe',
    '--no-first-run', '--no-default-browser-check', '--noerrdialogs', '--disable-infobars', '--disable-session-crashed-bubble',
    // No sign-in, sync, translation, extensions or background services: nothing to offer, nothing to leave by.
    '--disable-sync', '--disable-extensions', '--disable-component-extensions-with-background-pages', '--disable-default-apps',
    '--disable-background-networking', '--disable-breakpad', '--disable-translate',
    '--disable-features=Translate,TranslateUI,AutofillServerCommunication,MediaRouter,GlobalMediaControls,PrivacySandboxSettings4',
    '--overscroll-history-navigation=0', '--disable-pinch', '--password-store=basic', '--autoplay-policy=no-user-gesture-required',
    // A child process (the network service above all) ends itself when the browser has not
    // connected to it within 15 s. A first start with a fresh profile on a starved machine (four
    // emulated PCs netbooting at once) often misses that, and the browser never notices: no network
    // service, a white window for good. 300 s covers any start the shell's watchdog lets run.
    '--ipc-connection-timeout=300',
    ...(options.windowed ? ['--window-size=1280,800'] : ['--kiosk', '--start-fullscreen']),
    ...(options.bareScreen ? ['--window-position=0,0', `--window-size=${options.bareScreen.width},${options.bareScreen.height}`] : []),
    ...(options.runningAsRoot ? ['--no-sandbox'] : []),
  ];
}
