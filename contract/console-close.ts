/**
 * Why a console websocket ended, as websocket close codes (4000-4999 belong to the application).
 * The controller's relay (static desktops) closes the kiosk's websocket with one of these; the
 * kiosk's local relay passes the code on to the page, or closes with its own when the controller
 * itself cannot be reached; the page turns the code into a sentence in its own language. Only
 * codes cross the wire, so each side keeps its own words.
 */
export const CONSOLE_CLOSE = {
  /** Kiosk relay: the controller's console websocket did not answer (DNS, refused, timeout, TLS). */
  controllerUnreachable: 4001,
  /** Kiosk relay: the controller (or Nova's proxy) refused the websocket with an HTTP error. */
  controllerRefused: 4003,
  /** The console address (relay ticket) is forged, garbled or expired: open the desktop again. */
  ticketInvalid: 4401,
  /** The console stayed silent both ways for longer than the relay allows. */
  idle: 4408,
  /** This person already has as many consoles open as the controller allows at once. */
  tooManyConsoles: 4429,
  /** Nothing listens on the desktop's console port (connection refused): switched off, or its server stopped. */
  desktopRefused: 4502,
  /** The network says the desktop cannot be reached (no route to host, network unreachable). */
  desktopUnreachable: 4503,
  /** The desktop did not answer in time. */
  desktopTimeout: 4504,
  /** The controller is stopping or restarting; opening the desktop again reaches another (or the restarted) one. */
  controllerStopping: 4505,
} as const;
export type ConsoleCloseName = keyof typeof CONSOLE_CLOSE;
export type ConsoleCloseCode = (typeof CONSOLE_CLOSE)[ConsoleCloseName];

/** The name for a close code, or null for codes that are not ours (1000 normal, 1006 dropped...). */
export function consoleCloseName(code: number): ConsoleCloseName | null {
  for (const [name, value] of Object.entries(CONSOLE_CLOSE)) if (value === code) return name as ConsoleCloseName;
  return null;
}
