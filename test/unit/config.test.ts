import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig, sessionKeyBytes } from '../../controller/core/config.js';

test('config: defaults fill in, and a typo stops start-up with the path of the mistake', () => {
  const config = parseConfig({ openstack: { authUrl: 'http://keystone:5000/v3' } }, 'test');
  assert.ok(config.backend === 'openstack', 'a configuration without "backend" is an OpenStack one, as before the static backend');
  assert.equal(config.openstack.interface, 'public');
  assert.equal(config.openstack.showWholeProject, false);
  assert.deepEqual(config.openstack.consoleProtocols, ['vnc', 'spice']);
  assert.throws(() => parseConfig({ openstack: { authUrl: 'keystone' } }, 'ctl.json'), (e: unknown) => e instanceof ConfigError && /ctl\.json[\s\S]*openstack\.authUrl/.test(e.message));
  assert.throws(() => parseConfig({ openstack: { authUrl: 'http://k/v3', consoleProtocols: ['rdp'] } }, 'x'), /consoleProtocols/);
});

test('config: session keys must be 32 bytes; none means an ephemeral key, with a warning to the admin', () => {
  const config = parseConfig({ openstack: { authUrl: 'http://k/v3' } }, 'x');
  assert.equal(sessionKeyBytes(config, {}).ephemeral, true);
  const key = Buffer.alloc(32, 7).toString('base64');
  assert.equal(sessionKeyBytes(config, { THINKIOSK_SESSION_KEYS: key }).keys[0]?.length, 32);
  assert.throws(() => sessionKeyBytes({ ...config, sessionKeys: ['c2hvcnQ='] }, {}), /openssl rand -base64 32/);
});

test('config: the static backend needs its inventory file; each backend its own section', () => {
  const config = parseConfig({ backend: 'static', static: { inventoryFile: '/etc/thinkiosk/inventory.yaml' } }, 'x');
  assert.ok(config.backend === 'static');
  assert.equal(config.static.relayTicketSeconds, 60);
  assert.throws(() => parseConfig({ backend: 'static' }, 'ctl.json'), (e: unknown) => e instanceof ConfigError && /ctl\.json[\s\S]*\bstatic: /.test(e.message));
  assert.throws(() => parseConfig({ backend: 'static', static: { inventoryFile: '' } }, 'x'), /static\.inventoryFile/);
  assert.throws(() => parseConfig({ backend: 'static', openstack: { authUrl: 'http://k/v3' } }, 'x'), /\bstatic: /);
  assert.throws(() => parseConfig({ backend: 'vmware', static: { inventoryFile: 'x' } }, 'x'), /backend: must be "openstack" or "static"/);
});
