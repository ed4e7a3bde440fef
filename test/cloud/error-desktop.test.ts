import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Desktop } from '../../contract/api.js';
import { ROUTES } from '../../contract/routes.js';
import { cloud, keystoneToken, startController } from './harness.js';

const NOVA = 'http://127.0.0.1:8774/v2.1';
const ctl = await startController();
const alice = await ctl.login('alice');
const direct = await keystoneToken('alice', 'alicepass');

// A desktop that failed to build: booted by alice with a flavor the libvirt host cannot fit (the
// fake driver reports near-endless memory, so the real host is the one that can say no).
const created = await fetch(`${NOVA}/servers`, {
  // "networks": "none" needs microversion 2.37 or later.
  method: 'POST', headers: { 'X-Auth-Token': direct, 'Content-Type': 'application/json', 'OpenStack-API-Version': 'compute 2.83' },
  body: JSON.stringify({ server: { name: 'alice-broken', imageRef: cloud.images.linux, flavorRef: '43', availability_zone: 'kvm', networks: 'none' } }),
});
const createdBody = await created.text();
assert.equal(created.status, 202, `Nova accepted the boot: ${createdBody}`);
const brokenId = (JSON.parse(createdBody) as { server: { id: string } }).server.id;
after(async () => {
  await fetch(`${NOVA}/servers/${brokenId}`, { method: 'DELETE', headers: { 'X-Auth-Token': direct } });
  await ctl.close();
});

async function waitForError(): Promise<Desktop> {
  for (let i = 0; i < 120; i++) {
    const answer = await ctl.call(ROUTES.desktop, { params: { id: brokenId }, token: alice });
    if (answer.body?.status === 'ERROR') return Desktop.parse(answer.body);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('the server never went to ERROR');
}

test('[nova] a desktop in ERROR: listed with its fault, no console, power actions explained', async () => {
  const desktop = await waitForError();
  assert.match(desktop.fault ?? '', /No valid host was found/);
  const console = await ctl.call(ROUTES.console, { params: { id: brokenId }, token: alice, body: { protocol: 'vnc' } });
  assert.equal(console.status, 409);
  assert.equal(console.body.error.kind, 'not-ready');
  assert.match(console.body.error.message, /alice-broken is in an error state \(No valid host was found.*\)\. Ask your administrator\./);
  const start = await ctl.call(ROUTES.power, { params: { id: brokenId }, token: alice, body: { action: 'start' } });
  assert.equal(start.status, 409);
  assert.match(start.body.error.message, /alice-broken is in an error state and cannot start\. Ask your administrator\./);
});
