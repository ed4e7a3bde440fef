// electron-builder.yml, checked by electron-builder 26's own configuration loader and schema (the
// packaging itself needs the Electron binary, which cannot be downloaded here).
// The loader runs in a child process: electron-builder writes to stdout, which node:test uses to
// carry this file's results, and a stray line there breaks the whole run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Checked {
  appId?: string;
  productName?: string;
  output?: string;
  main?: string;
  targets: string[];
  valid: string | null;
  rejected: (string | null)[];
}

// app-builder-lib is CommonJS without an exports map; these are the functions `electron-builder`
// itself calls to load and validate the configuration before building.
const CHECK = `
const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config.js');
const { DebugLogger } = require('builder-util');
const outcome = (p) => p.then(() => null, (e) => String(e && e.message || e));
(async () => {
  const config = await getConfig(process.cwd(), null, null);
  const valid = await outcome(validateConfiguration(config, new DebugLogger(false)));
  const rejected = [
    await outcome(validateConfiguration({ ...config, linux: { target: [{ target: 'dir', arch: ['sparc'] }] } }, new DebugLogger(false))),
    await outcome(validateConfiguration({ ...config, electronFuses: { runAsNodeTypo: false } }, new DebugLogger(false))),
  ];
  const targets = ((config.linux && config.linux.target) || []).map((t) => t.target + ':' + [...t.arch].sort().join(','));
  process.stderr.write('RESULT ' + JSON.stringify({ appId: config.appId, productName: config.productName, output: config.directories && config.directories.output,
    main: config.extraMetadata && config.extraMetadata.main, targets, valid, rejected }) + '\\n');
})().catch((e) => { process.stderr.write('FAILED ' + e + '\\n'); process.exit(1); });
`;

let checked: Promise<Checked> | undefined;
function check(): Promise<Checked> {
  checked ??= promisify(execFile)(process.execPath, ['-e', CHECK], { cwd: ROOT }).then(({ stderr }) => {
    const line = stderr.split('\n').find((l) => l.startsWith('RESULT '));
    assert.ok(line, `the loader said: ${stderr}`);
    return JSON.parse(line.slice(7)) as Checked;
  });
  return checked;
}

test('electron-builder config: found by its default name and valid for electron-builder 26', async () => {
  const config = await check();
  assert.equal(config.valid, null, `valid: ${config.valid}`);
  assert.equal(config.appId, 'org.thinkiosk.kiosk');
  assert.equal(config.productName, 'thinkiosk');
  assert.notEqual(config.output, 'dist', 'packages must not land in tsc\'s output directory');
  assert.deepEqual(config.targets, ['dir:arm64,x64', 'deb:arm64,x64']);
});

test('electron-builder config: the validator does reject a wrong configuration', async () => {
  const config = await check();
  for (const message of config.rejected) assert.match(message ?? 'accepted', /configuration object/);
});

test('electron-builder config: main is the compiled shell, with its CommonJS preload beside it', async () => {
  const main = (await check()).main ?? '';
  assert.equal(main, 'dist/app/electron/main.js');
  assert.ok(existsSync(join(ROOT, main)), `${main} is emitted by tsc`);
  assert.ok(existsSync(join(ROOT, dirname(main), 'preload.cjs')), 'preload.cjs is emitted by tsc next to main.js');
});
