import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Console, DesktopList, type Desktop } from '../../contract/api.js';
import { ROUTES } from '../../contract/routes.js';
import { cloud, keystoneToken, serverId, startController, waitForStatus } from './harness.js';
import { grabVncScreen, spiceLink } from '../support/rfb.js';

const ctl = await startController();
after(() => ctl.close());
const alice = await ctl.login('alice');
const bob = await ctl.login('bob');

async function desktops(token: string): Promise<Desktop[]> {
  const answer = await ctl.call(ROUTES.desktops, { token });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return DesktopList.parse(answer.body).desktops;
}
const find = (list: Desktop[], name: string) => list.find((d) => d.name === name) ?? assert.fail(`${name} missing`);

test('[nova] my desktops: alice sees her four servers and none of bob\'s (same project, user_id filter at 2.83)', async () => {
  assert.deepEqual((await desktops(alice)).map((d) => d.name), ['alice-appliance', 'alice-linux', 'alice-spare', 'alice-windows']);
  assert.deepEqual((await desktops(bob)).map((d) => d.name), ['bob-linux']);
  const stolen = await ctl.call(ROUTES.desktop, { params: { id: serverId('bob-linux') }, token: alice });
  assert.equal(stolen.status, 404, 'alice cannot read bob\'s server by id either');
  assert.equal((await ctl.call(ROUTES.power, { params: { id: serverId('bob-linux') }, token: alice, body: { action: 'stop' } })).status, 404);
});

test('[nova] showWholeProject: an operator may let users see their whole project', async () => {
  const wide = await startController({}, { showWholeProject: true });
  try {
    const token = await wide.login('alice');
    const names = DesktopList.parse((await wide.call(ROUTES.desktops, { token })).body).desktops.map((d) => d.name);
    assert.ok(names.includes('bob-linux') && names.includes('alice-linux'));
  } finally {
    await wide.close();
  }
});

test('[glance] guest OS from image properties decides the recommended protocol', async () => {
  const list = await desktops(alice);
  const windows = find(list, 'alice-windows');
  assert.deepEqual(windows.guestOs, { family: 'windows', distro: 'windows', version: '11' });
  assert.equal(windows.recommendedProtocol, 'rdp');
  assert.equal(windows.policy.usbRedirection, false);
  const linux = find(list, 'alice-linux');
  assert.deepEqual(linux.guestOs, { family: 'linux', distro: 'debian', version: '12' });
  assert.equal(linux.recommendedProtocol, 'spice');
  const appliance = find(list, 'alice-appliance');
  assert.equal(appliance.guestOs.family, 'other');
  assert.equal(appliance.policy.protocolOverride, 'vnc');
});

test('[neutron][nova] addresses: fixed IP, MAC and network name of a desktop on kiosk-net', async () => {
  const spare = find(await desktops(alice), 'alice-spare');
  const fixed = spare.addresses.find((a) => a.kind === 'fixed') ?? assert.fail('no fixed address');
  assert.match(fixed.ip, /^192\.0\.2\.\d+$/);
  assert.match(fixed.mac ?? '', /^fa:16:3e(:[0-9a-f]{2}){3}$/);
  assert.equal(fixed.network, 'kiosk-net');
});

test('[nova][novncproxy][libvirt] VNC console: a fresh URL each time, and it reaches the guest\'s screen', async () => {
  const id = serverId('alice-linux');
  const first = Console.parse((await ctl.call(ROUTES.console, { params: { id }, token: alice, body: { protocol: 'vnc' } })).body);
  const second = Console.parse((await ctl.call(ROUTES.console, { params: { id }, token: alice, body: { protocol: 'vnc' } })).body);
  assert.ok(first.protocol === 'vnc' && second.protocol === 'vnc');
  assert.notEqual(first.websocketUrl, second.websocketUrl, 'Nova tokens expire: every connect gets its own');
  const screen = await grabVncScreen(second.websocketUrl);
  assert.equal(screen.version, 'RFB 003.008');
  assert.ok(screen.width >= 640 && screen.height >= 400, `${screen.width}x${screen.height}`);
  assert.match(screen.name, /instance-/);
  assert.ok(screen.litPixels > 1000, `the guest drew its console (${screen.litPixels} lit pixels)`);
});

test('[nova][spicehtml5proxy][libvirt] SPICE console: the proxy links to the guest\'s SPICE server', async () => {
  const answer = Console.parse((await ctl.call(ROUTES.console, { params: { id: serverId('alice-linux') }, token: alice, body: { protocol: 'spice' } })).body);
  assert.equal(answer.protocol, 'spice');
  if (answer.protocol !== 'spice') return;
  assert.deepEqual(await spiceLink(answer.websocketUrl), { major: 2, error: 0 });
});

