import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, parsePasswordHash, verifyPassword, type ParsedHash } from '../../controller/core/password-hash.js';
import { toStaticDesktop } from '../../controller/desktops/static/static-desktop.js';
import type { EndpointState, EndpointStatus } from '../../controller/desktops/static/reachability.js';
import type { Protocol } from '../../contract/api.js';
import { InventoryError, parseInventory } from '../../controller/desktops/static/static-inventory.js';

// Made with `echo -n demo | node dist/controller/hash-password-cli.js`.
const DEMO_HASH = 'scrypt$16384$8$1$vyUcwXiO6p3yfVBSGEwJIA==$FnQAgfuo6QWR+xwYbs1q14RTk8K2FqlFZMd7N7TdOww=';

const YAML_INVENTORY = `
users:
  - name: demo
    password: "${DEMO_HASH}"
  - name: eve
    password: "${DEMO_HASH}"
desktops:
  - id: win-1
    name: Windows 11 in room 3
    guestOs: { family: windows, distro: windows, version: 11 }
    addresses:
      - { ip: 10.0.3.21, mac: "52:54:00:12:34:56", network: lab }
      - { ip: "fd00::21", network: lab }
    endpoints:
      rdp: { host: 10.0.3.21, port: 3389 }
    users: [demo]
  - id: lin-1
    name: Debian workstation
    guestOs: { family: linux, distro: debian, version: "12" }
    endpoints:
      spice: { host: 10.0.3.22, port: 5900, password: ticket }
      vnc: { host: 10.0.3.22, port: 5901, password: vncpw }
    usbRedirection: false
    users: [demo, eve]
`;

/** The inventory with one change, as JSON (YAML's superset reads it too). */
function variant(change: (inv: any) => void): string { // eslint-disable-line @typescript-eslint/no-explicit-any
  const inv = {
    users: [{ name: 'demo', password: DEMO_HASH }],
    desktops: [{ id: 'd1', name: 'One', guestOs: { family: 'other' }, endpoints: { vnc: { host: '127.0.0.1', port: 5900, password: 'pw' } }, users: ['demo'] }],
  };
  change(inv);
  return JSON.stringify(inv);
}

function rejects(text: string, pattern: RegExp): void {
  assert.throws(() => parseInventory(text, 'inv.yaml'), (e: unknown) => {
    assert.ok(e instanceof InventoryError, `an InventoryError, got ${String(e)}`);
    assert.match(e.message, /inv\.yaml/);
    assert.match(e.message, pattern);
    return true;
  });
}

test('static inventory: YAML with defaults filled in, numbers as text, hashes parsed', () => {
  const inv = parseInventory(YAML_INVENTORY, 'inv.yaml');
  assert.deepEqual([...inv.users.keys()], ['demo', 'eve']);
  assert.equal(inv.users.get('demo')?.N, 16384);
  const [win, lin] = inv.desktops;
  assert.equal(win?.guestOs.version, '11');
  assert.deepEqual(win?.addresses[1], { ip: 'fd00::21', mac: null, network: 'lab', kind: 'fixed' });
  assert.equal(win?.usbRedirection, true);
  assert.equal(win?.protocolOverride, null);
  assert.equal(lin?.usbRedirection, false);
  assert.equal(lin?.endpoints.spice?.password, 'ticket');
});

test('static inventory: the same content as JSON parses the same', () => {
  assert.equal(parseInventory(variant(() => {}), 'inv.json').desktops[0]?.id, 'd1');
});

