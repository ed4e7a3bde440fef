// The boot server's switch and status as the admin screen reads them (app/core/system/boot-server-switch.ts),
// through the files both it and the boot server use (contract/boot-server-files.ts): what the kiosk
// writes the service reads, and what the service writes the kiosk shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { readBootServerSwitch, STATUS_FILE, SWITCH_FILE, type BootServerStatus } from '../../contract/boot-server-files.js';
import { BootServerView } from '../../app/core/kiosk-api.js';
import { BootServerSwitch, countClients } from '../../app/core/system/boot-server-switch.js';
import { SystemError } from '../../app/core/system/system-error.js';
import * as server from '../../pxe/boot-server.js';
import { parseBootServerConfig } from '../../pxe/config.js';

function setUp(t: TestContext, netbootedFrom: string | null = null, serviceInstalled = false) {
  const root = mkdtempSync(join(tmpdir(), 'thinkiosk-boot-switch-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const settingsDir = join(root, 'settings');
  const stateDir = join(root, 'state');
  mkdirSync(settingsDir);
  mkdirSync(stateDir);
  const bootServer = new BootServerSwitch({ settingsDir, stateDir, netbootedFrom, serviceInstalled: () => serviceInstalled, now: () => new Date('2026-03-01T10:00:00.000Z') });
  const writeStatus = (status: unknown): void => writeFileSync(join(stateDir, STATUS_FILE), typeof status === 'string' ? status : JSON.stringify(status));
  return { settingsDir, stateDir, bootServer, writeStatus };
}

const RUNNING: BootServerStatus = {
  state: 'running', reason: 'switched on on the admin screen', since: '2026-03-01T09:00:00.000Z', mode: 'proxy', interface: 'eth0',
  address: '192.168.1.5', httpUrl: 'http://192.168.1.5:8069/', arches: ['amd64', 'arm64'],
  problems: ['No Raspberry Pi boot files: Raspberry Pis cannot boot from this box.'], error: null,
  events: [
    { at: '2026-03-01T09:01:00.000Z', kind: 'dhcp', client: '52:54:00:12:34:01', detail: 'PXE(eth0) 52:54:00:12:34:01 proxy' },
    { at: '2026-03-01T09:01:01.000Z', kind: 'tftp', client: '192.168.1.120', detail: 'sent /undionly.kpxe' },
    { at: '2026-03-01T09:01:02.000Z', kind: 'http', client: '192.168.1.120', detail: 'GET /amd64/vmlinuz 200 9000000 bytes 80 ms' },
    { at: '2026-03-01T09:02:00.000Z', kind: 'dhcp', client: '52:54:00:12:34:02', detail: 'PXE(eth0) 52:54:00:12:34:02 proxy' },
    { at: '2026-03-01T09:02:01.000Z', kind: 'tftp', client: '192.168.1.121', detail: 'sent /undionly.kpxe' },
    { at: '2026-03-01T09:03:00.000Z', kind: 'dhcp', client: '52:54:00:12:34:03', detail: 'PXE(eth0) 52:54:00:12:34:03 proxy' },
    ...Array.from({ length: 6 }, (_, i) => ({ at: `2026-03-01T09:04:0${i}.000Z`, kind: 'http' as const, client: '192.168.1.121', detail: `GET /amd64/root.squashfs part ${i}` })),
  ],
};

test('boot server switch: nothing installed, no choice made', async (t) => {
  const { bootServer } = setUp(t);
  const view = await bootServer.status();
  assert.deepEqual(BootServerView.parse(view), view);
  assert.equal(view.state, 'not-installed');
  assert.equal(view.switch, 'not-chosen');
  assert.equal(view.unavailable, null);
  assert.deepEqual([view.clients, view.events, view.problems, view.error], [0, [], [], null]);
});

test('boot server switch: installed, but the service has not said anything yet (at boot it waits for the kiosk\'s page): starting, not "not installed"', async (t) => {
  const { bootServer, writeStatus } = setUp(t, null, true);
  const view = await bootServer.status();
  assert.deepEqual(BootServerView.parse(view), view);
  assert.equal(view.state, 'starting');
  writeStatus(RUNNING);
  assert.equal((await bootServer.status()).state, 'running');
  // A netbooted kiosk never runs one (its unit is masked): no status is not "starting" there.
  const netbooted = setUp(t, 'netboot from 10.0.0.2', true);
  assert.equal((await netbooted.bootServer.status()).state, 'not-installed');
});

test('boot server switch: a running server with its address, problems, client count and the last 8 events', async (t) => {
  const { bootServer, writeStatus } = setUp(t);
  writeStatus(RUNNING);
  const view = await bootServer.status();
  assert.deepEqual(BootServerView.parse(view), view, 'the view is what the API promises');
  assert.equal(view.state, 'running');
  assert.equal(view.reason, 'switched on on the admin screen');
  assert.deepEqual([view.mode, view.interface, view.address, view.httpUrl], ['proxy', 'eth0', '192.168.1.5', 'http://192.168.1.5:8069/']);
  assert.deepEqual(view.problems, RUNNING.problems);
  assert.equal(view.clients, 3, 'three MACs asked DHCP; their IPs are not counted again');
  assert.equal(view.events.length, 8);
  assert.deepEqual(view.events, RUNNING.events.slice(-8), 'newest 8, oldest first');
});

test('boot server switch: the status the service writes when switched off or failed reads as such', async (t) => {
  const { bootServer, stateDir } = setUp(t);
  server.writeOffStatus(parseBootServerConfig({}, 'test'), stateDir, 'no "on" anywhere');
  const off = await bootServer.status();
  assert.deepEqual([off.state, off.reason, off.mode, off.interface, off.address], ['off', 'no "on" anywhere', 'proxy', 'eth0', null]);
  writeFileSync(join(stateDir, STATUS_FILE), JSON.stringify({ ...RUNNING, state: 'failed', error: 'another DHCP or TFTP server is running on this box', events: [] }));
  const failed = await bootServer.status();
  assert.deepEqual([failed.state, failed.error, failed.clients], ['failed', 'another DHCP or TFTP server is running on this box', 0]);
});

test('boot server switch: a malformed status is "unknown" with a sentence, never a throw', async (t) => {
  const { bootServer, writeStatus, stateDir } = setUp(t);
  const cases: Array<[unknown, RegExp]> = [
    ['{"state": "running", ', /is not JSON/],
    ['', /is not JSON/],
    [{ ...RUNNING, state: 'exploded' }, /not a status this kiosk knows: state/],
    [{ ...RUNNING, events: [{ kind: 'smtp' }] }, /not a status this kiosk knows: events\.0/],
    [[1, 2, 3], /not a status this kiosk knows/],
    [null, /not a status this kiosk knows/],
  ];
  for (const [content, expected] of cases) {
    writeStatus(content === null ? 'null' : content);
    const view = await bootServer.status();
    assert.equal(view.state, 'unknown', JSON.stringify(content));
    assert.match(view.error ?? '', expected);
    assert.match(view.error ?? '', /^The boot server's status cannot be read \(.*status\.json .*\)\. Turn it off and on again/);
    assert.doesNotMatch(view.error ?? '', /\n\s+at /, 'no stack trace');
    assert.deepEqual(BootServerView.parse(view), view);
  }
  writeStatus('x'.repeat(1024 * 1024 + 1));
  assert.match((await bootServer.status()).error ?? '', /far too large/);
  if (process.getuid?.() !== 0) {
    writeStatus(RUNNING);
    chmodSync(join(stateDir, STATUS_FILE), 0o000);
    const view = await bootServer.status();
    assert.equal(view.state, 'unknown');
    assert.match(view.error ?? '', /may not be read by the kiosk/);
  }
});

test('boot server switch: set writes the switch the service reads, and returns the fresh view', async (t) => {
  const { bootServer, settingsDir, writeStatus } = setUp(t);
  writeStatus(RUNNING);
  const on = await bootServer.set(true);
  assert.deepEqual([on.switch, on.switchChangedAt, on.state], ['on', '2026-03-01T10:00:00.000Z', 'running']);
  assert.deepEqual(readBootServerSwitch(join(settingsDir, SWITCH_FILE)), { enabled: true, changedAt: '2026-03-01T10:00:00.000Z' });
  const off = await bootServer.set(false);
  assert.equal(off.switch, 'off');
  assert.deepEqual(readBootServerSwitch(join(settingsDir, SWITCH_FILE)), { enabled: false, changedAt: '2026-03-01T10:00:00.000Z' });
  assert.deepEqual(readdirSync(settingsDir), [SWITCH_FILE], 'no temporary file left');

  // A damaged switch is "no choice", for the admin screen as for the service.
  writeFileSync(join(settingsDir, SWITCH_FILE), '{"enabled": "yes"}');
  assert.equal((await bootServer.status()).switch, 'not-chosen');
  assert.equal(readBootServerSwitch(join(settingsDir, SWITCH_FILE)), null);
});

test('boot server switch: a settings directory that cannot be written gives a sentence to act on', async (t) => {
  const { bootServer, settingsDir } = setUp(t);
  rmSync(settingsDir, { recursive: true });
  await assert.rejects(bootServer.set(true), (error: unknown) => {
    assert.ok(error instanceof SystemError);
    assert.equal(error.kind, 'system');
    assert.match(error.message, /could not be saved/);
    assert.match(error.detail, /ENOENT/, 'the cause goes to the log');
    assert.doesNotMatch(error.message, /ENOENT|\/tmp\//, 'but not on screen');
    return true;
  });
});

test('boot server switch: a netbooted kiosk says it cannot serve others and refuses to switch', async (t) => {
  const { bootServer, settingsDir } = setUp(t, 'netboot from 10.0.0.2');
  const view = await bootServer.status();
  assert.match(view.unavailable ?? '', /netboot from 10\.0\.0\.2.*a netbooted client cannot serve others/);
  for (const enabled of [true, false]) {
    await assert.rejects(bootServer.set(enabled), (error: unknown) => error instanceof SystemError && error.kind === 'forbidden' && /cannot serve others/.test(error.message));
  }
  assert.ok(!existsSync(join(settingsDir, SWITCH_FILE)), 'nothing written');
});

test('boot server switch: clients are counted once whether they show by MAC (DHCP) or by IP (TFTP, HTTP)', () => {
  const at = '2026-03-01T09:00:00.000Z';
  assert.equal(countClients([]), 0);
  assert.equal(countClients([
    { at, kind: 'dhcp', client: '52:54:00:AA:00:01', detail: '' }, { at, kind: 'dhcp', client: '52:54:00:aa:00:01', detail: '' },
    { at, kind: 'tftp', client: '10.0.0.7', detail: '' }, { at, kind: 'tftp', client: '?', detail: '' },
  ]), 1);
  assert.equal(countClients([{ at, kind: 'http', client: '10.0.0.7', detail: '' }, { at, kind: 'http', client: '10.0.0.8', detail: '' }]), 2);
});
