import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createVvFifo } from '../../app/core/native/vv-fifo.js';
import { findBinary } from '../../app/core/native/find-binary.js';

test('vv FIFO: a private pipe, the content reaches a real reader, nothing is left behind', async () => {
  const runtime = mkdtempSync(join(tmpdir(), 'native-fifo-test-'));
  try {
    const fifo = await createVvFifo(runtime);
    const dir = dirname(fifo.path);
    assert.equal(statSync(dir).mode & 0o777, 0o700, 'only this user can reach the pipe');
    assert.ok(statSync(fifo.path).isFIFO(), 'a pipe, so the content never lands on disk');
    // cat stands in for remote-viewer: it opens the path after a while and reads to EOF.
    const reader = spawn('sh', ['-c', `sleep 0.2; cat "${fifo.path}"`]);
    let read = '';
    reader.stdout.on('data', (d: Buffer) => { read += d.toString(); });
    const closed = new Promise((resolve) => reader.on('close', resolve));
    assert.equal(await fifo.deliver('[virt-viewer]\npassword=x\n', () => false), true);
    await closed;
    assert.equal(read, '[virt-viewer]\npassword=x\n');
    await fifo.remove();
    assert.equal(existsSync(dir), false);
  } finally {
    rmSync(runtime, { recursive: true, force: true });
  }
});

test('vv FIFO: gives up when the viewer never opens it; a missing runtime directory falls back to the temp directory', async () => {
  const fifo = await createVvFifo('/nonexistent-runtime-dir');
  assert.ok(fifo.path.startsWith(tmpdir()), fifo.path);
  const t0 = Date.now();
  assert.equal(await fifo.deliver('x', () => Date.now() - t0 > 150), false);
  await fifo.remove();
  assert.equal(existsSync(dirname(fifo.path)), false);
});

test('findBinary: PATH lookup, explicit paths, missing ones', async () => {
  assert.equal(await findBinary('sh', '/nonexistent:/bin:/usr/bin'), '/bin/sh');
  assert.equal(await findBinary('/bin/sh', ''), '/bin/sh');
  assert.equal(await findBinary('no-such-viewer', '/bin:/usr/bin'), null);
  assert.equal(await findBinary('/nonexistent/xfreerdp', '/usr/bin'), null);
  assert.equal(await findBinary('/usr', '/usr/bin'), null, 'a directory');
  const dir = mkdtempSync(join(tmpdir(), 'native-bin-test-'));
  try {
    writeFileSync(join(dir, 'xfreerdp'), '#!/bin/sh\n', { mode: 0o644 });
    assert.equal(await findBinary('xfreerdp', dir), null, 'not executable');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
