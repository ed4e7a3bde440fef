/**
 * spice-html5's own ticket encryption (ticket.js and its RSA code, run here unchanged) against a
 * real 1024-bit RSA key and Node's OpenSSL doing what the SPICE server does with a ticket (RSA
 * OAEP/SHA-1 decryption of 128 bytes): as the library sends them, about one ticket in 256 cannot be
 * decrypted (the server's "permission denied"); padded by fullLengthTicket, every one can.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { fullLengthTicket, SPICE_TICKET_BYTES } from '../../app/ui/spice-ticket.js';

const TICKETS = 4000;

test('[spice] every ticket spice-html5 encrypts reaches the server at its full 128 bytes and decrypts to the password', async (t) => {
  // spice-html5 ships ES modules without "type": "module": import a copy that says so, in a
  // stand-in for the browser globals its random-number code reads.
  const src = path.join(path.dirname(createRequire(import.meta.url).resolve('@spice-project/spice-html5/package.json')), 'src');
  const dir = mkdtempSync(path.join(tmpdir(), 'thinkiosk-spice-ticket-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(path.join(src, 'ticket.js'), path.join(dir, 'ticket.js'));
  cpSync(path.join(src, 'thirdparty'), path.join(dir, 'thirdparty'), { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), '{"type": "module"}');
  const g = globalThis as Record<string, unknown>;
  g.navigator ??= { appName: 'Netscape', appVersion: '5.0' };
  g.window ??= globalThis;
  const ticket = (await import(pathToFileURL(path.join(dir, 'ticket.js')).href)) as {
    create_rsa_from_mb(mb: ArrayBuffer, at: number): unknown;
    rsa_encrypt(rsa: unknown, text: string): number[];
  };

  // The server's key as SPICE sends it: a DER SubjectPublicKeyInfo, 1024 bits.
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const rsa = ticket.create_rsa_from_mb(der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength), 0);
  assert.ok(rsa, 'spice-html5 read the key');
  const password = 'day-spice';
  const decrypts = (bytes: number[]): boolean => {
    const buffer = Buffer.alloc(SPICE_TICKET_BYTES);
    Buffer.from(bytes.slice(0, SPICE_TICKET_BYTES)).copy(buffer); // SpiceLinkAuthTicket: zeros after
    try {
      return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, buffer).toString('latin1') === `${password}\0`;
    } catch {
      return false;
    }
  };
  let short = 0;
  let refusedAsSent = 0;
  let refusedFixed = 0;
  for (let i = 0; i < TICKETS; i++) {
    const sent = ticket.rsa_encrypt(rsa, `${password}\0`);
    if (sent.length < SPICE_TICKET_BYTES) short += 1;
    if (!decrypts(sent)) refusedAsSent += 1;
    if (!decrypts(fullLengthTicket(sent))) refusedFixed += 1;
  }
  // 4000 tickets at 1 in 256: about 16 short ones; none at all would happen once in millions of runs.
  assert.ok(short > 0, 'the library produced short tickets (the defect is real)');
  assert.equal(refusedAsSent, short, 'exactly the short tickets are refused as the library sends them');
  assert.equal(refusedFixed, 0, `every padded ticket decrypts (${short} of ${TICKETS} were short)`);
});
