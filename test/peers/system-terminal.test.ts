/** The technician terminal against a real login shell in a real pseudo-terminal (node-pty). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Terminals } from '../../app/core/system/terminal.js';
import { SystemError } from '../../app/core/system/system-error.js';

/** Resolves with everything a terminal printed once `pattern` shows up in it. */
function waitForOutput(terminals: Terminals, id: string, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      terminals.off('output', onOutput);
      reject(new Error(`no ${pattern} within ${timeoutMs} ms; terminal printed: ${JSON.stringify(seen.slice(-500))}`));
    }, timeoutMs);
    const onOutput = (from: string, data: string) => {
      if (from !== id) return;
      seen += data;
      if (pattern.test(seen)) {
        clearTimeout(timer);
        terminals.off('output', onOutput);
        resolve(seen);
      }
    };
    terminals.on('output', onOutput);
  });
}

function exitOf(terminals: Terminals, id: string): Promise<[number, number | null]> {
  return new Promise((resolve) => {
    const onExit = (from: string, code: number, signal: number | null) => {
      if (from !== id) return;
      terminals.off('exit', onExit);
      resolve([code, signal]);
    };
    terminals.on('exit', onExit);
  });
}

test('terminal: a login shell runs commands, follows a resize, and ends with an exit event on close', { timeout: 20_000 }, async (t) => {
  const terminals = new Terminals({ shell: '/bin/bash', env: { ...process.env, THINKIOSK_SESSION_KEYS: 'do-not-show', PS1: '$ ' } });
  t.after(() => terminals.closeAll());
  const id = terminals.open(80, 24);

  const ran = waitForOutput(terminals, id, /thinkiosk-42/);
  terminals.input(id, 'echo thinkiosk-$((6*7))\r');
  await ran; // only the shell's arithmetic can print 42: the typed line says $((6*7))

  terminals.resize(id, 100, 30);
  const size = waitForOutput(terminals, id, /\b30 100\b/);
  terminals.input(id, 'stty size\r');
  await size;

  const env = waitForOutput(terminals, id, /keys-(unset|do-not-show)-/);
  terminals.input(id, 'echo "keys-${THINKIOSK_SESSION_KEYS:-unset}-"\r');
  assert.match(await env, /keys-unset-/, 'secret-looking variables are not handed to the shell');

  const exited = exitOf(terminals, id);
  terminals.close(id);
  await exited;
  assert.equal(terminals.count, 0);
  assert.throws(() => terminals.input(id, 'x'), (e: unknown) => e instanceof SystemError && e.kind === 'not-found');
});

test('terminal: at most N at once, and the admin lock ends them all', { timeout: 20_000 }, async (t) => {
  const terminals = new Terminals({ shell: '/bin/bash', maxTerminals: 2 });
  t.after(() => terminals.closeAll());
  const a = terminals.open(80, 24);
  const b = terminals.open(80, 24);
  assert.throws(() => terminals.open(80, 24), (e: unknown) => e instanceof SystemError && e.kind === 'conflict' && /At most 2 terminals/.test(e.message));
  const ends = Promise.all([exitOf(terminals, a), exitOf(terminals, b)]);
  terminals.closeAll();
  await ends;
  assert.equal(terminals.count, 0);
  const c = terminals.open(80, 24); // room again
  const exited = once(terminals, 'exit');
  terminals.close(c);
  await exited;
});

test('terminal: a shell that is not there is a clear error or an immediate exit, never a hang', { timeout: 20_000 }, async (t) => {
  const terminals = new Terminals({ shell: '/nonexistent/shell' });
  t.after(() => terminals.closeAll());
  let id: string;
  try {
    id = terminals.open(80, 24);
  } catch (error) {
    assert.ok(error instanceof SystemError && /could not start its shell/.test(error.message));
    return;
  }
  // node-pty forks first and reports a failed exec as an exit of the child.
  const [code] = await exitOf(terminals, id);
  assert.notEqual(code, 0);
});
