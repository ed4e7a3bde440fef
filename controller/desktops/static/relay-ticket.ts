/**
 * A console address the controller hands out for a static desktop: which VNC/SPICE server to relay
 * to, for whom, until when, sealed like a session (sealed-box.ts) but under its own purpose, so
 * neither can stand in for the other. A ticket is good for any number of connections until it
 * expires: SPICE opens one websocket per channel (main, display, inputs, cursor, ...) with it.
 */
import { z } from 'zod';
import { SealedBox } from '../../core/sealed-box.js';

const RelayTicket = z.object({
  v: z.literal(1),
  host: z.string(),
  port: z.number().int().min(1).max(65535),
  protocol: z.enum(['vnc', 'spice']),
  desktop: z.string(),
  user: z.string(),
  expiresAt: z.number(),
});
export type RelayTicket = z.infer<typeof RelayTicket>;
export type RelayTarget = Omit<RelayTicket, 'v' | 'expiresAt'>;

export class RelayTickets {
  private readonly box: SealedBox<RelayTicket>;

  constructor(keys: readonly Buffer[], private readonly lifetimeSeconds: number) {
    this.box = new SealedBox(keys, 'thinkiosk-relay-v1', RelayTicket);
  }

  issue(target: RelayTarget, now = Date.now()): string {
    return this.box.seal({ v: 1, ...target, expiresAt: now + this.lifetimeSeconds * 1000 });
  }

  /** The ticket, or null when forged, garbled or expired. */
  open(ticket: string, now = Date.now()): RelayTicket | null {
    return this.box.open(ticket, now);
  }
}
