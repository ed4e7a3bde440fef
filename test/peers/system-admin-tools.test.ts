/** The admin tools as the kiosk service calls them: terminal events reach the page, lock ends terminals, PIN lockout, log. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KioskEvent } from '../../app/core/kiosk-api.js';
import { createSystemAdminTools } from '../../app/core/system/admin-tools.js';
import { LogBuffer } from '../../app/core/system/log-buffer.js';
import { SystemError } from '../../app/core/system/system-error.js';
import { Terminals } from '../../app/core/system/terminal.js';

function setUp() {
  const events: KioskEvent[] = [];
  const log = new LogBuffer({ write: () => undefined });
  const terminals = new Terminals({ shell: '/bin/bash' });
  const tools = createSystemAdminTools({ emit: (e) => events.push(e), log, controller: () => null, terminals });
  return { events, log, terminals, tools };
}

async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('admin tools: terminal output and exit arrive as kiosk events; locking the admin screen ends the terminal', { timeout: 20_000 }, async (t) => {
  const { events, log, terminals, tools } = setUp();
  t.after(() => terminals.closeAll());
  const { terminalId } = await tools.terminalOpen({ cols: 80, rows: 24 });
  await tools.terminalInput({ terminalId, data: 'echo thinkiosk-$((6*7))\r' });
  const printed = () => events.filter((e) => e.type === 'terminal-output' && e.terminalId === terminalId).map((e) => (e.type === 'terminal-output' ? e.data : '')).join('');
  await until('thinkiosk-42 in the output events', () => printed().includes('thinkiosk-42'));
  await tools.lockAll();
  await until('terminal-exit event', () => events.some((e) => e.type === 'terminal-exit' && e.terminalId === terminalId));
  await assert.rejects(tools.terminalInput({ terminalId, data: 'x' }), (e: unknown) => e instanceof SystemError && e.kind === 'not-found');
  const logged = (await tools.logs({})).lines.map((l) => l.message);
  assert.ok(logged.includes(`admin: terminal ${terminalId} opened`));
  assert.ok(logged.includes('admin: locked, closing 1 terminal(s)'));
  assert.equal(log.lines().length, logged.length);
});

test('admin tools: PIN check goes through the lockout; diagnostics without a controller say what is missing', async () => {
  const { tools } = setUp();
  const hash = await tools.hashPin('8642');
  assert.equal(await tools.verifyPin('8642', hash), true);
  for (let i = 0; i < 5; i++) assert.equal(await tools.verifyPin('0000', hash), false);
  await assert.rejects(tools.verifyPin('8642', hash), (e: unknown) => e instanceof SystemError && e.kind === 'too-many-attempts');
  const { checks } = await tools.diagnostics({});
  assert.deepEqual(checks.at(-1), { name: 'Controller address', ok: false, detail: 'No controller address is set. Enter it on the setup screen.' });
});
