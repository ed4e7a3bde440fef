/**
 * The X11 idle query's parsing (app/core/native/x11-idle.ts). The query itself runs against real
 * X servers: Xvfb without MIT-SCREEN-SAVER in test/peers/native-rdp-idle-trust.test.ts (input
 * keeps the session, none ends it) and the image's Xwayland in test/image (probe.sh).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findSystemCounter, localDisplayNumber, XIdleError } from '../../app/core/native/x11-idle.js';

/** A ListSystemCounters reply as an X server sends it: 32-byte header, then (id, resolution, name length, name, pad to 4). */
function listSystemCountersReply(counters: { id: number; name: string }[]): Buffer {
  const entries = counters.map(({ id, name }) => {
    const size = 14 + name.length;
    const entry = Buffer.alloc(size + ((4 - (size % 4)) % 4));
    entry.writeUInt32LE(id, 0);
    entry.writeInt32LE(0, 4); // resolution hi
    entry.writeUInt32LE(4, 8); // resolution lo
    entry.writeUInt16LE(name.length, 12);
    entry.write(name, 14, 'latin1');
    return entry;
  });
  const body = Buffer.concat(entries);
  const head = Buffer.alloc(32);
  head[0] = 1;
  head.writeUInt32LE(body.length / 4, 4);
  head.writeUInt32LE(counters.length, 8);
  return Buffer.concat([head, body]);
}

test('findSystemCounter: finds IDLETIME behind counters whose names need 0 to 3 bytes of padding', () => {
  // Name lengths 10, 11, 12, 13: entries of 24, 25→28, 26→28, 27→28 bytes.
  const reply = listSystemCountersReply([
    { id: 0x21, name: 'SERVERTIME' },
    { id: 0x22, name: 'DEVICEIDLE1' },
    { id: 0x23, name: 'DEVICEIDLE12' },
    { id: 0x24, name: 'DEVICEIDLE123' },
    { id: 0x25, name: 'IDLETIME' },
  ]);
  assert.equal(findSystemCounter(reply, 'IDLETIME'), 0x25);
  assert.equal(findSystemCounter(reply, 'SERVERTIME'), 0x21);
  assert.equal(findSystemCounter(reply, 'DEVICEIDLE123'), 0x24);
});

test('findSystemCounter: a server without the counter, or a reply cut short, gives null rather than a wrong id', () => {
  assert.equal(findSystemCounter(listSystemCountersReply([{ id: 1, name: 'SERVERTIME' }]), 'IDLETIME'), null);
  const cut = listSystemCountersReply([{ id: 1, name: 'SERVERTIME' }, { id: 2, name: 'IDLETIME' }]);
  assert.equal(findSystemCounter(cut.subarray(0, cut.length - 20), 'IDLETIME'), null);
});

test('localDisplayNumber: local displays only', () => {
  assert.equal(localDisplayNumber(':0'), 0);
  assert.equal(localDisplayNumber('unix:12.0'), 12);
  assert.throws(() => localDisplayNumber('host:0'), XIdleError);
  assert.throws(() => localDisplayNumber(undefined), /DISPLAY is not set/);
});
