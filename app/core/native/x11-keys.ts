/**
 * Presses a key combination in a viewer's window, for "Send Ctrl+Alt+Del": the kiosk's own page
 * cannot, because the keys a user presses go to whichever window has the focus.
 *
 * Under X11, xdotool focuses the window the viewer process owns (_NET_WM_PID) and types the keys
 * through XTEST, which reaches the viewer as real key presses (events sent with XSendEvent are
 * marked synthetic and ignored by keyboard-grabbing clients). Under Wayland there is no such
 * door: a compositor lets no client inject input into another, so a kiosk on cage would need the
 * viewer's own means (remote-viewer's hotkey typed by the user, xfreerdp's floatbar has none);
 * there this reports that it cannot, rather than pressing keys in the wrong place.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A user-facing failure, shaped like the kiosk service's other system-tool errors. */
export class KeyPressError extends Error {
  readonly kind = 'system' as const;
  constructor(message: string, readonly detail: string) {
    super(message);
  }
}

export async function pressKeysInWindowOf(pid: number, keys: string, env: NodeJS.ProcessEnv): Promise<void> {
  if (!env.DISPLAY) {
    throw new KeyPressError('This kiosk cannot send Ctrl+Alt+Del to the desktop here. Use the desktop’s own menu to sign out or lock it.', `no X display (WAYLAND_DISPLAY=${env.WAYLAND_DISPLAY ?? ''})`);
  }
  const xdotool = async (...args: string[]): Promise<string> => {
    try {
      const { stdout } = await run('xdotool', args, { env, timeout: 5000 });
      return stdout;
    } catch (error) {
      const e = error as { code?: unknown; stderr?: string; message: string };
      if (e.code === 'ENOENT') {
        throw new KeyPressError('Ctrl+Alt+Del cannot be sent: a kiosk tool is missing. Tell your administrator (Debian package xdotool).', 'xdotool not installed');
      }
      // `search` exits 1 when it finds nothing; that is an answer, not a failure.
      if (args[0] === 'search' && e.code === 1) return '';
      throw new KeyPressError('Ctrl+Alt+Del could not be sent to the desktop. Try again.', `xdotool ${args[0] ?? ''}: ${(e.stderr ?? e.message).trim()}`);
    }
  };
  const windows = (await xdotool('search', '--onlyvisible', '--pid', String(pid))).split('\n').filter((w) => /^\d+$/.test(w));
  const window = windows[0];
  if (!window) throw new KeyPressError('The viewer window is not open yet. Wait until the desktop shows, then try again.', `no visible window of pid ${pid}`);
  await xdotool('windowfocus', '--sync', window);
  const focused = (await xdotool('getwindowfocus')).trim();
  // Keys typed through XTEST go to whatever has the focus: never type them anywhere else.
  if (!windows.includes(focused)) {
    throw new KeyPressError('Ctrl+Alt+Del could not be sent: the desktop window did not take the keyboard. Click into it and try again.', `focus is ${focused}, viewer windows ${windows.join(',')}`);
  }
  await xdotool('key', '--clearmodifiers', keys);
}
