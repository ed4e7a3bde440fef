/**
 * Update signing keys (Ed25519): the build machine's private key, kept outside the repository and
 * the image, and the public keys a kiosk trusts (TRUSTED_KEYS_DIR, one `<key id>.pub` each).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { keyIdOf } from '../../../contract/update-bundle.js';

/** The public keys a kiosk accepts a bundle from, by key id. */
export type TrustedKeys = ReadonlyMap<string, KeyObject>;

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
  /** True when this call made the key (the build says so loudly). */
  created: boolean;
}

/** The PEM of a public key, as the image holds it. */
export function publicKeyPem(key: KeyObject): string {
  return (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * Makes the key file, or takes the one another process made at the same moment (the arm64 and amd64
 * builds start side by side on a fresh machine). The key is written whole under a private name and
 * then linked into place: link() never replaces a file, and the other process never sees half a key.
 */
export function createKeyFile(file: string): { pem: string; created: boolean } {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.new`;
  const fd = openSync(draft, 'wx', 0o600);
  try {
    writeSync(fd, pem);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(draft, 0o600);
  try {
    linkSync(draft, file);
    return { pem, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`the update signing key ${file} cannot be written: ${(error as Error).message}`);
    return { pem: readFileSync(file, 'utf8'), created: false };
  } finally {
    rmSync(draft, { force: true });
  }
}

/**
 * The signing key at `file`; made (mode 0600, its directory 0700) when there is none. A key that
 * exists is never replaced: kiosks flashed from images of this build machine trust only it.
 */
export function loadOrCreateSigningKey(file: string): SigningKey {
  let pem: string;
  let created = false;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`the update signing key ${file} cannot be read: ${(error as Error).message}`);
    ({ pem, created } = createKeyFile(file));
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw new Error(`${file} is not a PEM private key: ${(error as Error).message}`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${file} is a ${privateKey.asymmetricKeyType} key; update bundles are signed with Ed25519 keys`);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey), created };
}

/**
 * The public keys in `dir` (`*.pub`, PEM). A file whose name is not its key's id is refused: the
 * name is how an admin tells which build machine a kiosk trusts.
 */
export function loadTrustedKeys(dir: string): TrustedKeys {
  const keys = new Map<string, KeyObject>();
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.pub')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return keys;
    throw error;
  }
  for (const name of names) {
    const key = createPublicKey(readFileSync(join(dir, name), 'utf8'));
    const id = keyIdOf(key);
    if (name !== `${id}.pub`) throw new Error(`${join(dir, name)} holds the key ${id}: name it ${id}.pub`);
    keys.set(id, key);
  }
  return keys;
}
