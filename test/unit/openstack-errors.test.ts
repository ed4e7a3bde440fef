import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kindForStatus, OpenStackError, serviceMessageOf } from '../../controller/desktops/openstack/errors.js';
import { ApiError } from '../../controller/core/api-error.js';
import { fromOpenStack } from '../../controller/desktops/openstack/failures.js';
import { explainConflict } from '../../controller/desktops/openstack/openstack-backend.js';
import { fixture } from './fixtures.js';

test('error bodies: each service\'s recorded error yields its own message', () => {
  assert.equal(serviceMessageOf(fixture('keystone-401.json')), 'The request you have made requires authentication.');
  assert.match(serviceMessageOf(fixture('nova-404.json')), /^Instance 0{8}-.* could not be found\.$/);
  assert.match(serviceMessageOf(fixture('neutron-404.json')), /^Floating IP .* could not be found$/);
  assert.match(serviceMessageOf(fixture('glance-404.txt')), /No image found with ID/);
  assert.equal(serviceMessageOf(''), '(empty body)');
});

test('error kinds: statuses map to what a kiosk user can act on', () => {
  assert.deepEqual([400, 401, 403, 404, 409, 412, 500, 502, 503, 504].map(kindForStatus),
    ['bad-request', 'unauthorized', 'forbidden', 'not-found', 'conflict', 'precondition-failed', 'server-error', 'unavailable', 'unavailable', 'unavailable']);
  const down = fromOpenStack(new OpenStackError('nova', 'unavailable', 0, 'ECONNREFUSED'), 'listing your desktops');
  assert.equal(down.status, 503);
  assert.match(down.userMessage, /compute service \(Nova\) is not answering/);
  assert.doesNotMatch(down.userMessage, /ECONNREFUSED/, 'no technical detail on screen');
  assert.equal(fromOpenStack(new OpenStackError('keystone', 'unauthorized', 401, 'x'), 'x').kind, 'session-expired');
  assert.equal(fromOpenStack(new Error('boom'), 'x').status, 500);
});

const says = (pattern: RegExp) => (e: unknown) => e instanceof ApiError && pattern.test(e.userMessage);

test('power conflicts: Nova\'s 409 "already active" becomes a calm "unchanged"', () => {
  const conflict = (msg: string) => new OpenStackError('nova', 'conflict', 409, msg);
  const recorded = serviceMessageOf(fixture('nova-409-start-active.json'));
  assert.deepEqual(explainConflict(conflict(recorded), 'pc1', 'start'), { outcome: 'unchanged', message: 'pc1 is already running.' });
  assert.equal(explainConflict(conflict("Cannot 'stop' instance x while it is in vm_state stopped"), 'pc1', 'stop').outcome, 'unchanged');
  assert.throws(() => explainConflict(conflict("Cannot 'reboot' instance x while it is in vm_state stopped"), 'pc1', 'reboot'), says(/shut off\. Start it instead/));
  assert.throws(() => explainConflict(conflict("Cannot 'stop' instance x while it is in task_state powering-off"), 'pc1', 'stop'), says(/busy \(powering-off\)/));
  assert.throws(() => explainConflict(new OpenStackError('nova', 'unavailable', 0, 'x'), 'pc1', 'stop'), says(/not answering/));
  const notReady = conflict(serviceMessageOf(fixture('nova-409-error-not-ready.json')));
  assert.throws(() => explainConflict(notReady, 'pc1', 'start', 'ERROR'), says(/pc1 is in an error state and cannot start\. Ask your administrator\./));
});
