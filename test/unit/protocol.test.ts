import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseProtocol } from '../../contract/protocol.js';

const ALL = ['vnc', 'spice', 'rdp'] as const;

test('protocol table: the OS pair decides (windows→RDP, linux→SPICE from Linux/VNC from Windows, other→VNC)', () => {
  assert.equal(chooseProtocol({ guest: 'windows', client: 'linux', override: null, available: ALL }), 'rdp');
  assert.equal(chooseProtocol({ guest: 'windows', client: 'windows', override: null, available: ALL }), 'rdp');
  assert.equal(chooseProtocol({ guest: 'linux', client: 'linux', override: null, available: ALL }), 'spice');
  assert.equal(chooseProtocol({ guest: 'linux', client: 'windows', override: null, available: ALL }), 'vnc');
  assert.equal(chooseProtocol({ guest: 'other', client: 'linux', override: null, available: ALL }), 'vnc');
  assert.equal(chooseProtocol({ guest: 'other', client: 'windows', override: null, available: ALL }), 'vnc');
});

test('protocol table: an administrator override wins when available', () => {
  assert.equal(chooseProtocol({ guest: 'windows', client: 'linux', override: 'vnc', available: ALL }), 'vnc');
  assert.equal(chooseProtocol({ guest: 'linux', client: 'linux', override: 'rdp', available: ALL }), 'rdp');
});

test('protocol table: falls back to what the desktop offers, or null when nothing is', () => {
  assert.equal(chooseProtocol({ guest: 'windows', client: 'linux', override: null, available: ['vnc', 'spice'] }), 'vnc');
  assert.equal(chooseProtocol({ guest: 'linux', client: 'linux', override: null, available: ['vnc'] }), 'vnc');
  assert.equal(chooseProtocol({ guest: 'linux', client: 'linux', override: 'rdp', available: ['spice'] }), 'spice');
  assert.equal(chooseProtocol({ guest: 'other', client: 'linux', override: null, available: [] }), null);
});
