/**
 * scripts/local-desktops/start.ts refuses to start with a sentence that says what to do: a busy port
 * names the port and what it was for, a missing program names its Debian package, a taken X
 * display names the process holding it. (Its servers themselves are exercised by static-backend.)
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalDesktopsError, startLocalDesktops, type LocalDesktopsOptions } from '../../scripts/local-desktops/start.js';

// This file's share of the test range: ports 15930-15933, X displays :47 and :48 (never started).
const workDir = mkdtempSync(path.join(tmpdir(), 'thinkiosk-local-desktops-'));
after(() => rmSync(workDir, { recursive: true, force: true }));
const options: LocalDesktopsOptions = {
  workDir, vncPort: 15930, spicePort: 15931, rdpPort: 15932, displayBase: 47,
  vncPassword: 'pw', spicePassword: 'pw', rdpUser: 'u', rdpPassword: 'pw',
};

test('[local-desktops] a busy port is named, with what it was wanted for', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(options.spicePort, '127.0.0.1', resolve));
  try {
    await assert.rejects(startLocalDesktops(options), (e: unknown) =>
      e instanceof LocalDesktopsError && /Port 15931 on 127\.0\.0\.1 \(wanted for the SPICE desktop\) is already in use/.test(e.message));
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});

test('[local-desktops] a missing program is named with its Debian package', async () => {
  const saved = process.env.PATH;
  process.env.PATH = workDir; // nothing installed here
  try {
    await assert.rejects(startLocalDesktops(options), (e: unknown) =>
      e instanceof LocalDesktopsError && /Xvnc is not installed \(Debian package tigervnc-standalone-server\)\. Run scripts\/install-deps\.sh/.test(e.message));
  } finally {
    process.env.PATH = saved;
  }
});

test('[local-desktops] an X display held by a live process is named, and so is a VNC password VncAuth would cut short', async () => {
  const lock = `/tmp/.X${options.displayBase + 1}-lock`;
  writeFileSync(lock, `${String(process.pid).padStart(10)}\n`); // this test process: alive
  try {
    await assert.rejects(startLocalDesktops(options), (e: unknown) =>
      e instanceof LocalDesktopsError && new RegExp(`X display :48 is already in use \\(by process ${process.pid}`).test(e.message));
  } finally {
    rmSync(lock, { force: true });
  }
  await assert.rejects(startLocalDesktops({ ...options, vncPassword: 'much-too-long' }), /at most 8 characters/);
});
