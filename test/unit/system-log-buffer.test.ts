import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogBuffer, redact } from '../../app/core/system/log-buffer.js';
import { isSecretName } from '../../app/core/system/secret-names.js';

test('log buffer: keeps the newest lines in order, drops the oldest, writes each to stderr with a journald level', () => {
  const written: string[] = [];
  let t = Date.parse('2025-03-01T08:00:00Z');
  const log = new LogBuffer({ capacity: 3, write: (s) => written.push(s), now: () => new Date(t++) });
  log.info('one');
  log.warn('two');
  log.error('three');
  log.info('four\nfive');
  assert.deepEqual(log.lines().map((l) => [l.level, l.message]), [['warn', 'two'], ['error', 'three'], ['info', 'four\nfive']]);
  assert.equal(log.lines()[0]!.at, '2025-03-01T08:00:00.001Z');
  assert.deepEqual(written, ['<6>one\n', '<4>two\n', '<3>three\n', '<6>four ⏎ five\n']);
});

test('log buffer: before the wrap-around, lines come back as logged', () => {
  const log = new LogBuffer({ capacity: 10, write: () => undefined });
  log.info('a');
  log.info('b');
  assert.deepEqual(log.lines().map((l) => l.message), ['a', 'b']);
  assert.throws(() => new LogBuffer({ capacity: 0 }), RangeError);
});

test('log buffer: secrets are redacted in memory and in what goes to the journal', () => {
  const written: string[] = [];
  const log = new LogBuffer({ write: (s) => written.push(s) });
  log.info('login body {"username":"alice","password":"hunter2"}');
  assert.doesNotMatch(log.lines()[0]!.message, /hunter2/);
  assert.doesNotMatch(written.join(''), /hunter2/);
  assert.match(log.lines()[0]!.message, /"username":"alice"/);
});

test('redact: JSON fields, key=value, headers, bearer tokens, URL credentials, Wi-Fi passphrases with spaces', () => {
  const cases: Array<[string, string]> = [
    ['{"user":"bob","adminPin":"1234","token":"gAAAA\\"x"}', '{"user":"bob","adminPin":"[redacted]","token":"[redacted]"}'],
    ['GET /v1/desktops?token=abc123&page=2', 'GET /v1/desktops?token=[redacted]&page=2'],
    ['Authorization: Bearer eyJhbGciOi.x.y', 'Authorization: [redacted]'],
    ['X-Subject-Token: gAAAAABn5', 'X-Subject-Token: [redacted]'],
    ['upstream https://svc:s3cret@keystone:5000/v3 refused', 'upstream https://svc:[redacted]@keystone:5000/v3 refused'],
    ['802-11-wireless-security.psk:correct horse battery', '802-11-wireless-security.psk:[redacted]'],
    ['retrying with Bearer abcdefghijklmnop now', 'retrying with Bearer [redacted] now'],
    ['layout keyboard: us, pin: 0000', 'layout keyboard: us, pin: [redacted]'],
    ['spinner=3 desktop=win11', 'spinner=3 desktop=win11'],
  ];
  for (const [input, expected] of cases) assert.equal(redact(input), expected, input);
});

test('secret names: words, not substrings', () => {
  for (const name of ['password', 'OS_PASSWORD', 'adminPinHash', 'X-Auth-Token', 'session_keys', 'wifi-sec.psk', 'apiKey']) assert.ok(isSecretName(name), name);
  for (const name of ['spinner', 'keyboard', 'passage', 'tokenizer', 'username', 'DISPLAY']) assert.ok(!isSecretName(name), name);
});
