/**
 * The fleet's commands on the kiosk (app/core/fleet/commands.ts, and the agent's handlers): each id
 * runs once, also across a restart of the app and when the controller sends it again; outcomes wait
 * on the settings partition until a check-in carries them; a command that ends the app saves its
 * outcome first. The handlers run against the real kiosk service (a logout ends the person's
 * session, identify and screenshot push their events to the page).
 *
 * Stand-ins, named as such: the command handlers of the first tests (counters), and in the agent's
 * the app restart, the reboot and the screen capture (test/support/fleet-agent.ts).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CommandAck, type Command, type CommandKind } from '../../contract/fleet.js';
import { FleetCommands, type CommandHandlers } from '../../app/core/fleet/commands.js';
import { FleetFiles } from '../../app/core/fleet/fleet-files.js';
import { ScreenCapture, ScreenCaptureError } from '../../app/core/fleet/screen-capture.js';
import { hashPassword } from '../../controller/core/password-hash.js';
import { fleetAgent } from '../support/fleet-agent.js';
import { ok } from '../support/kiosk-service.js';
import { startStaticController, type StaticController } from '../support/static-harness.js';

let work: string;
let ctl: StaticController;

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'thinkiosk-fleet-commands-'));
  const ana = await hashPassword('ana-secret-pw');
  ctl = await startStaticController({ workDir: mkdtempSync(path.join(work, 'ctl-')), port: 16322, inventory: `users: [{ name: ana, password: "${ana}" }]\ndesktops: []\n` });
});
after(async () => {
  await ctl?.close();
  rmSync(work, { recursive: true, force: true });
});

const command = (kind: CommandKind): Command => ({ id: randomUUID(), kind, issuedAt: '2026-12-06T09:00:00.000Z', issuedBy: 'admin' });
const at = () => new Date('2026-12-06T09:01:00.000Z');

/** Stand-in handlers: each counts its runs; `fail` throws, `restart` ends the "app". */
function countingHandlers(): CommandHandlers & { runs: Record<string, number>; ended: number } {
  const runs: Record<string, number> = {};
  const handlers = {
    runs, ended: 0,
    identify: async () => { runs.identify = (runs.identify ?? 0) + 1; return { detail: 'shown' }; },
    screenshot: async () => { runs.screenshot = (runs.screenshot ?? 0) + 1; throw new Error('grim is not installed on this kiosk'); },
    logout: async () => { runs.logout = (runs.logout ?? 0) + 1; return { detail: 'nobody was logged in' }; },
    'restart-app': async () => { runs['restart-app'] = (runs['restart-app'] ?? 0) + 1; return { detail: 'the kiosk app restarted', finally: async () => { handlers.ended += 1; } }; },
    reboot: async () => { runs.reboot = (runs.reboot ?? 0) + 1; return { detail: 'the kiosk rebooted', finally: async () => { throw new Error('this kiosk cannot reboot itself'); } }; },
  };
  return handlers;
}

test('[kiosk] fleet commands: each id runs once — sent again, and after the app restarted (a new runner on the same files)', async () => {
  const files = new FleetFiles(mkdtempSync(path.join(work, 'files-')));
  const handlers = countingHandlers();
  const identify = command('identify');
  const first = new FleetCommands(files, handlers, at, () => undefined);
  await first.run([identify]);
  await first.run([identify]);
  const afterRestart = new FleetCommands(files, handlers, at, () => undefined);
  await afterRestart.run([identify]);
  assert.equal(handlers.runs.identify, 1);
  assert.deepEqual(afterRestart.pending(), [{ id: identify.id, outcome: 'done', detail: 'shown', at: '2026-12-06T09:01:00.000Z' }]);
  // Told at a check-in: gone from the outbox, and the id is still remembered.
  afterRestart.told(afterRestart.pending());
  assert.deepEqual(afterRestart.pending(), []);
  await afterRestart.run([identify]);
  assert.equal(handlers.runs.identify, 1);
});

