/**
 * Keys that would take a kiosk user out of the kiosk page: reload, devtools, zoom, full screen,
 * minimise, close and quit. These are the accelerators of Electron's default menu (which the kiosk
 * also removes) plus the browser keys for the same things (F5, F12, Alt+F4, Ctrl+F4), so a menu
 * that comes back by mistake, or a window manager that forwards them, still cannot act on them.
 *
 * Nothing else is blocked, on purpose: the in-app VNC/SPICE console and the admin terminal need
 * Ctrl+C/V/Z/A, Escape, Tab and the rest. The price is that the keys below never reach a desktop
 * shown in the in-app console (native RDP/SPICE viewers run in their own windows and get them).
 */
import type { Input } from 'electron';

export type ShortcutKeys = Pick<Input, 'key' | 'code' | 'control' | 'shift' | 'alt' | 'meta'>;

const FUNCTION_KEYS = new Set(['F5', 'F11', 'F12']);
const BROWSER_KEYS = new Set(['BrowserBack', 'BrowserForward', 'BrowserRefresh', 'BrowserHome']);

/** With Ctrl: reload, close, quit, minimise, and zoom in/out/reset (main row and keypad). */
const WITH_CONTROL = new Set(['r', 'w', 'q', 'm', 'F4', '+', '=', '-', '_', '0']);
const ZOOM_CODES = new Set(['NumpadAdd', 'NumpadSubtract', 'Numpad0', 'Equal', 'Minus', 'Digit0']);

/**
 * With Ctrl+Shift: devtools (I, J) and force reload. Not C (the element picker): devtools are off
 * anyway, and Ctrl+Shift+C is copy in a remote Linux terminal.
 */
const WITH_CONTROL_SHIFT = new Set(['i', 'j', 'r']);

export function isBlockedShortcut(input: ShortcutKeys): boolean {
  if (FUNCTION_KEYS.has(input.key) || BROWSER_KEYS.has(input.key)) return true;
  // Alt+F4 closes; Alt+Left/Right are back and forward.
  if (input.alt && !input.control && ['F4', 'ArrowLeft', 'ArrowRight'].includes(input.key)) return true;
  // Ctrl+Alt is AltGr on many layouts (AltGr+0 is '}' in German): never a shortcut here.
  if (!(input.control || input.meta) || input.alt) return false;
  const key = input.key.length === 1 ? input.key.toLowerCase() : input.key;
  if (input.shift) return WITH_CONTROL_SHIFT.has(key) || ZOOM_CODES.has(input.code);
  return WITH_CONTROL.has(key) || ZOOM_CODES.has(input.code);
}
