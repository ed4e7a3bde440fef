/**
 * What the native viewer launcher is asked to open and what it reports back. Targets are checked
 * with these schemas before anything is spawned: the values end up in a viewer's arguments, in a
 * connection file and in answers typed into a terminal, so a stray newline or option-like host
 * must be refused here rather than change what the viewer does.
 */
import { z } from 'zod';
import type { NativeCause, NativeOutcome } from '../kiosk-api.js';

/** Host names and IP literals only: no spaces, slashes or leading dash that a viewer could read as an option. */
const Host = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?|\[?[0-9A-Fa-f:.]+\]?)$/, 'is not a host name or IP address');
const Port = z.number().int().min(1).max(65535);
/** Control characters would be read by the terminal (Ctrl-C, Ctrl-U, newline) instead of being typed as part of the answer. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
const NoControl = /^[^\u0000-\u001f\u007f]*$/;

export const RdpTarget = z.object({
  host: Host,
  port: Port,
  username: z.string().min(1).max(256).regex(NoControl, 'contains control characters'),
  password: z.string().max(256).regex(NoControl, 'contains control characters'),
  domain: z.string().max(256).regex(NoControl, 'contains control characters').optional(),
  usb: z.boolean(),
  sound: z.boolean(),
  fullscreen: z.boolean(),
});
export type RdpTarget = z.infer<typeof RdpTarget>;

export const SpiceTarget = z.object({
  host: Host,
  port: Port,
  /** The console ticket from the controller; null when the server has ticketing off. */
  password: z.string().max(1024).nullable(),
  usb: z.boolean(),
  fullscreen: z.boolean(),
});
export type SpiceTarget = z.infer<typeof SpiceTarget>;

/** How a native session ended: `message` is a sentence for the person at the kiosk. */
export interface NativeResult {
  outcome: NativeOutcome;
  message: string;
  /** The desktop's reason, when the viewer named it (see kiosk-api's NativeCause). */
  cause?: NativeCause;
  /** For the kiosk's log only (e.g. the viewer's last output line): never shown to the person. */
  detail?: string;
}

/** What one line of a viewer's output means for the supervisor. */
export type LineMeaning =
  | { kind: 'connected' }
  /** The outcome is known and the viewer will not end by itself (it waits in a dialog): stop it. */
  | { kind: 'decided'; result: NativeResult };

/** Reads a viewer's output line by line and turns its exit into a result. */
export interface ViewerOutputParser {
  line(text: string): LineMeaning | null;
  finish(exit: { exitCode: number; signal: number }): NativeResult;
}

/** `host:port`, with brackets around IPv6 literals. */
export function hostPort(host: string, port: number): string {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare.includes(':') ? `[${bare}]:${port}` : `${bare}:${port}`;
}

/** The viewer found no X display to open its window on: a kiosk set-up problem, not the user's. */
export function noScreen(): NativeResult {
  return { outcome: 'failed', message: "The viewer could not open its window on this kiosk's screen. Restart the kiosk; if it keeps happening, tell your administrator." };
}