test('[nova] power: stop, "already stopped", no reboot or console while off, start, "already running"', async () => {
  const id = serverId('alice-spare');
  const power = (action: string) => ctl.call(ROUTES.power, { params: { id }, token: alice, body: { action } });
  const stop = await power('stop');
  assert.equal(stop.status, 202);
  assert.deepEqual(stop.body, { outcome: 'accepted', message: 'alice-spare: shutting down.' });
  await waitForStatus(ctl, alice, id, 'SHUTOFF');
  const again = await power('stop');
  assert.equal(again.status, 200);
  assert.deepEqual(again.body, { outcome: 'unchanged', message: 'alice-spare is already shut off.' });
  const reboot = await power('reboot');
  assert.equal(reboot.status, 409);
  assert.match(reboot.body.error.message, /shut off\. Start it instead/);
  const console = await ctl.call(ROUTES.console, { params: { id }, token: alice, body: { protocol: 'vnc' } });
  assert.equal(console.status, 409, 'Nova would hand out a dead console URL for a SHUTOFF server');
  assert.equal(console.body.error.kind, 'not-ready');
  assert.match(console.body.error.message, /alice-spare is shut off\. Start it first/);
  assert.equal((await power('start')).status, 202);
  await waitForStatus(ctl, alice, id, 'ACTIVE');
  assert.deepEqual((await power('start')).body, { outcome: 'unchanged', message: 'alice-spare is already running.' });
  assert.equal((await power('hard-reboot')).status, 202);
  await waitForStatus(ctl, alice, id, 'ACTIVE');
  assert.equal((await power('reboot')).status, 202);
  await waitForStatus(ctl, alice, id, 'ACTIVE');
  assert.equal((await power('explode')).status, 400);
});

test('[nova] unknown desktops and unavailable protocols get clear answers', async () => {
  const missing = await ctl.call(ROUTES.desktop, { params: { id: '00000000-0000-0000-0000-000000000000' }, token: alice });
  assert.equal(missing.status, 404);
  assert.match(missing.body.error.message, /no longer exists/);
  const rdp = await ctl.call(ROUTES.console, { params: { id: serverId('alice-linux') }, token: alice, body: { protocol: 'rdp' } });
  assert.equal(rdp.status, 409);
  assert.match(rdp.body.error.message, /cannot be opened over RDP\. Available: VNC, SPICE/);
});

test('[neutron] floating IPs: attached from the pool on RDP connect, never bob\'s, reused, released on stop', async () => {
  const id = serverId('alice-windows');
  const rdp = async () => {
    const answer = await ctl.call(ROUTES.console, { params: { id }, token: alice, body: { protocol: 'rdp' } });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const parsed = Console.parse(answer.body);
    assert.ok(parsed.protocol === 'rdp');
    return parsed;
  };
  const first = await rdp();
  assert.match(first.host, /^203\.0\.113\.\d+$/, 'an address from the "public" pool');
  assert.notEqual(first.host, cloud.bobFloatingIp, 'bob\'s address is in use and never taken');
  assert.equal(first.port, 3389);
  const second = await rdp();
  assert.equal(second.host, first.host);
  assert.equal(second.floatingIpAttached, false, 'the desktop keeps its address between connects');

  const bobDesktop = find(await desktops(bob), 'bob-linux');
  await waitForAddress(bob, 'bob-linux', cloud.bobFloatingIp, bobDesktop);

  assert.equal((await ctl.call(ROUTES.power, { params: { id }, token: alice, body: { action: 'stop' } })).status, 202);
  await waitForStatus(ctl, alice, id, 'SHUTOFF');
  const neutron = await neutronFloatingIp(first.host);
  assert.equal(neutron.port_id, null, 'released when the desktop was stopped through the shim');
  assert.equal((await ctl.call(ROUTES.power, { params: { id }, token: alice, body: { action: 'start' } })).status, 202);
  await waitForStatus(ctl, alice, id, 'ACTIVE');
  const third = await rdp();
  assert.equal(third.floatingIpAttached, true, 'a new connect attaches again');
  assert.notEqual(third.host, cloud.bobFloatingIp);
});

async function waitForAddress(token: string, name: string, ip: string, initial: Desktop): Promise<void> {
  let desktop = initial;
  for (let i = 0; i < 40 && !desktop.addresses.some((a) => a.ip === ip && a.kind === 'floating'); i++) {
    await new Promise((r) => setTimeout(r, 500));
    desktop = find(await desktops(token), name);
  }
  assert.ok(desktop.addresses.some((a) => a.ip === ip && a.kind === 'floating'), `${name} still has ${ip}`);
}

/** Straight from Neutron (as alice, bypassing the shim): the floating IP with this address. */
async function neutronFloatingIp(address: string): Promise<{ port_id: string | null; description: string }> {
  const token = await keystoneToken('alice', 'alicepass');
  const response = await fetch(`http://127.0.0.1:9696/v2.0/floatingips?floating_ip_address=${address}`, { headers: { 'X-Auth-Token': token } });
  const body = await response.json() as { floatingips: Array<{ port_id: string | null; description: string }> };
  const fip = body.floatingips[0];
  if (!fip) return { port_id: null, description: 'deleted' };
  return fip;
}
