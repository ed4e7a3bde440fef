import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { FLEET_SETTING_KEYS } from '../../contract/fleet.js';
import { presetProblem } from '../../contract/preset/keys.js';
import { ADMIN_PAGE_PATH } from '../../contract/routes.js';
import { adminPage, BUILT_ADMIN_PAGE } from '../../controller/admin-page/serve.js';
import type { SettingRules } from '../../controller/admin-page/setting-rules.js';

async function app(): Promise<ReturnType<typeof Fastify>> {
  const server = Fastify();
  await server.register(adminPage, {});
  return server;
}

test('admin page: /admin/ serves the built page with a strict CSP, never cached, never framed', async () => {
  const server = await app();
  const page = await server.inject({ url: ADMIN_PAGE_PATH });
  assert.equal(page.statusCode, 200);
  assert.match(page.headers['content-type'] as string, /^text\/html/);
  assert.match(page.body, /<script type="module" src="main.js">/);
  const csp = page.headers['content-security-policy'] as string;
  for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' blob:", "frame-ancestors 'none'", "form-action 'none'"]) assert.ok(csp.includes(directive), directive);
  assert.ok(!csp.includes('unsafe-inline'));
  assert.equal(page.headers['cache-control'], 'no-store');
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  const script = await server.inject({ url: `${ADMIN_PAGE_PATH}main.js` });
  assert.equal(script.statusCode, 200);
  assert.match(script.headers['content-type'] as string, /javascript/);
  assert.equal(script.headers['cache-control'], 'no-store');
  await server.close();
});

test('admin page: /admin redirects to /admin/; a file outside the page is not reachable', async () => {
  const server = await app();
  const bare = await server.inject({ url: '/admin' });
  assert.ok([301, 302, 308].includes(bare.statusCode));
  assert.equal(bare.headers.location, ADMIN_PAGE_PATH);
  for (const outside of ['../serve.js', '..%2f..%2fserve.js', '..%2f..%2f..%2fpackage.json']) {
    const answer = await server.inject({ url: `${ADMIN_PAGE_PATH}${outside}` });
    assert.ok([403, 404].includes(answer.statusCode), `${outside}: ${answer.statusCode}`);
  }
  assert.equal((await server.inject({ url: `${ADMIN_PAGE_PATH}nothing.js` })).statusCode, 404);
  await server.close();
});

test('admin page: the settings\' rules are the preset rules, one per fleet key, in their order', async () => {
  const server = await app();
  const answer = await server.inject({ url: `${ADMIN_PAGE_PATH}setting-rules.json` });
  assert.equal(answer.statusCode, 200);
  const rules = answer.json() as SettingRules;
  assert.deepEqual(rules.keys.map((rule) => rule.key), [...FLEET_SETTING_KEYS]);
  const pin = rules.keys.find((rule) => rule.key === 'admin_pin')!;
  assert.equal(pin.rule, presetProblem('admin_pin', 'x'), 'the same sentence a refused value gets');
  assert.equal(pin.secret, true);
  assert.equal(rules.keys.find((rule) => rule.key === 'timezone')!.appliesAt, 'next-boot');
  assert.equal(rules.keys.find((rule) => rule.key === 'language')!.appliesAt, 'at-once');
  await server.close();
});

test('admin page: loads nothing but its own files (no import leaves its folder, no inline script or style)', () => {
  for (const file of readdirSync(BUILT_ADMIN_PAGE).filter((name) => name.endsWith('.js'))) {
    const code = readFileSync(join(BUILT_ADMIN_PAGE, file), 'utf8');
    for (const [, from] of code.matchAll(/^import .* from '([^']+)';$/gm)) assert.match(from!, /^\.\/[\w-]+\.js$/, `${file} imports ${from}`);
    assert.ok(!/\.innerHTML\s*=|insertAdjacentHTML|outerHTML\s*=|document\.write/.test(code), `${file} writes HTML`);
    assert.ok(!/localStorage|sessionStorage|document\.cookie/.test(code), `${file} stores something in the browser`);
  }
  const html = readFileSync(join(BUILT_ADMIN_PAGE, 'index.html'), 'utf8');
  assert.ok(!/<script(?![^>]*\ssrc=)/.test(html), 'no inline script');
  assert.ok(!/<style|\sstyle=|\son[a-z]+=/.test(html), 'no inline style or handler');
});
