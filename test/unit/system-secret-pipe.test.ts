import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { withSecretPipe } from '../../app/core/system/secret-pipe.js';

const run = promisify(execFile);

test('secret pipe: a tool opening the path reads the secret; the pipe is private and gone afterwards', async () => {
  let seenPath = '';
  const read = await withSecretPipe('psk:correct horse battery staple\n', async (path) => {
    seenPath = path;
    const info = await stat(path);
    assert.ok(info.isFIFO(), 'a named pipe, not a file on disk');
    assert.equal(info.mode & 0o777, 0o600);
    assert.equal((await stat(dirname(path))).mode & 0o777, 0o700);
    return (await run('cat', [path])).stdout;
  });
  assert.equal(read, 'psk:correct horse battery staple\n');
  await assert.rejects(stat(dirname(seenPath)), { code: 'ENOENT' });
});

test('secret pipe: a tool that never opens the path does not leave the kiosk waiting', { timeout: 5000 }, async () => {
  const result = await withSecretPipe('never read', async () => 'done');
  assert.equal(result, 'done');
});
