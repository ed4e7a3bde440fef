// Packaging dry run: the real electron-builder 26 packs the `dir` target from electron-builder.yml,
// with a STAND-IN Electron distribution in place of the real one, which cannot be downloaded here.
// The stand-in is a script that cannot run anything, carrying the fuse wire real Electron binaries
// carry (sentinel, version, Electron's default fuse states), so electron-builder's fuse step runs
// on it for real. What is checked is what goes into the package, not that it starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const require = createRequire(import.meta.url);
const asar = require('@electron/asar') as { listPackage(archive: string, options?: object): string[]; extractFile(archive: string, file: string): Buffer };
const fuses = require('@electron/fuses') as { getCurrentFuseWire(binary: string): Promise<Record<string, unknown>> };

/** @electron/fuses' sentinel and fuse states ('0' disabled, '1' enabled). */
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const FUSE = { disabled: 48, enabled: 49 };
/** Fuse order in wire version 1 (@electron/fuses FuseV1Options). */
const FUSE_INDEX = { runAsNode: '0', cookieEncryption: '1', nodeOptions: '2', nodeCliInspect: '3', asarIntegrity: '4', onlyLoadAppFromAsar: '5', v8Snapshot: '6', fileProtocolPrivileges: '7' };

function writeStandInElectronDist(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const script = Buffer.from('#!/bin/sh\necho "stand-in Electron binary for a packaging dry run: it runs nothing" >&2\nexit 1\n# ');
  // The states Electron ships with: RunAsNode, NODE_OPTIONS, --inspect and file:// privileges on,
  // the rest off; so each flip the configuration asks for shows in the result.
  const wire = Buffer.concat([Buffer.from(FUSE_SENTINEL), Buffer.from([1, 8]), Buffer.from('10110001'), Buffer.from('\n')]);
  writeFileSync(join(dir, 'electron'), Buffer.concat([script, wire]));
  chmodSync(join(dir, 'electron'), 0o755);
  writeFileSync(join(dir, 'LICENSE'), 'stand-in\n');
  writeFileSync(join(dir, 'LICENSES.chromium.html'), 'stand-in\n');
  mkdirSync(join(dir, 'resources'));
}

test('electron package: the dir target holds the shell, the page and production modules only, with fuses set', { timeout: 180_000 }, async (t) => {
  assert.ok(existsSync(join(ROOT, 'dist/www/app/ui/index.html')), 'dist/www is missing: build the page (npx tsc -p app/ui/tsconfig.json and copy its HTML/CSS) first');
  const work = mkdtempSync(join(tmpdir(), 'thinkiosk-package-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  writeStandInElectronDist(join(work, 'electron-dist'));
  const config = join(work, 'electron-builder.yml');
  writeFileSync(config, [
    `extends: ${JSON.stringify(join(ROOT, 'electron-builder.yml'))}`,
    `electronDist: ${JSON.stringify(join(work, 'electron-dist'))}`,
    // Rebuilding node-pty for Electron needs Electron's headers from the internet.
    'npmRebuild: false',
    'directories:',
    `  output: ${JSON.stringify(join(work, 'out'))}`,
    '',
  ].join('\n'));

  await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/electron-builder/cli.js'), '--linux', 'dir', '--x64', '--config', config], {
    cwd: ROOT, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, CI: 'true' },
  });

  const unpacked = join(work, 'out', 'linux-unpacked');
  const archive = join(unpacked, 'resources', 'app.asar');
  const files = new Set(asar.listPackage(archive, { isPack: false }));
  for (const file of ['/dist/app/electron/main.js', '/dist/app/electron/preload.cjs', '/dist/app/core/kiosk-api.js', '/dist/contract/api.js', '/dist/www/app/ui/index.html', '/node_modules/zod/package.json', '/node_modules/@novnc/novnc/package.json']) {
    assert.ok(files.has(file), `${file} is packaged`);
  }
  const unwanted = [...files].filter((f) => /^\/(dist\/)?(app|controller|contract|test|bench|scripts)\/.*\.(ts|cts)$/.test(f) || /^\/dist\/(controller|test|bench|scripts)\//.test(f) || /^\/dist\/.*\.map$/.test(f));
  assert.deepEqual(unwanted, [], 'no controller, tests, sources or source maps in the kiosk package');
  for (const devOnly of ['electron', 'electron-builder', 'typescript', 'playwright-core', 'eslint']) {
    assert.ok(!files.has(`/node_modules/${devOnly}/package.json`), `${devOnly} (a devDependency) is not packaged`);
  }
  const packageJson = JSON.parse(asar.extractFile(archive, 'package.json').toString()) as { main?: string; type?: string };
  assert.equal(packageJson.main, 'dist/app/electron/main.js');
  assert.equal(packageJson.type, 'module', 'main.js is ESM');
  assert.ok(existsSync(join(unpacked, 'resources', 'app.asar.unpacked', 'node_modules', 'node-pty', 'package.json')), 'the native module sits outside the asar, where it can be loaded');
  assert.ok(existsSync(join(unpacked, 'thinkiosk')), 'the executable is named thinkiosk');

  const wire = await fuses.getCurrentFuseWire(join(unpacked, 'thinkiosk'));
  assert.equal(wire[FUSE_INDEX.runAsNode], FUSE.disabled, 'ELECTRON_RUN_AS_NODE is off');
  assert.equal(wire[FUSE_INDEX.nodeOptions], FUSE.disabled, 'NODE_OPTIONS is ignored');
  assert.equal(wire[FUSE_INDEX.nodeCliInspect], FUSE.disabled, '--inspect is ignored');
  assert.equal(wire[FUSE_INDEX.onlyLoadAppFromAsar], FUSE.enabled, 'only app.asar is loaded');
  assert.equal(wire[FUSE_INDEX.fileProtocolPrivileges], FUSE.disabled, 'file:// has no extra privileges');
});
