/**
 * The neighbours of a person at a shared kiosk, against the real OpenStack: another member of the
 * same project (who may, by Nova's default policy, set metadata on any server of the project), an
 * administrator who disables an account, and a Keystone that cannot revoke a token at logout.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Console, Session, type Desktop } from '../../contract/api.js';
import { ROUTES } from '../../contract/routes.js';
import { cloud, cloudService, KEYSTONE, keystoneToken, serverId, startController } from './harness.js';

const NOVA = 'http://127.0.0.1:8774/v2.1';
const stateDir = mkdtempSync(path.join(tmpdir(), 'thinkiosk-cloud-state-'));
const ctl = await startController({ stateDir });
after(async () => {
  await ctl.close();
  rmSync(stateDir, { recursive: true, force: true });
});

async function nova(token: string, method: string, apiPath: string, body?: unknown): Promise<Response> {
  return fetch(`${NOVA}${apiPath}`, {
    method, headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json', 'OpenStack-API-Version': 'compute 2.83' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** A Keystone token for the cloud's administrator (project admin). */
async function adminToken(): Promise<string> {
  const response = await fetch(`${KEYSTONE}/auth/tokens`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: 'adminpass' } } }, scope: { project: { name: 'admin', domain: { name: 'Default' } } } } }),
  });
  const token = response.headers.get('x-subject-token');
  if (response.status !== 201 || !token) throw new Error(`admin login: ${response.status}`);
  return token;
}

