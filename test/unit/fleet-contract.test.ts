import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SettingValues } from '../../contract/fleet.js';
import { macFromPathParam, macPathParam } from '../../contract/fleet-admin.js';
import { ADMIN_ROUTES, FLEET_ROUTES, pathMatcher, pathOf } from '../../contract/routes.js';

function problems(values: Record<string, string>): string[] {
  const parsed = SettingValues.safeParse(values);
  return parsed.success ? [] : parsed.error.issues.map((issue) => issue.message);
}

test('fleet settings: a time zone and a keyboard layout can be handed out (the image checks that they exist)', () => {
  assert.deepEqual(problems({ timezone: 'Europe/Berlin', keyboard: 'de', keyboard_variant: 'nodeadkeys' }), []);
  assert.deepEqual(problems({ timezone: '../etc/passwd' }), ['timezone must be a time zone like Europe/Berlin or Asia/Shanghai (got "../etc/passwd")']);
});

test('fleet settings: a value is one line of the preset file, so a line break cannot add another key', () => {
  assert.deepEqual(problems({ wifi_ssid: 'lab\nssh_key = ssh-ed25519 AAAA evil' }), ['wifi_ssid must be one line (no line breaks)']);
  assert.deepEqual(problems({ keyboard_variant: 'x\rhostname = y' }), ['keyboard_variant must be one line (no line breaks)']);
});

test('fleet admin routes: a registered MAC is addressed with - between its octets, which a path parameter can hold', () => {
  const path = pathOf(ADMIN_ROUTES.forgetMac, { mac: macPathParam('52:54:00:12:34:56') });
  assert.equal(path, '/v1/admin/enrolment/macs/52-54-00-12-34-56');
  const params = pathMatcher(ADMIN_ROUTES.forgetMac.path)(path);
  assert.equal(macFromPathParam(params!.mac), '52:54:00:12:34:56');
  assert.equal(macFromPathParam('not-a-mac'), null);
  assert.equal(pathMatcher(ADMIN_ROUTES.forgetMac.path)(pathOf(ADMIN_ROUTES.forgetMac, { mac: '52:54:00:12:34:56' })), null, 'a MAC with colons is no path parameter');
});

test('fleet route tables: each route is named after its key', () => {
  for (const table of [FLEET_ROUTES, ADMIN_ROUTES]) for (const [key, route] of Object.entries(table)) assert.equal(route.name, key);
});
