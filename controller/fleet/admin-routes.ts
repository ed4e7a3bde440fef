/**
 * The admin page's API over HTTP (ADMIN_ROUTES, and the last screenshot as image/png). Every route
 * first asks `authenticateAdmin` who calls: the controller's session check, refusing a person who is
 * not an administrator (403). The service writes each change to the audit log under that name.
 *
 *   await app.register(fleetAdminRoutes, { service, authenticateAdmin })
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { macFromPathParam } from '../../contract/fleet-admin.js';
import { ADMIN_ROUTES, KIOSK_SCREENSHOT_ROUTE } from '../../contract/routes.js';
import { ApiError } from '../core/api-error.js';
import { servedRoute, serveRoute } from '../http/route-table.js';
import type { AdminIdentity, FleetService } from './service.js';

export interface FleetAdminRoutesOptions {
  service: FleetService;
  /** Who calls, if an administrator; else throws an ApiError (401 without a session, 403 for anyone else). */
  authenticateAdmin: (request: FastifyRequest) => Promise<AdminIdentity>;
}

export async function fleetAdminRoutes(app: FastifyInstance, { service, authenticateAdmin }: FleetAdminRoutesOptions): Promise<void> {
  const R = ADMIN_ROUTES;
  const admin = { authenticate: authenticateAdmin };

  serveRoute(app, R.kiosks, admin, async () => ({ status: 200, body: await service.listKiosks() }));
  serveRoute(app, R.kiosk, admin, async ({ params }) => ({ status: 200, body: await service.kioskDetail(params.id) }));
  serveRoute(app, R.updateKiosk, admin, async ({ caller, params, body }) => ({ status: 200, body: await service.updateKiosk(caller, params.id, body) }));
  serveRoute(app, R.forgetKiosk, admin, async ({ caller, params }) => {
    await service.forgetKiosk(caller, params.id);
    return { status: 204 };
  });
  serveRoute(app, R.command, admin, async ({ caller, params, body }) => ({ status: 201, body: await service.issueCommand(caller, params.id, body.kind) }));
  serveRoute(app, R.layers, admin, async () => ({ status: 200, body: await service.layers() }));
  serveRoute(app, R.siteSettings, admin, async ({ caller, body }) => ({ status: 200, body: await service.changeSiteSettings(caller, body.settings) }));
  serveRoute(app, R.groupSettings, admin, async ({ caller, params, body }) => ({ status: 200, body: await service.changeGroupSettings(caller, params.name, body.settings) }));
  serveRoute(app, R.deleteGroup, admin, async ({ caller, params }) => {
    await service.deleteGroup(caller, params.name);
    return { status: 204 };
  });
  serveRoute(app, R.enrolments, admin, async () => ({ status: 200, body: await service.enrolments() }));
  serveRoute(app, R.newSiteToken, admin, async ({ caller, body }) => ({ status: 201, body: await service.makeSiteToken(caller, body.label) }));
  serveRoute(app, R.deleteSiteToken, admin, async ({ caller, params }) => {
    await service.deleteSiteToken(caller, params.id);
    return { status: 204 };
  });
  serveRoute(app, R.registerMac, admin, async ({ caller, body }) => ({ status: 200, body: await service.registerMac(caller, body) }));
  serveRoute(app, R.forgetMac, admin, async ({ caller, params }) => {
    const mac = macFromPathParam(params.mac);
    if (!mac) throw new ApiError('not-found', `No such API path: ${params.mac} is not a MAC address written like 52-54-00-12-34-56.`);
    await service.forgetMac(caller, mac);
    return { status: 204 };
  });
  serveRoute(app, R.audit, admin, async ({ request }) => {
    const limit = Number((request.query as { limit?: string }).limit ?? 100);
    return { status: 200, body: await service.auditLog(Number.isFinite(limit) ? limit : 100) };
  });

  // A picture, not JSON: outside serveRoute's JSON answers, but a route of the server all the same
  // (its path rule, its label in metrics, its errors answered by the server's handler).
  const callers = new WeakMap<FastifyRequest, AdminIdentity>();
  app.route({
    method: KIOSK_SCREENSHOT_ROUTE.method,
    url: KIOSK_SCREENSHOT_ROUTE.path,
    config: { served: servedRoute({ ...KIOSK_SCREENSHOT_ROUTE, name: 'kioskScreenshot', request: null }) },
    onRequest: async (request) => { callers.set(request, await authenticateAdmin(request)); },
    handler: async (request, reply) => {
      const { png, takenAt } = await service.screenshot((request.params as { id: string }).id);
      return reply.code(200).headers({ 'content-type': 'image/png', 'cache-control': 'no-store', 'last-modified': new Date(takenAt).toUTCString() }).send(png);
    },
  });
}
