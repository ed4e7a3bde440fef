/**
 * Sound outputs against a real PipeWire 0.3 + WirePlumber + pipewire-pulse (the appliance's sound
 * stack) in a private runtime directory with its own D-Bus session bus; the "speakers" are two null
 * sinks loaded through pipewire-pulse, which PipeWire treats like any other output.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Audio } from '../../app/core/system/audio.js';
import { SystemError } from '../../app/core/system/system-error.js';
import { exists, startDaemon, waitFor, type Daemon } from '../support/system-daemons.js';

const run = promisify(execFile);
const daemons: Daemon[] = [];
let home = '';
let env: NodeJS.ProcessEnv = {};

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'thinkiosk-pipewire-'));
  const runtime = join(home, 'run');
  await mkdir(runtime);
  await chmod(runtime, 0o700);
  // Everything WirePlumber remembers (e.g. the default output) stays in this directory.
  env = { PATH: process.env.PATH, HOME: home, XDG_RUNTIME_DIR: runtime, XDG_STATE_HOME: join(home, 'state'), XDG_CONFIG_HOME: join(home, 'config'), DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(runtime, 'bus')}` };
  daemons.push(startDaemon('dbus-daemon', ['--session', '--nofork', `--address=${env.DBUS_SESSION_BUS_ADDRESS}`], { env }));
  await waitFor('D-Bus', () => exists(join(runtime, 'bus')));
  daemons.push(startDaemon('pipewire', [], { env }));
  await waitFor('PipeWire', () => exists(join(runtime, 'pipewire-0')));
  daemons.push(startDaemon('wireplumber', [], { env }));
  daemons.push(startDaemon('pipewire-pulse', [], { env }));
  await waitFor('pipewire-pulse', async () => ((await run('pactl', ['info'], { env })).stdout.includes('PipeWire') ? true : undefined));
  await run('pactl', ['load-module', 'module-null-sink', 'sink_name=hdmi_out', 'sink_properties=device.description=HDMI'], { env });
  await run('pactl', ['load-module', 'module-null-sink', 'sink_name=usb_headset', 'sink_properties=device.description=USB-Headset'], { env });
  await waitFor('both sinks', async () => ((await new Audio({ env }).outputs()).length === 2 ? true : undefined));
});

after(async () => {
  for (const daemon of daemons.reverse()) await daemon.stop();
  await rm(home, { recursive: true, force: true });
});

test('audio: lists the outputs, switches the default and sets the volume, as pactl then reports', async () => {
  const audio = new Audio({ env });
  const outputs = await audio.outputs();
  assert.deepEqual(outputs.map((o) => [o.id, o.name]).sort(), [['hdmi_out', 'HDMI'], ['usb_headset', 'USB-Headset']]);
  assert.equal(outputs.filter((o) => o.isDefault).length, 1);

  await audio.setOutput('usb_headset', 0.45);
  let now = await audio.outputs();
  assert.deepEqual(now.find((o) => o.id === 'usb_headset'), { id: 'usb_headset', name: 'USB-Headset', isDefault: true, volume: 0.45 });
  assert.equal((await run('pactl', ['get-default-sink'], { env })).stdout.trim(), 'usb_headset');

  await audio.setOutput('hdmi_out');
  now = await audio.outputs();
  assert.equal(now.find((o) => o.isDefault)?.id, 'hdmi_out');
  assert.equal(now.find((o) => o.id === 'usb_headset')?.volume, 0.45, 'switching leaves the other volume alone');
});

test('audio: a muted output reads 0, and setting its volume unmutes it', async () => {
  const audio = new Audio({ env });
  await run('pactl', ['set-sink-volume', 'hdmi_out', '70%'], { env });
  await run('pactl', ['set-sink-mute', 'hdmi_out', '1'], { env });
  assert.equal((await audio.outputs()).find((o) => o.id === 'hdmi_out')?.volume, 0);
  await audio.setOutput('hdmi_out', 1.2);
  assert.equal((await audio.outputs()).find((o) => o.id === 'hdmi_out')?.volume, 1.2);
  assert.match((await run('pactl', ['get-sink-mute', 'hdmi_out'], { env })).stdout, /no/);
});

test('audio: an output that is not there, a volume out of range', async () => {
  const audio = new Audio({ env });
  await assert.rejects(audio.setOutput('bluetooth_gone'), (e: unknown) => e instanceof SystemError && e.kind === 'invalid-input' && /no longer there/.test(e.message));
  await assert.rejects(audio.setOutput('hdmi_out', 2), (e: unknown) => e instanceof SystemError && e.kind === 'invalid-input' && /between 0 and 150/.test(e.message));
});

test('audio: no sound server running, and no pactl installed', async () => {
  const down = new Audio({ env: { PATH: process.env.PATH, HOME: home, XDG_RUNTIME_DIR: join(home, 'nothing-here') } });
  await assert.rejects(down.outputs(), (e: unknown) => e instanceof SystemError && e.kind === 'system' && /sound service \(PipeWire\) is not running/.test(e.message));
  const missing = new Audio({ command: '/nonexistent/pactl' });
  await assert.rejects(missing.outputs(), (e: unknown) => e instanceof SystemError && /pactl\) are not installed/.test(e.message));
});
