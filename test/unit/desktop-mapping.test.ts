import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { desktopPolicyOf, guestOsOf, toDesktop, UNKNOWN_OS } from '../../controller/desktops/openstack/desktop-mapping.js';
import { NovaServer } from '../../controller/desktops/openstack/nova.js';
import { websocketUrlOf } from '../../controller/desktops/openstack/openstack-backend.js';
import { Desktop } from '../../contract/api.js';
import { ApiError } from '../../controller/core/api-error.js';
import { fixture } from './fixtures.js';

const servers = z.object({ servers: z.array(NovaServer) }).parse(JSON.parse(fixture('nova-servers-detail-alice.json'))).servers;
const byName = (name: string) => servers.find((s) => s.name === name) ?? assert.fail(`no ${name} in fixture`);
const options = { consoleProtocols: ['vnc', 'spice'] as const };

test('guest OS from Glance properties (recorded windows image; os_distro as fallback)', () => {
  assert.deepEqual(guestOsOf(JSON.parse(fixture('glance-image-windows.json'))), { family: 'windows', distro: 'windows', version: '11' });
  assert.deepEqual(guestOsOf({ id: 'x', os_distro: 'ubuntu', os_version: '24.04' }), { family: 'linux', distro: 'ubuntu', version: '24.04' });
  assert.deepEqual(guestOsOf({ id: 'x' }), UNKNOWN_OS);
  assert.deepEqual(guestOsOf(null), UNKNOWN_OS);
});

test('recorded Nova server → desktop: IP, MAC and network, and RDP only where it can work', () => {
  const windows = toDesktop(byName('alice-windows'), { family: 'windows', distro: 'windows', version: '11' }, options);
  assert.equal(Desktop.safeParse(windows).success, true, 'matches the contract');
  const fixed = windows.addresses.find((a) => a.kind === 'fixed');
  assert.match(fixed?.ip ?? '', /^192\.0\.2\.\d+$/);
  assert.match(fixed?.mac ?? '', /^fa:16:3e(:[0-9a-f]{2}){3}$/);
  assert.equal(fixed?.network, 'kiosk-net');
  assert.deepEqual(windows.protocols, ['vnc', 'spice', 'rdp']);
  assert.equal(windows.recommendedProtocol, 'rdp');
  assert.equal(windows.policy.usbRedirection, false, 'thinkiosk:usb=false in the flavor\'s extra specs');
  assert.equal(windows.powerState, 'running');

  const appliance = toDesktop(byName('alice-appliance'), UNKNOWN_OS, options);
  assert.equal(appliance.policy.protocolOverride, 'vnc');
  assert.equal(appliance.recommendedProtocol, 'vnc');
  assert.ok(!appliance.protocols.includes('rdp'), 'no RDP for a non-Windows desktop without an override');
});

test('server metadata a project member can write steers nothing: protocol, USB and RDP target come from the flavor', () => {
  // alice-appliance's metadata asks for RDP to another host with USB on (as a colleague could set it);
  // its flavor (admin-only) says VNC.
  const server = byName('alice-appliance');
  assert.equal(server.metadata['thinkiosk:rdp_host'], '203.0.113.66', 'the fixture carries the planted keys');
  const appliance = toDesktop(server, UNKNOWN_OS, options);
  assert.equal(appliance.policy.protocolOverride, 'vnc');
  assert.equal(appliance.policy.usbRedirection, true, 'default, not from metadata');
  assert.deepEqual(desktopPolicyOf(server), { protocolOverride: 'vnc', usbRedirection: true, rdpPort: null });
  const noFlavorSpecs = { ...server, flavor: { original_name: 'm1.nano', extra_specs: {} } };
  assert.deepEqual(desktopPolicyOf(noFlavorSpecs), { protocolOverride: null, usbRedirection: true, rdpPort: null });
  assert.deepEqual(desktopPolicyOf({ ...server, flavor: { extra_specs: { 'thinkiosk:rdp_port': '3390', 'thinkiosk:usb': 'FALSE' } } }), { protocolOverride: null, usbRedirection: false, rdpPort: 3390 });
});

test('ERROR desktops carry the fault for the user; unknown power states stay unknown', () => {
  const broken = { ...byName('alice-spare'), status: 'ERROR', fault: { message: 'No valid host was found.' }, 'OS-EXT-STS:power_state': 42 };
  const desktop = toDesktop(broken, UNKNOWN_OS, options);
  assert.equal(desktop.fault, 'No valid host was found.');
  assert.equal(desktop.powerState, 'unknown');
});

test('console URLs: Nova\'s noVNC and spice-html5 pages → the proxy websocket', () => {
  assert.equal(websocketUrlOf('http://127.0.0.1:6080/vnc_auto.html?path=%3Ftoken%3Dabc-1'), 'ws://127.0.0.1:6080/?token=abc-1');
  assert.equal(websocketUrlOf('https://cloud.example:6082/spice_auto.html?token=xyz'), 'wss://cloud.example:6082/?token=xyz');
  assert.throws(() => websocketUrlOf('http://127.0.0.1:6080/vnc_auto.html'), (e: unknown) => e instanceof ApiError && /console address/.test(e.userMessage));
});
