import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pactlFailure, parseDefaultSink, parseSinks } from '../../app/core/system/audio.js';
import { SystemError } from '../../app/core/system/system-error.js';
import { fixture } from './fixtures.js';

test('pactl sinks (PipeWire): names as ids, descriptions as names, default marked, muted reads 0', () => {
  const defaultSink = parseDefaultSink(fixture('system/pactl-16.1-info.pipewire-0.3.65.json'));
  assert.equal(defaultSink, 'usb_headset');
  const outputs = parseSinks(fixture('system/pactl-16.1-list-sinks.pipewire-0.3.65.json'), defaultSink);
  assert.deepEqual(outputs, [
    { id: 'hdmi_out', name: 'HDMI', isDefault: false, volume: 0 },
    { id: 'usb_headset', name: 'USB-Headset', isDefault: true, volume: 0.45 },
  ]);
});

test('pactl sinks: unmuted level is the channel average', () => {
  const json = JSON.parse(fixture('system/pactl-16.1-list-sinks.pipewire-0.3.65.json')) as Array<{ mute: boolean }>;
  json[0]!.mute = false;
  const [hdmi] = parseSinks(JSON.stringify(json), null);
  assert.equal(hdmi!.volume, 0.8);
});

test('pactl: broken or unexpected JSON is a clear system error', () => {
  const unreadable = (e: unknown) => e instanceof SystemError && e.kind === 'system' && /does not understand/.test(e.message);
  assert.throws(() => parseSinks('{"index":1', null), unreadable);
  assert.throws(() => parseSinks('[{"index":1}]', null), unreadable);
});

test('pactl failures (recorded): no sound server, unknown sink', () => {
  const down = pactlFailure({ code: 1, stdout: '', stderr: fixture('system/pactl-16.1-no-server.exit1.stderr.txt') }, 'list the sound outputs');
  assert.match(down.message, /sound service \(PipeWire\) is not running/);
  const gone = pactlFailure({ code: 1, stdout: '', stderr: 'Failure: No such entity\n' }, 'switch the sound output');
  assert.equal(gone.kind, 'invalid-input');
});
