/**
 * The fleet's kiosk side over HTTP (FLEET_ROUTES): enrolment is open (the service decides by site
 * token or registered MAC); check-in and screenshots carry the kiosk's own credential,
 * `Authorization: Bearer <kioskId>.<secret>`, never a person's session. Served with the
 * controller's serveRoute, so errors, metrics and "no such path" are the server's (http/).
 *
 *   await app.register(fleetKioskRoutes, { service, clientAddress })
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FLEET_ROUTES } from '../../contract/routes.js';
import { serveRoute } from '../http/route-table.js';
import type { FleetService, KioskIdentity } from './service.js';

export interface FleetKioskRoutesOptions {
  service: FleetService;
  /** The client's address for the log and audit (the controller's trusted-proxy rule); default: the socket's peer. */
  clientAddress?: (request: FastifyRequest) => string;
}

/** Enrolments and check-ins are small (an inventory, a few repairs); only a screenshot is big. */
const BODY_LIMIT = 256 * 1024;

export async function fleetKioskRoutes(app: FastifyInstance, { service, clientAddress = (request) => request.socket.remoteAddress ?? 'unknown' }: FleetKioskRoutesOptions): Promise<void> {
  const kiosk = (request: FastifyRequest): Promise<KioskIdentity> => service.authenticateKiosk(/^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1]);

  serveRoute(app, FLEET_ROUTES.enrol, { bodyLimit: BODY_LIMIT }, async ({ request, body }) => ({ status: 201, body: await service.enrol(body, clientAddress(request)) }));

  const checkInKiosk = (request: FastifyRequest) => kiosk(request).catch((error: unknown) => { service.countCheckIn('refused'); throw error; });
  serveRoute(app, FLEET_ROUTES.checkIn, { authenticate: checkInKiosk, bodyLimit: BODY_LIMIT }, async ({ caller, body }) => ({ status: 200, body: await service.checkIn(caller, body) }));
  // A check-in whose body was refused (400) never reached the service: counted here.
  app.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.config.served?.name === FLEET_ROUTES.checkIn.name && reply.statusCode === 400) service.countCheckIn('invalid');
  });

  // base64 carries 3 bytes in 4 characters; the rest of the body is a command id.
  const screenshotLimit = Math.ceil(service.config.screenshotMaxBytes / 3) * 4 + 1024;
  serveRoute(app, FLEET_ROUTES.screenshot, { authenticate: kiosk, bodyLimit: screenshotLimit }, async ({ caller, body }) => {
    await service.storeScreenshot(caller, body);
    return { status: 204 };
  });
}
