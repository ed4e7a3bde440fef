/**
 * Sessions without a session store: the token a kiosk holds is everything the shim needs for the
 * user (who they are, until when, and for OpenStack their Keystone token and endpoints), sealed
 * with AES-256-GCM under the shim's keys (sealed-box.ts). Any shim instance with the same keys can
 * open it; nobody else can read or forge it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { SealedBox } from '../core/sealed-box.js';

const Endpoints = z.object({ compute: z.string(), image: z.string(), network: z.string().nullable() });
const Person = z.object({ id: z.string(), name: z.string() });

/** What the backend needs to act for the user: a Keystone token, or nothing more than their name (static inventory). */
export const SessionAuth = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('keystone'), token: z.string(), endpoints: Endpoints }),
  z.object({ kind: z.literal('static') }),
]);
export type SessionAuth = z.infer<typeof SessionAuth>;

const CurrentPayload = z.object({
  v: z.literal(2),
  /** Names this session among all others (logout records it); absent in tokens sealed before it existed. */
  sid: z.string().optional(),
  expiresAt: z.number(), // epoch milliseconds
  user: Person,
  project: Person,
  auth: SessionAuth,
  /**
   * The person is a site administrator (as the login found: a Keystone admin role, or admin in a
   * static inventory): the fleet's admin API lets only such a session in. Absent in older tokens: no.
   */
  admin: z.boolean().optional(),
});
export type SessionPayload = z.infer<typeof CurrentPayload>;

/** Version 1 (OpenStack only) tokens stay valid, so upgrading an instance logs nobody out. */
const LegacyPayload = z.object({
  v: z.literal(1),
  keystoneToken: z.string(),
  expiresAt: z.number(),
  user: Person,
  project: Person,
  endpoints: Endpoints,
}).transform(({ keystoneToken, endpoints, expiresAt, user, project }): SessionPayload => ({
  v: 2, expiresAt, user, project, auth: { kind: 'keystone', token: keystoneToken, endpoints },
}));

const AnyPayload = z.union([CurrentPayload, LegacyPayload]);

const PURPOSE = 'thinkiosk-session-v1'; // unchanged since version 1 tokens, so those still open

/** A fresh session id: 16 random bytes, base64url. */
export function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}

/** The id a logout records: the payload's own, or for older tokens a digest of the (canonical) token. */
export function sessionIdOf(token: string, payload: SessionPayload): string {
  return payload.sid ?? createHash('sha256').update(token).digest('base64url');
}

export class SessionSealer {
  private readonly box: SealedBox<SessionPayload>;

  constructor(keys: readonly Buffer[]) {
    this.box = new SealedBox<SessionPayload>(keys, PURPOSE, AnyPayload);
  }

  seal(payload: SessionPayload): string {
    return this.box.seal(payload);
  }

  /** The payload, or null when the token is malformed, forged, sealed with an unknown key, or expired. */
  open(token: string, now = Date.now()): SessionPayload | null {
    return this.box.open(token, now);
  }
}