test('static inventory: every mistake is reported with its path and which entry it is in', () => {
  rejects(variant((i) => { i.users[0].password = 'demo'; }), /users\[0\]\.password \(user "demo"\): is not a password hash made by hash-password-cli[\s\S]*never store a plain password/);
  rejects(variant((i) => { i.desktops[0].users = ['demo', 'mallory']; }), /desktops\[0\]\.users\[1\] \(desktop "d1"\): no user "mallory" in users/);
  rejects(variant((i) => { i.desktops.push({ ...i.desktops[0] }); }), /desktops\[1\]\.id \(desktop "d1"\): desktop id "d1" is used twice/);
  rejects(variant((i) => { i.users.push({ ...i.users[0] }); }), /users\[1\]\.name \(user "demo"\): user "demo" is listed twice/);
  rejects(variant((i) => { i.desktops[0].endpoints.vnc.port = 70000; }), /desktops\[0\]\.endpoints\.vnc\.port \(desktop "d1"\)/);
  rejects(variant((i) => { i.desktops[0].endpoints = {}; }), /desktops\[0\]\.endpoints \(desktop "d1"\): needs at least one of vnc, spice, rdp/);
  rejects(variant((i) => { i.desktops[0].endpoints.rdp = { host: 'h', port: 3389, password: 'x' }; }), /endpoints\.rdp\.password[\s\S]*user's own login/);
  rejects(variant((i) => { i.desktops[0].protocolOverride = 'spice'; }), /desktops\[0\]\.protocolOverride \(desktop "d1"\): is spice, but endpoints has no spice/);
  rejects(variant((i) => { i.desktops[0].addresses = [{ ip: '10.0.0.300', network: 'lab' }]; }), /desktops\[0\]\.addresses\[0\]\.ip[\s\S]*IPv4 or IPv6/);
  rejects(variant((i) => { i.desktops[0].guestOs.family = 'beos'; }), /desktops\[0\]\.guestOs\.family/);
  rejects(variant((i) => { i.desktops[0].id = 'has space'; }), /desktops\[0\]\.id \(desktop "has space"\): must be 1 to 64 letters/);
  rejects(variant((i) => { i.desktops[0].usb = false; }), /desktops\[0\] \(desktop "d1"\): Unrecognized key: "usb"/);
  rejects(variant((i) => { delete i.users; }), /users: /);
  rejects('users: [\n  - name: x\n', /not valid YAML or JSON/);
});

test('password hash: the right password verifies, a wrong one does not; malformed hashes are refused', async () => {
  const parsed = parsePasswordHash(await hashPassword('correct horse')) as ParsedHash;
  assert.equal(typeof parsed, 'object');
  assert.equal(await verifyPassword('correct horse', parsed), true);
  assert.equal(await verifyPassword('correct horsE', parsed), false);
  assert.equal(await verifyPassword('demo', parsePasswordHash(DEMO_HASH) as ParsedHash), true);
  assert.match(parsePasswordHash('scrypt$1000$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==') as string, /power of two/);
  assert.equal(typeof parsePasswordHash('$2b$10$bcrypthash'), 'string');
});

/** Every configured protocol in one state, except those named otherwise. */
function states(all: EndpointState, except: Partial<Record<Protocol, EndpointState>> = {}): Map<Protocol, EndpointStatus> {
  return new Map((['vnc', 'spice', 'rdp'] as const).map((p) => [p, { state: except[p] ?? all, reason: (except[p] ?? all) === 'refusing' ? 'Too many security failures' : null }]));
}

test('static desktop: running when a server answered (it and the unchecked ones offered), shut off with a reason when every one is down', () => {
  const lin = parseInventory(YAML_INVENTORY, 'inv.yaml').desktops[1]!;
  const up = toStaticDesktop(lin, states('down', { vnc: 'up' }));
  assert.equal(up.status, 'ACTIVE');
  assert.equal(up.powerState, 'running');
  assert.equal(up.fault, null);
  assert.deepEqual(up.protocols, ['vnc']);
  assert.equal(up.recommendedProtocol, 'vnc');
  assert.equal(up.powerControl, false);
  assert.deepEqual(up.policy, { protocolOverride: null, usbRedirection: false });
  const both = toStaticDesktop(lin, states('up'));
  assert.equal(both.recommendedProtocol, 'spice', 'a Linux guest on a Linux kiosk prefers SPICE');
  const upAndUnchecked = toStaticDesktop(lin, states('unknown', { vnc: 'up' }));
  assert.deepEqual(upAndUnchecked.protocols, ['vnc', 'spice'], 'a server not checked recently may still be used');
  const down = toStaticDesktop(lin, states('down'));
  assert.equal(down.status, 'SHUTOFF');
  assert.equal(down.powerState, 'shutdown');
  assert.deepEqual(down.protocols, ['vnc', 'spice']);
  assert.match(down.fault ?? '', /Debian workstation does not answer \(VNC at 10\.0\.3\.22:5901, SPICE at 10\.0\.3\.22:5900\)/);
  const win = toStaticDesktop(parseInventory(YAML_INVENTORY, 'inv.yaml').desktops[0]!, states('up'));
  assert.equal(win.recommendedProtocol, 'rdp');
  assert.deepEqual(win.addresses.map((a) => a.version), [4, 6]);
});

test('static desktop: not checked recently is UNKNOWN and still offered; a server refusing the controller says so', () => {
  const lin = parseInventory(YAML_INVENTORY, 'inv.yaml').desktops[1]!;
  const unknown = toStaticDesktop(lin, states('unknown'));
  assert.equal(unknown.status, 'UNKNOWN');
  assert.equal(unknown.powerState, 'unknown');
  assert.equal(unknown.fault, null);
  assert.deepEqual(unknown.protocols, ['vnc', 'spice']);
  const refusing = toStaticDesktop(lin, states('down', { vnc: 'refusing' }));
  assert.equal(refusing.status, 'UNKNOWN');
  assert.match(refusing.fault ?? '', /refuses connections from the controller for now \(VNC: Too many security failures\)/);
});
