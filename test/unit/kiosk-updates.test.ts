/**
 * The kiosk's side of updates on real files: the status root's service writes (made with the
 * service's own StatusReporter), and the request file its path unit watches, read back with the
 * service's own parser. What the kiosk refuses before bothering root: no update service here, a
 * request still waiting, an install or a trial under way, an address that is not http(s).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KIOSK_METHODS } from '../../app/core/kiosk-api.js';
import type { SlotView } from '../../app/core/update/boot-slots.js';
import { KioskUpdates, UpdateRefusal } from '../../app/core/update/kiosk-updates.js';
import { UpdateRequest } from '../../app/core/update/update-request.js';
import { UpdateState } from '../../app/core/update/update-state.js';
import { StatusReporter } from '../../app/core/update/update-status-report.js';

let work: string;
before(() => { work = mkdtempSync(join(tmpdir(), 'thinkiosk-kiosk-updates-')); });
after(() => rmSync(work, { recursive: true, force: true }));

const SLOTS: SlotView = { booted: 'a', file: { slot: 'a', trial: null, trialId: null }, tried: null };

function setUp(name: string): { updates: KioskUpdates; reporter: StatusReporter; requestDir: string; statusFile: string } {
  const dir = join(work, name);
  const requestDir = join(dir, 'requests');
  mkdirSync(requestDir, { recursive: true });
  const statusFile = join(dir, 'update', 'status.json');
  const reporter = new StatusReporter(new UpdateState(join(dir, 'state'), statusFile), '0.2.0');
  return { updates: new KioskUpdates(statusFile, requestDir), reporter, requestDir, statusFile };
}

function refusal(work: () => unknown): UpdateRefusal {
  try {
    work();
  } catch (error) {
    if (error instanceof UpdateRefusal) return error;
    throw error;
  }
  assert.fail('not refused');
}

test('no status yet, then root\'s status as written; a damaged status file counts as none', () => {
  const { updates, reporter, statusFile } = setUp('status');
  assert.deepEqual(updates.view(), { status: null, requestWaiting: false });
  const written = reporter.report(SLOTS, { phase: 'writing', targetVersion: '0.3.0', source: 'USB stick sdb1', percent: 41.6, message: 'Writing slot B.' });
  assert.deepEqual(updates.view(), { status: written, requestWaiting: false });
  assert.equal(updates.view().status?.percent, 42);
  writeFileSync(statusFile, '{"phase": "writ');
  assert.equal(updates.view().status, null);
});

test('a request is written for root, in the form root\'s service reads; a second one waits its turn', () => {
  const { updates, requestDir } = setUp('request');
  const view = updates.request({ source: 'url', url: '  https://updates.example.org/thinkiosk-0.3.0-arm64.tkupdate ' });
  assert.equal(view.requestWaiting, true);
  const file = join(requestDir, 'update');
  const read = UpdateRequest.parse(JSON.parse(readFileSync(file, 'utf8')));
  assert.deepEqual(read, { source: 'url', url: 'https://updates.example.org/thinkiosk-0.3.0-arm64.tkupdate' });

  const waiting = refusal(() => updates.request({ source: 'usb' }));
  assert.equal(waiting.kind, 'conflict');
  assert.match(waiting.message, /already waiting for the update service/);
  rmSync(file); // the service took it
  updates.request({ source: 'usb' });
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { source: 'usb' });
});

test('refused while an install runs or a trial is on, not after it failed', () => {
  const { updates, reporter, requestDir } = setUp('busy');
  for (const phase of ['downloading', 'writing', 'verifying', 'rebooting'] as const) {
    reporter.report(SLOTS, { phase });
    assert.match(refusal(() => updates.request({ source: 'usb' })).message, /already under way/, phase);
  }
  reporter.report(SLOTS, { phase: 'trial' });
  assert.match(refusal(() => updates.request({ source: 'usb' })).message, /still on trial/);
  assert.equal(existsSync(join(requestDir, 'update')), false, 'nothing asked of root');
  reporter.report(SLOTS, { phase: 'failed', message: 'The bundle is not signed by a trusted key.' });
  assert.equal(updates.request({ source: 'usb' }).requestWaiting, true);
});

test('off the image (no request directory): a sentence, nothing made', () => {
  const requestDir = join(work, 'no-image', 'requests');
  const result = refusal(() => new KioskUpdates(join(work, 'no-image', 'status.json'), requestDir).request({ source: 'usb' }));
  assert.equal(result.kind, 'system');
  assert.match(result.message, /^This kiosk cannot install updates: it does not run on the thinkiosk image/);
  assert.equal(existsSync(requestDir), false);
});

test('the page may name an http(s) address or the USB stick, nothing else (not the settings\' target)', () => {
  const [args] = KIOSK_METHODS.updateInstall;
  assert.ok(args.safeParse({ source: 'url', url: 'http://10.0.0.5/x.tkupdate' }).success);
  assert.ok(args.safeParse({ source: 'usb' }).success);
  assert.ok(!args.safeParse({ source: 'target' }).success);
  const file = args.safeParse({ source: 'url', url: 'file:///etc/shadow' });
  assert.ok(!file.success);
  assert.equal(file.error?.issues[0]?.message, 'must be an http:// or https:// address');
  assert.ok(!args.safeParse({ source: 'url', url: 'https://a b' }).success);
});
