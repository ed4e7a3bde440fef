/**
 * Which names hold secrets (passwords, tokens, PINs, keys), whether they appear as JSON keys, query
 * parameters, header names or environment variables. One list, so the log redaction and the
 * technician terminal's environment agree on what must not leak.
 */

const SECRET_WORDS = new Set(['password', 'passwd', 'pass', 'pwd', 'passphrase', 'secret', 'secrets', 'token', 'tokens', 'pin', 'psk', 'key', 'keys', 'apikey', 'credential', 'credentials', 'cookie', 'authorization', 'auth']);

/** `adminPinHash`, `X-Auth-Token`, `wifi-sec.psk`, `OS_PASSWORD`, `session_keys` → true; `spinner`, `keyboard` → false. */
export function isSecretName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  return words.some((word) => SECRET_WORDS.has(word));
}
