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
import { ApiError } from '../api-error.js';
import { answerAsController, routeParams, serveRoute } from './http.js';
import type { AdminIdentity, FleetService } from './service.js';

export interface FleetAdminRoutesOptions {
  service: FleetService;
  /** Who calls, if an administrator; else throws an ApiError (401 without a session, 403 for anyone else). */
  authenticateAdmin: (request: FastifyRequest) => Promise<AdminIdentity>;
}

export async function fleetAdminRoutes(app: FastifyInstance, { service, authenticateAdmin }: FleetAdminRoutesOptions): Promise<void> {
  answerAsController(app);
  const R = ADMIN_ROUTES;

  serveRoute(app, R.kiosks, async ({ request }) => {
    await authenticateAdmin(request);
    return { status: 200, body: await service.listKiosks() };
  });
  serveRoute(app, R.kiosk, async ({ request, params }) => {
    await authenticateAdmin(request);
    return { status: 200, body: await service.kioskDetail(params.id) };
  });
  serveRoute(app, R.updateKiosk, async ({ request, params, body }) => {
    const admin = await authenticateAdmin(request);
    return { status: 200, body: await service.updateKiosk(admin, params.id, body()) };
  });
  serveRoute(app, R.forgetKiosk, async ({ request, params }) => {
    await service.forgetKiosk(await authenticateAdmin(request), params.id);
    return { status: 204 };
  });
  serveRoute(app, R.command, async ({ request, params, body }) => {
    const admin = await authenticateAdmin(request);
    return { status: 201, body: await service.issueCommand(admin, params.id, body().kind) };
  });
  serveRoute(app, R.layers, async ({ request }) => {
    await authenticateAdmin(request);
    return { status: 200, body: await service.layers() };
  });
  serveRoute(app, R.siteSettings, async ({ request, body }) => {
    const admin = await authenticateAdmin(request);
    return { status: 200, body: await service.changeSiteSettings(admin, body().settings) };
  });
  serveRoute(app, R.groupSettings, async ({ request, params, body }) => {
    const admin = await authenticateAdmin(request);
    return { status: 200, body: await service.changeGroupSettings(admin, params.name, body().settings) };
  });
  serveRoute(app, R.deleteGroup, async ({ request, params }) => {
    await service.deleteGroup(await authenticateAdmin(request), params.name);
    return { status: 204 };
  });
  serveRoute(app, R.enrolments, async ({ request }) => {
    await authenticateAdmin(request);
    return { status: 200, body: await service.enrolments() };
  });
  serveRoute(app, R.newSiteToken, async ({ request, body }) => {
    const admin = await authenticateAdmin(request);
    return { status: 201, body: await service.makeSiteToken(admin, body().label) };
  });
  serveRoute(app, R.deleteSiteToken, async ({ request, params }) => {
    await service.deleteSiteToken(await authenticateAdmin(request), params.id);
    return { status: 204 };
  });
  serveRoute(app, R.registerMac, async ({ request, body }) => {
    const admin = await authenticateAdmin(request);
    return { status: 200, body: await service.registerMac(admin, body()) };
  });
  serveRoute(app, R.forgetMac, async ({ request, params }) => {
    const admin = await authenticateAdmin(request);
    const mac = macFromPathParam(params.mac);
    if (!mac) throw new ApiError('not-found', `No such API path: ${params.mac} is not a MAC address written like 52-54-00-12-34-56.`);
    await service.forgetMac(admin, mac);
    return { status: 204 };
  });
  serveRoute(app, R.audit, async ({ request }) => {
    await authenticateAdmin(request);
    const limit = Number((request.query as { limit?: string }).limit ?? 100);
    return { status: 200, body: await service.auditLog(Number.isFinite(limit) ? limit : 100) };
  });

  const screenshotParams = routeParams(KIOSK_SCREENSHOT_ROUTE);
  app.route({
    method: KIOSK_SCREENSHOT_ROUTE.method,
    url: KIOSK_SCREENSHOT_ROUTE.path,
    handler: async (request, reply) => {
      await authenticateAdmin(request);
      const { png, takenAt } = await service.screenshot(screenshotParams(request).id);
      return reply.code(200).headers({ 'Content-Type': 'image/png', 'Cache-Control': 'no-store', 'Last-Modified': new Date(takenAt).toUTCString() }).send(png);
    },
  });
}
