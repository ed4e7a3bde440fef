/** contract/files: atomic writes and hand-written configuration files, as the programs use them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic, writeJsonAtomicAsync } from '../../contract/files/atomic-write.js';
import { loadConfigFile, parseConfigText, type ConfigFileKind } from '../../contract/files/config-file.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'thinkiosk-contract-files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('an atomic JSON write replaces the file whole, with the mode asked for, and leaves no temporary file', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'switch.json');
  writeFileSync(file, '{"enabled": false, "old": ');
  writeJsonAtomic(file, { enabled: true }, { mode: 0o600 });
  assert.equal(readFileSync(file, 'utf8'), '{"enabled":true}\n');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  await writeJsonAtomicAsync(file, { enabled: false, at: 1 }, { pretty: true });
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { enabled: false, at: 1 });
  assert.deepEqual(readdirSync(dir), ['switch.json']);
});

test('an atomic write that cannot happen throws and leaves the old file and no temporary file', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'status.json');
  writeFileSync(file, '{"state":"serving"}\n');
  // Into a directory that does not exist: nothing can be written.
  assert.throws(() => writeJsonAtomic(path.join(dir, 'missing-dir', 'status.json'), {}), /ENOENT/);
  assert.deepEqual(readdirSync(dir), ['status.json']);
  assert.equal(readFileSync(file, 'utf8'), '{"state":"serving"}\n');
});

class SampleError extends Error {}
const Sample = z.strictObject({ port: z.number().int().default(8069), names: z.array(z.string()).default([]) });
const YAML_KIND: ConfigFileKind<z.infer<typeof Sample>> = { what: 'sample configuration', syntax: 'YAML', schema: Sample, error: SampleError, whenMissing: {} };
const JSON_KIND: ConfigFileKind<z.infer<typeof Sample>> = { what: 'sample configuration', syntax: 'JSON', schema: Sample, error: SampleError, readHint: 'sample.file' };

test('a configuration file: every problem with its place, bad syntax, a missing or empty file where defaults hold, and where they do not', (t) => {
  const dir = tempDir(t);
  assert.deepEqual(parseConfigText(YAML_KIND, 'port: 80\nnames: [a, b]\n', 'x.yaml'), { port: 80, names: ['a', 'b'] });
  assert.throws(() => parseConfigText(YAML_KIND, 'port: eighty\nnames: [1]\nextra: 1\n', 'box.yaml'), (error: unknown) => {
    assert.ok(error instanceof SampleError);
    assert.match(error.message, /^invalid sample configuration in box\.yaml:\n/);
    for (const place of ['port: ', 'names.0: ', '(top): Unrecognized key']) assert.ok(error.message.includes(`  ${place}`), `${place} in:\n${error.message}`);
    return true;
  });
  assert.throws(() => parseConfigText(YAML_KIND, 'port: [\n', 'broken.yaml'), /sample configuration broken\.yaml is not valid YAML or JSON: /);
  assert.throws(() => parseConfigText(JSON_KIND, '{port: 1}', 'c.json'), /sample configuration c\.json is not valid JSON: /);
  assert.deepEqual(loadConfigFile(YAML_KIND, path.join(dir, 'none.yaml')), { port: 8069, names: [] }, 'missing: defaults');
  writeFileSync(path.join(dir, 'empty.yaml'), '# nothing set yet\n');
  assert.deepEqual(loadConfigFile(YAML_KIND, path.join(dir, 'empty.yaml')), { port: 8069, names: [] }, 'only comments: defaults');
  assert.throws(() => loadConfigFile(JSON_KIND, path.join(dir, 'none.json')), /cannot read the sample configuration .*none\.json \(sample\.file\): ENOENT/);
});