async function keystoneAdmin(token: string, method: string, apiPath: string, body?: unknown): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const response = await fetch(`${KEYSTONE}${apiPath}`, {
    method, headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  assert.ok(response.status < 300, `${method} ${apiPath}: ${response.status} ${await response.clone().text()}`);
  return response.status === 204 ? null : response.json();
}

test('[nova] a colleague who writes every thinkiosk: key (and accessIPv4) on alice\'s servers changes nothing: her RDP target, USB block and protocol stay as the administrator set them', async () => {
  const alice = await ctl.login('alice');
  const windowsId = serverId('alice-windows');
  const applianceId = serverId('alice-appliance');
  const desktop = async (id: string) => (await ctl.call(ROUTES.desktop, { params: { id }, token: alice })).body as Desktop;
  const before = { windows: await desktop(windowsId), appliance: await desktop(applianceId) };
  assert.equal(before.windows.policy.usbRedirection, false, 'the flavor m1.windows blocks USB');
  assert.equal(before.appliance.policy.protocolOverride, 'vnc', 'the flavor m1.appliance says VNC');

  // Bob, an ordinary member of project kiosk, talks to Nova directly, as anyone with his password could.
  const bob = await keystoneToken('bob', 'bobpass');
  const planted = { 'thinkiosk:rdp_host': cloud.bobFloatingIp, 'thinkiosk:rdp_port': '3390', 'thinkiosk:protocol': 'rdp', 'thinkiosk:usb': 'true' };
  try {
    for (const id of [windowsId, applianceId]) {
      const set = await nova(bob, 'POST', `/servers/${id}/metadata`, { metadata: planted });
      assert.equal(set.status, 200, `Nova lets a project member write a colleague's metadata: ${set.status}`);
    }
    const access = await nova(bob, 'PUT', `/servers/${windowsId}`, { server: { accessIPv4: cloud.bobFloatingIp } });
    assert.equal(access.status, 200, 'and accessIPv4');

    const after = { windows: await desktop(windowsId), appliance: await desktop(applianceId) };
    assert.deepEqual(after.windows.policy, before.windows.policy);
    assert.deepEqual(after.appliance.policy, before.appliance.policy);
    assert.deepEqual(after.appliance.protocols, before.appliance.protocols, 'no RDP offered on the appliance');
    const rdp = Console.parse((await ctl.call(ROUTES.console, { params: { id: windowsId }, token: alice, body: { protocol: 'rdp' } })).body);
    assert.ok(rdp.protocol === 'rdp');
    assert.notEqual(rdp.host, cloud.bobFloatingIp, 'the password never goes where bob pointed');
    assert.ok(after.windows.addresses.some((a) => a.ip === rdp.host), `the target ${rdp.host} is one of alice-windows' own addresses`);
    assert.equal(rdp.port, 3389);
  } finally {
    const aliceToken = await keystoneToken('alice', 'alicepass');
    for (const id of [windowsId, applianceId]) {
      for (const key of Object.keys(planted)) await nova(aliceToken, 'DELETE', `/servers/${id}/metadata/${encodeURIComponent(key)}`);
    }
    await nova(aliceToken, 'PUT', `/servers/${windowsId}`, { server: { accessIPv4: '' } });
  }
});

test('[keystone] a person disabled in Keystone is refused by the shim within 30 s (Nova alone would go on for minutes)', async () => {
  const admin = await adminToken();
  const project = cloud.project.id;
  const role = (await keystoneAdmin(admin, 'GET', '/roles?name=member')).roles[0].id as string;
  const user = (await keystoneAdmin(admin, 'POST', '/users', { user: { name: `leaver-${Date.now()}`, password: 'leaver-pass', domain_id: 'default', enabled: true } })).user as { id: string; name: string };
  try {
    await keystoneAdmin(admin, 'PUT', `/projects/${project}/users/${user.id}/roles/${role}`);
    const login = await ctl.call(ROUTES.login, { body: { username: user.name, password: 'leaver-pass' } });
    assert.equal(login.status, 201, JSON.stringify(login.body));
    const token = login.body.token as string;
    assert.equal((await ctl.call(ROUTES.desktops, { token })).status, 200);
    await keystoneAdmin(admin, 'PATCH', `/users/${user.id}`, { user: { enabled: false } });
    const disabledAt = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - disabledAt < 45_000) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      status = (await ctl.call(ROUTES.desktops, { token })).status;
    }
    const seconds = (Date.now() - disabledAt) / 1000;
    assert.equal(status, 401, `still ${status} after ${seconds} s`);
    assert.ok(seconds <= 30, `refused after ${seconds.toFixed(1)} s`);
    process.stdout.write(`# a disabled user's next call was refused ${seconds.toFixed(1)} s after the account was disabled\n`);
  } finally {
    await keystoneAdmin(admin, 'DELETE', `/users/${user.id}`);
  }
});

test('[keystone] logout is final even when Keystone cannot revoke the token: refused here, by another instance and after a restart', async () => {
  const alice = await ctl.login('alice');
  assert.equal((await ctl.call(ROUTES.desktops, { token: alice })).status, 200);
  cloudService('stop-service', 'keystone');
  try {
    assert.equal((await ctl.call(ROUTES.logout, { token: alice })).status, 204, 'the person at the kiosk is logged out all the same');
  } finally {
    cloudService('start-service', 'keystone');
  }
  const other = await startController({ stateDir });
  try {
    for (const [name, instance] of [['this instance', ctl], ['another instance (same stateDir)', other]] as const) {
      const answer = await instance.call(ROUTES.desktops, { token: alice });
      assert.equal(answer.status, 401, `${name}: ${JSON.stringify(answer.body)}`);
    }
  } finally {
    await other.close();
  }
});

test('[keystone] a Keystone administrator is told so at login (a kiosk without a PIN lets only them set one); alice is not', async () => {
  const admin = await ctl.call(ROUTES.login, { body: { username: 'admin', password: 'adminpass', project: 'admin' } });
  assert.equal(admin.status, 201, JSON.stringify(admin.body));
  assert.equal(Session.parse(admin.body).admin, true);
  const alice = await ctl.call(ROUTES.login, { body: { username: 'alice', password: 'alicepass' } });
  assert.equal(Session.parse(alice.body).admin, false);
});
