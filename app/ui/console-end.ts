/**
 * Why an in-app console (noVNC, spice-html5) ended, as the sentence the person at the kiosk reads.
 * The cause arrives as the websocket's close code (contract/console-close.ts: the controller's relay
 * and the kiosk's local relay close with it) or, for VNC, as the server's reason for refusing the
 * security handshake. A code that is none of ours (1000, 1001, 1006...) is a connection lost in
 * mid-session, and stays "the connection was lost".
 *
 * The page may only `import type` from contract/ (it is served alone), so the codes are mirrored
 * here; `typeof CONSOLE_CLOSE` makes any difference from the contract a compile error.
 */
import type { CONSOLE_CLOSE, ConsoleCloseName } from '../../contract/console-close.js';
import type { MessageKey } from './i18n.js';

const CODES: typeof CONSOLE_CLOSE = {
  controllerUnreachable: 4001,
  controllerRefused: 4003,
  ticketInvalid: 4401,
  idle: 4408,
  tooManyConsoles: 4429,
  desktopRefused: 4502,
  desktopUnreachable: 4503,
  desktopTimeout: 4504,
  controllerStopping: 4505,
};

/** One sentence per cause (i18n.ts has each in every language). */
export const CONSOLE_CLOSE_MESSAGES: Record<ConsoleCloseName, MessageKey> = {
  controllerUnreachable: 'console.controller-unreachable',
  controllerRefused: 'console.controller-refused',
  ticketInvalid: 'console.ticket-invalid',
  idle: 'console.idle',
  tooManyConsoles: 'console.too-many-consoles',
  desktopRefused: 'console.desktop-refused',
  desktopUnreachable: 'console.desktop-unreachable',
  desktopTimeout: 'console.desktop-timeout',
  controllerStopping: 'console.controller-stopping',
};

/** The sentence for a close code, or null when the code says nothing about a cause (a plain drop). */
export function consoleCloseMessage(code: number | null | undefined): MessageKey | null {
  for (const [name, value] of Object.entries(CODES) as [ConsoleCloseName, number][]) {
    if (value === code) return CONSOLE_CLOSE_MESSAGES[name];
  }
  return null;
}

/**
 * A VNC server that refuses the security handshake says why. TigerVNC and x11vnc refuse an address
 * after repeated failed attempts ("Too many security failures", "blacklisted"): through a relay
 * that address is the controller's, so everyone's connections fail until the block expires. Any
 * other refusal is the password (noVNC reports a wrong one the same way).
 */
export function vncRefusalMessage(reason: string | undefined): MessageKey {
  return reason && /too many|blacklist/i.test(reason) ? 'console.vnc-too-many-attempts' : 'session.wrong-password';
}

/**
 * The reason a VNC server gives when it refuses a client before any security handshake: protocol
 * 3.3's "security type 0" followed by a reason string, sent at once with the version. TigerVNC
 * answers a blacklisted address this way ("RFB 003.003", 0, "Too many security failures") and
 * closes; noVNC 1.7 reads the version and then waits for another message that never comes, so the
 * page looks at the first bytes itself. Null when `bytes` (the start of the stream) is anything else.
 */
export function rfbEarlyRefusal(bytes: Uint8Array): string | null {
  const text = (from: number, to: number): string => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes.length < 20 || !/^RFB \d{3}\.\d{3}\n$/.test(text(0, 12))) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(12) !== 0) return null;
  const length = view.getUint32(16);
  if (length === 0 || length > 1024 || bytes.length < 20 + length) return null;
  return text(20, 20 + length);
}