test('[kiosk] fleet commands: a failure is an outcome with its sentence; a command that ends the app saves its outcome first and stops the batch', async () => {
  const files = new FleetFiles(mkdtempSync(path.join(work, 'files-')));
  const handlers = countingHandlers();
  const runner = new FleetCommands(files, handlers, at, () => undefined);
  const [shot, restart, identify] = [command('screenshot'), command('restart-app'), command('identify')];
  await runner.run([shot, restart, identify]);
  assert.equal(handlers.ended, 1);
  assert.equal(handlers.runs.identify, undefined, 'after the restart: the next start runs it');
  const acks = runner.pending();
  assert.deepEqual(acks.map((ack) => [ack.id, ack.outcome, ack.detail]), [
    [shot.id, 'failed', 'grim is not installed on this kiosk'],
    [restart.id, 'done', 'the kiosk app restarted'],
  ]);
  for (const ack of acks) CommandAck.parse(ack);
  // A reboot that could not be asked for: its outcome is replaced by the failure.
  const reboot = command('reboot');
  await runner.run([reboot, identify]);
  assert.deepEqual(runner.pending().filter((ack) => ack.id === reboot.id).map((ack) => [ack.outcome, ack.detail]), [['failed', 'this kiosk cannot reboot itself']]);
  assert.equal(handlers.runs.identify, 1, 'a failed reboot does not end the batch');
});

test('[kiosk] fleet commands (agent): logout ends the person\'s session as their own logout does; identify and screenshot tell the page; restart and reboot go to the shell and the system', async () => {
  const k = fleetAgent({ parentDir: work, preset: { controllerUrl: ctl.url } });
  await ok(k, 'login', { username: 'ana', password: 'ana-secret-pw' });
  const seat = k.service.seat();
  assert.equal(seat?.user, 'ana');
  const handlers = (k.agent as unknown as { commandHandlers(): CommandHandlers }).commandHandlers();

  assert.deepEqual(await handlers.logout(command('logout')), { detail: 'logged ana out; the login screen is back' });
  assert.equal(k.service.seat(), null);
  assert.ok(k.events.some((event) => event.type === 'session-ended' && event.reason === 'logout'));
  assert.deepEqual(await handlers.logout(command('logout')), { detail: 'nobody was logged in' });

  await handlers.identify(command('identify'));
  assert.deepEqual(k.events.at(-1), { type: 'identify', name: 'lab3-kiosk-07', seconds: 10 });

  // Not enrolled: the picture is taken (and the person told), but there is no credential to send it with.
  await assert.rejects(handlers.screenshot(command('screenshot')), /not enrolled/);
  assert.equal(k.captures, 1);
  assert.deepEqual(k.events.at(-1), { type: 'screenshot-taken', seconds: 10 });

  const restart = await handlers['restart-app'](command('restart-app'));
  await restart.finally?.();
  const reboot = await handlers.reboot(command('reboot'));
  await reboot.finally?.();
  assert.deepEqual([k.restarts, k.reboots], [1, 1]);
  await k.agent.close();
});

test('[kiosk] fleet screenshot on a kiosk where no picture can be taken: the real screen capture\'s sentence is the outcome, and nobody is told a picture was taken', async () => {
  const noDisplay = fleetAgent({ parentDir: work, preset: { controllerUrl: ctl.url }, more: { captureScreen: () => new ScreenCapture({ env: {} }).capture() } });
  const handlers = (noDisplay.agent as unknown as { commandHandlers(): CommandHandlers }).commandHandlers();
  await assert.rejects(handlers.screenshot(command('screenshot')), new ScreenCaptureError('the kiosk runs on no display server (neither WAYLAND_DISPLAY nor DISPLAY is set)'));
  assert.equal(noDisplay.events.some((event) => event.type === 'screenshot-taken'), false);
  await noDisplay.agent.close();

  const noTool = new ScreenCapture({ env: { DISPLAY: ':93' }, importCommand: '/nonexistent/import' });
  await assert.rejects(noTool.capture(), new ScreenCaptureError('/nonexistent/import is not installed on this kiosk'));
});
