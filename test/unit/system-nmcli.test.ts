import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nmcliConnectFailure, nmcliFailure, parseDeviceStatus, parseWifiList, splitTerse, wifiKeyManagement } from '../../app/core/system/nmcli.js';
import { SystemError } from '../../app/core/system/system-error.js';
import { fixture } from './fixtures.js';

test('nmcli terse: splits on unescaped colons and removes the escapes', () => {
  assert.deepEqual(splitTerse(String.raw` :60\:B3\:25\:25\:E2\:C8:Guest\: free:54:`), [' ', '60:B3:25:25:E2:C8', 'Guest: free', '54', '']);
  assert.deepEqual(splitTerse(String.raw`back\\slash:a\\:b`), ['back\\slash', 'a\\', 'b']);
});

test('nmcli device status (real NetworkManager): connection names unescaped, empty connection is null', () => {
  const devices = parseDeviceStatus(fixture('system/nmcli-1.42.4-device-status.netns.txt'));
  assert.equal(devices.length, 5);
  assert.deepEqual(devices[1], { device: 'veth-k0', type: 'ethernet', state: 'connected', connection: 'Office: 2nd floor' });
  assert.deepEqual(devices[2], { device: 'eth-k2', type: 'ethernet', state: 'connecting (getting IP configuration)', connection: 'Wired connection 1' });
  assert.deepEqual(parseDeviceStatus('wlan0:wifi:disconnected:\n'), [{ device: 'wlan0', type: 'wifi', state: 'disconnected', connection: null }]);
});

test('nmcli wifi list: one entry per network with its strongest access point, hidden ones left out', () => {
  const networks = parseWifiList(fixture('system/nmcli-1.42.4-wifi-list.nm-test-service.txt'));
  assert.deepEqual(networks.map((n) => [n.ssid, n.signal, n.security]), [
    ['Office WPA3', 80, 'WPA3'],
    ['Lab 3', 71, 'WPA2'],
    ['Café Ümlaut', 61, 'WPA1 WPA2'],
    ['Guest: free coffee', 54, ''],
    ['back\\slash', 20, 'WPA1 WPA2'],
  ]);
  assert.ok(networks.every((n) => !n.inUse));
});

test('nmcli wifi list: the network in use ("*", nmcli 1.42 devices.c) comes first even when weaker', () => {
  const text = fixture('system/nmcli-1.42.4-wifi-list.nm-test-service.txt').replace(String.raw` :90\:B1`, String.raw`*:90\:B1`);
  const [first] = parseWifiList(text);
  assert.deepEqual(first, { ssid: 'Lab 3', signal: 71, security: 'WPA2', inUse: true });
});

test('nmcli: an answer with the wrong number of fields is refused, not misread', () => {
  assert.throws(() => parseDeviceStatus('wlan0:wifi:connected\n'), (e: unknown) => e instanceof SystemError && e.kind === 'system' && /does not understand/.test(e.message));
});

test('nmcli: security column decides how to join', () => {
  assert.equal(wifiKeyManagement(''), 'none');
  assert.equal(wifiKeyManagement('WPA1 WPA2'), 'wpa-psk');
  assert.equal(wifiKeyManagement('WPA2 WPA3'), 'wpa-psk');
  assert.equal(wifiKeyManagement('WPA3'), 'sae');
  assert.equal(wifiKeyManagement('WPA2 802.1X'), 'enterprise');
  assert.equal(wifiKeyManagement('WEP'), 'wep');
});

test('nmcli failures (recorded): not running, no D-Bus, no Wi-Fi device, unknown network, wrong password', () => {
  const notRunning = nmcliFailure({ code: 8, stdout: '', stderr: fixture('system/nmcli-1.42.4-not-running.exit8.stderr.txt') }, 'list the network devices');
  assert.equal(notRunning.kind, 'system');
  assert.match(notRunning.message, /^NetworkManager is not running/);
  assert.match(notRunning.detail, /exit 8: NetworkManager is not running/);

  const noBus = nmcliFailure({ code: 1, stdout: '', stderr: fixture('system/nmcli-1.42.4-no-dbus.exit1.stderr.txt') }, 'list the network devices');
  assert.match(noBus.message, /^NetworkManager is not running/);

  const noRadio = nmcliConnectFailure({ code: 1, stdout: '', stderr: fixture('system/nmcli-1.42.4-wifi-connect-no-wifi-device.exit1.stderr.txt') }, 'Lab 3', true);
  assert.match(noRadio.message, /no Wi-Fi adapter/);

  const gone = nmcliConnectFailure({ code: 10, stdout: '', stderr: fixture('system/nmcli-1.42.4-wifi-connect-no-such-ssid.exit10.stderr.txt') }, 'Not here', true);
  assert.equal(gone.kind, 'invalid-input');
  assert.match(gone.message, /“Not here” is not in range/);

  // NetworkManager's reason text for a refused key (NM_DEVICE_STATE_REASON_NO_SECRETS), exit 4.
  const refused = nmcliConnectFailure({ code: 4, stdout: '', stderr: 'Error: Connection activation failed: Secrets were required, but not provided.\n' }, 'Lab 3', true);
  assert.equal(refused.kind, 'invalid-input');
  assert.match(refused.message, /password for “Lab 3” was not accepted/);

  const other = nmcliConnectFailure({ code: 4, stdout: '', stderr: 'Error: Connection activation failed: IP configuration could not be reserved (no available address, timeout, etc.).\n' }, 'Lab 3', true);
  assert.equal(other.kind, 'system');
  assert.match(other.message, /could not join “Lab 3” \(IP configuration could not be reserved/);
});
