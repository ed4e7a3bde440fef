/**
 * The closing line CI reads: scripts/closing-count.sh sums the closing lines of several runs of
 * node's test runner with this project's reporter. Real runs of small test files here, one of
 * which skips a test (its closing line then ends ", 1 skipped") and one of which fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const REPORTER = path.resolve('dist/test/reporter.js');

function runWithReporter(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `import { test } from 'node:test';\nimport assert from 'node:assert/strict';\n${body}\n`);
  // Without NODE_TEST_CONTEXT: a runner started from inside a test would report to this one instead.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const run = spawnSync(process.execPath, ['--test', `--test-reporter=${REPORTER}`, '--test-reporter-destination=stdout', file], { encoding: 'utf8', env });
  return run.stdout;
}

test('the closing line counts every run, also one that skipped a test, and names the failed test above it', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'thinkiosk-closing-count-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const withSkip = runWithReporter(dir, 'with-skip.test.mjs', `
test('one', () => {});
test('two', () => {});
test('not on this machine', { skip: 'no such peer' }, () => {});`);
  assert.match(withSkip, /^2 passed, 0 failed, 1 skipped$/m, 'the reporter closes a run with a skip like this');
  const withFailure = runWithReporter(dir, 'with-failure.test.mjs', `
test('three', () => {});
test('the broken one', () => { assert.equal(1, 2, 'one is not two'); });`);
  assert.match(withFailure, /^1 passed, 1 failed$/m);

  const sum = spawnSync('scripts/closing-count.sh', { input: withSkip + withFailure, encoding: 'utf8' });
  assert.equal(sum.status, 0, sum.stderr);
  const lines = sum.stdout.trimEnd().split('\n');
  assert.equal(lines.at(-1), '3 passed, 1 failed', `the sum of both runs:\n${sum.stdout}`);
  assert.equal(lines[0], 'tests that failed:');
  assert.match(sum.stdout, /✖ the broken one/);
});
