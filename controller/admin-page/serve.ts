/**
 * Serves the fleet's admin page (controller/admin-page/page, built into
 * dist/www/controller/admin-page/page) at ADMIN_PAGE_PATH, and the settings' rules it shows
 * (setting-rules.ts). Every answer carries a strict Content-Security-Policy — the page's own
 * scripts and styles only, pictures from blob: (the screenshot it fetches with its token), no
 * frames around it — and is never cached: the page is a few small files, and a stale one after an
 * update would speak an older admin API.
 *
 * A fastify plugin without fastify-plugin on purpose: its headers stay on its own routes.
 * Register it with `app.register(adminPage, { root? })`; `/admin` redirects to `/admin/`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { ADMIN_PAGE_PATH } from '../../contract/routes.js';
import { SETTING_RULES_FILE, settingRules } from './setting-rules.js';

export interface AdminPageOptions {
  /** The built page's directory; by default the one `make build` writes next to this module's dist/. */
  root?: string;
}

/** Where `make build` puts the page, seen from dist/controller/admin-page/serve.js. */
export const BUILT_ADMIN_PAGE = fileURLToPath(new URL('../../www/controller/admin-page/page/', import.meta.url));

export const ADMIN_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' blob:", "connect-src 'self'",
    "object-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
  ].join('; '),
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

export async function adminPage(app: FastifyInstance, options: AdminPageOptions): Promise<void> {
  const root = options.root ?? BUILT_ADMIN_PAGE;
  if (!existsSync(join(root, 'index.html'))) throw new Error(`The admin page is not built (no index.html in ${root}): run make build.`);
  const rules = JSON.stringify(settingRules());

  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(ADMIN_PAGE_HEADERS);
  });
  app.get(ADMIN_PAGE_PATH.replace(/\/$/, ''), async (_request, reply) => reply.redirect(ADMIN_PAGE_PATH, 301));
  app.get(`${ADMIN_PAGE_PATH}${SETTING_RULES_FILE}`, async (_request, reply) => reply.type('application/json; charset=utf-8').send(rules));
  await app.register(fastifyStatic, {
    root, prefix: ADMIN_PAGE_PATH, decorateReply: false, index: ['index.html'], redirect: false,
    cacheControl: false, dotfiles: 'deny', list: false,
  });
}
