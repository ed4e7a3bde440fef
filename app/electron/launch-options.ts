/**
 * How the shell starts: locked-down kiosk unless a developer asks otherwise. `--no-kiosk` alone is
 * ignored, because a kiosk's command line can be edited by anyone who reaches the boot loader or a
 * systemd drop-in; it takes the environment variable as well (set in a developer's own shell, never
 * in the image) to get a window with devtools.
 */
export interface LaunchOptions {
  /** Full screen, no menu, devtools and browser shortcuts blocked. */
  kiosk: boolean;
  devTools: boolean;
  /** Why a flag on the command line was not honoured, for the log; null when all were. */
  ignored: string | null;
}

export const DEV_ENV_VAR = 'THINKIOSK_DEV';

export function parseLaunchOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): LaunchOptions {
  const wantsWindow = argv.includes('--no-kiosk') && !argv.includes('--kiosk');
  if (!wantsWindow) return { kiosk: true, devTools: false, ignored: null };
  if (env[DEV_ENV_VAR] !== '1') {
    return { kiosk: true, devTools: false, ignored: `--no-kiosk needs ${DEV_ENV_VAR}=1 as well; starting in kiosk mode` };
  }
  return { kiosk: false, devTools: true, ignored: null };
}
