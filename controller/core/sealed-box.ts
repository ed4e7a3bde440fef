/**
 * AES-256-GCM sealing of small JSON payloads under the shim's keys, so any instance with the same
 * keys can open what another sealed, and nobody else can read or forge it. Several keys may be
 * configured: the first seals, all open (key rotation). The additional data names what a box is
 * for, so a box sealed for one purpose (a session) never opens as another (a relay ticket).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { z } from 'zod';

const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SealedBox<T extends { expiresAt: number }> {
  private readonly keys: Buffer[];
  private readonly aad: Buffer;

  constructor(keys: readonly Buffer[], purpose: string, private readonly schema: z.ZodType<T>) {
    if (keys.length === 0 || keys.some((k) => k.length !== 32)) throw new Error('session keys must be 32 bytes each');
    this.keys = [...keys];
    this.aad = Buffer.from(purpose);
  }

  seal(payload: T): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0]!, iv);
    cipher.setAAD(this.aad);
    const body = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The payload, or null when the box is malformed, forged, sealed with an unknown key, or expired. */
  open(sealed: string, now = Date.now()): T | null {
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES + 2) return null;
    // Node's base64 decoder skips characters it does not know ("=", ".", "%"...): only the one
    // spelling seal() produces opens, or a logged-out token with a "=" appended would open again.
    if (raw.toString('base64url') !== sealed) return null;
    const iv = raw.subarray(0, IV_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
    for (const key of this.keys) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAAD(this.aad);
        decipher.setAuthTag(tag);
        const json = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
        const parsed = this.schema.safeParse(JSON.parse(json));
        if (!parsed.success) return null;
        return parsed.data.expiresAt > now ? parsed.data : null;
      } catch {
        // wrong key or tampered: try the next key
      }
    }
    return null;
  }
}
