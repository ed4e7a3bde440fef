// electron-builder.yml, checked by electron-builder 26's own configuration loader and schema (the
// packaging itself needs the Electron binary, which cannot be downloaded here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const require = createRequire(import.meta.url);

interface BuilderConfig {
  appId?: string;
  productName?: string;
  extraMetadata?: { main?: string };
  files?: unknown;
  directories?: { output?: string };
  linux?: { target?: { target: string; arch: string[] }[] };
  [key: string]: unknown;
}
// app-builder-lib is CommonJS without an exports map; these are the functions `electron-builder`
// itself calls to load and validate the configuration before building.
const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  getConfig(projectDir: string, configPath: string | null, configFromOptions: null): Promise<BuilderConfig>;
  validateConfiguration(config: BuilderConfig, debugLogger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

test('electron-builder config: found by its default name and valid for electron-builder 26', async () => {
  const config = await getConfig(ROOT, null, null);
  await validateConfiguration(config, new DebugLogger(false));
  assert.equal(config.appId, 'org.thinkiosk.kiosk');
  assert.equal(config.productName, 'thinkiosk');
  assert.notEqual(config.directories?.output, 'dist', 'packages must not land in tsc\'s output directory');
  const targets = (config.linux?.target ?? []).map((t) => `${t.target}:${[...t.arch].sort().join(',')}`);
  assert.deepEqual(targets, ['dir:arm64,x64', 'deb:arm64,x64']);
});

test('electron-builder config: the validator does reject a wrong configuration', async () => {
  const config = await getConfig(ROOT, null, null);
  await assert.rejects(validateConfiguration({ ...config, linux: { target: [{ target: 'dir', arch: ['sparc'] }] } }, new DebugLogger(false)), /configuration object/);
  await assert.rejects(validateConfiguration({ ...config, electronFuses: { runAsNodeTypo: false } }, new DebugLogger(false)), /configuration object/);
});

test('electron-builder config: main is the compiled shell, with its CommonJS preload beside it', async () => {
  const config = await getConfig(ROOT, null, null);
  const main = config.extraMetadata?.main ?? '';
  assert.equal(main, 'dist/app/electron/main.js');
  assert.ok(existsSync(join(ROOT, main)), `${main} is emitted by tsc`);
  assert.ok(existsSync(join(ROOT, dirname(main), 'preload.cjs')), 'preload.cjs is emitted by tsc next to main.js');
});
