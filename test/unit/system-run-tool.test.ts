import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstErrorLine, runTool } from '../../app/core/system/run-tool.js';
import { SystemError } from '../../app/core/system/system-error.js';

const options = { service: 'The test tool', missing: 'The test tool is not installed.' };

test('run tool: output and exit code come back; the locale is C.UTF-8 whatever the kiosk runs in', async () => {
  const ok = await runTool('env', [], { ...options, env: { PATH: process.env.PATH, LC_ALL: 'de_DE.UTF-8', LANG: 'de_DE.UTF-8' } });
  assert.equal(ok.code, 0);
  assert.match(ok.stdout, /^LC_ALL=C\.UTF-8$/m);
  assert.match(ok.stdout, /^LANG=C\.UTF-8$/m);
  const failed = await runTool('sh', ['-c', 'echo "Error: it broke." >&2; exit 8'], options);
  assert.deepEqual(failed, { stdout: '', stderr: 'Error: it broke.\n', code: 8 });
  assert.equal(firstErrorLine(failed.stderr), 'it broke.');
});

test('run tool: a missing binary and a tool that hangs are clear errors', { timeout: 10_000 }, async () => {
  await assert.rejects(runTool('/nonexistent/tool', [], options), (e: unknown) => e instanceof SystemError && e.message === 'The test tool is not installed.');
  const started = Date.now();
  await assert.rejects(runTool('sleep', ['30'], { ...options, timeoutMs: 300 }), (e: unknown) => e instanceof SystemError && e.message === 'The test tool did not answer within 1 second. Try again in a moment.');
  assert.ok(Date.now() - started < 5000);
});

test('run tool: a tool waiting for input reads end-of-file instead of hanging', { timeout: 10_000 }, async () => {
  const read = await runTool('cat', [], { ...options, timeoutMs: 5000 });
  assert.deepEqual(read, { stdout: '', stderr: '', code: 0 });
});
