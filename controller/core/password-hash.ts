/**
 * Password hashes for the static inventory, in the shared scrypt format (contract/scrypt-hash.ts):
 *   scrypt$<N>$<r>$<p>$<salt, base64>$<hash, base64>
 * Made by the admin command `node dist/controller/hash-password-cli.js`.
 */
import { makeScryptHash, NOT_AN_SCRYPT_HASH, parseScryptHash, verifyScryptHash, type ScryptCost, type ScryptHash } from '../../contract/scrypt-hash.js';

export type ParsedHash = ScryptHash;

/** The hash's parts, or a sentence saying what is wrong with it (for inventory validation). */
export function parsePasswordHash(text: string): ParsedHash | string {
  const parsed = parseScryptHash(text);
  // The likeliest mistake is a password typed in as it is: say how to make a hash instead.
  if (parsed === NOT_AN_SCRYPT_HASH) return 'is not a password hash made by hash-password-cli (scrypt$N$r$p$salt$hash); never store a plain password';
  return parsed;
}

export function hashPassword(password: string, cost?: ScryptCost): Promise<string> {
  return makeScryptHash(password, cost);
}

export function verifyPassword(password: string, stored: ParsedHash): Promise<boolean> {
  return verifyScryptHash(password, stored);
}
