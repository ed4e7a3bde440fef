import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathMatcher, pathOf, ROUTES } from '../../contract/routes.js';

test('route table: each route is named after its key (the label in metrics and the log)', () => {
  for (const [key, route] of Object.entries(ROUTES)) assert.equal(route.name, key);
});

test('route table: pathOf fills parameters in, encoded so an id cannot add a path segment', () => {
  assert.equal(pathOf(ROUTES.desktops, {}), '/v1/desktops');
  assert.equal(pathOf(ROUTES.console, { id: 'lab' }), '/v1/desktops/lab/console');
  assert.equal(pathOf(ROUTES.desktop, { id: 'a/b c' }), '/v1/desktops/a%2Fb%20c');
});

test('route table: pathMatcher reads parameters back and refuses what the controller never hands out', () => {
  const console = pathMatcher(ROUTES.console.path);
  assert.deepEqual(console('/v1/desktops/lab-1_x/console'), { id: 'lab-1_x' });
  assert.deepEqual(pathMatcher(ROUTES.desktops.path)('/v1/desktops'), {});
  assert.equal(console('/v1/desktops/lab/console/more'), null);
  assert.equal(console('/v1/desktops/a.b/console'), null, 'a dot is not in an id');
  assert.equal(console(`/v1/desktops/${'x'.repeat(65)}/console`), null, 'an id is at most 64 characters');
  assert.ok(console(`/v1/desktops/${'x'.repeat(64)}/console`));
  assert.equal(pathMatcher(ROUTES.desktop.path)('/v1/desktops/'), null, 'an empty id is no id');
});
