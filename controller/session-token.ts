/**
 * Sessions without a session store: the token a kiosk holds is the user's Keystone token and what
 * the shim needs with it (user, project, endpoints, expiry), sealed with AES-256-GCM under the
 * shim's key. Any shim instance with the same key can open it; nobody else can read or forge it.
 * Several keys may be configured: the first seals, all open (key rotation without logging users out).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';

const SessionPayload = z.object({
  v: z.literal(1),
  keystoneToken: z.string(),
  expiresAt: z.number(), // epoch milliseconds
  user: z.object({ id: z.string(), name: z.string() }),
  project: z.object({ id: z.string(), name: z.string() }),
  endpoints: z.object({ compute: z.string(), image: z.string(), network: z.string().nullable() }),
});
export type SessionPayload = z.infer<typeof SessionPayload>;

const IV_BYTES = 12;
const TAG_BYTES = 16;
const AAD = Buffer.from('thinkiosk-session-v1');

export class SessionSealer {
  private readonly keys: Buffer[];

  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0 || keys.some((k) => k.length !== 32)) throw new Error('session keys must be 32 bytes each');
    this.keys = [...keys];
  }

  seal(payload: SessionPayload): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0]!, iv);
    cipher.setAAD(AAD);
    const body = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The payload, or null when the token is malformed, forged, sealed with an unknown key, or expired. */
  open(token: string, now = Date.now()): SessionPayload | null {
    const raw = Buffer.from(token, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES + 2) return null;
    const iv = raw.subarray(0, IV_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
    for (const key of this.keys) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAAD(AAD);
        decipher.setAuthTag(tag);
        const json = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
        const parsed = SessionPayload.safeParse(JSON.parse(json));
        if (!parsed.success) return null;
        return parsed.data.expiresAt > now ? parsed.data : null;
      } catch {
        // wrong key or tampered: try the next key
      }
    }
    return null;
  }
}
