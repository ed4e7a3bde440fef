/**
 * The fleet's kiosk side over HTTP (FLEET_ROUTES): enrolment is open (the service decides by site
 * token or registered MAC); check-in and screenshots carry the kiosk's own credential,
 * `Authorization: Bearer <kioskId>.<secret>`, never a person's session.
 *
 *   await app.register(fleetKioskRoutes, { service, clientAddress })
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FLEET_ROUTES } from '../../contract/routes.js';
import { answerAsController, serveRoute } from './http.js';
import type { FleetService } from './service.js';

export interface FleetKioskRoutesOptions {
  service: FleetService;
  /** The client's address for the log and audit (the controller's trusted-proxy rule); default: the socket's peer. */
  clientAddress?: (request: FastifyRequest) => string;
}

/** Enrolments and check-ins are small; only a screenshot is big. */
const BODY_LIMIT = 256 * 1024;

export async function fleetKioskRoutes(app: FastifyInstance, { service, clientAddress = (request) => request.socket.remoteAddress ?? 'unknown' }: FleetKioskRoutesOptions): Promise<void> {
  answerAsController(app);
  const kiosk = (request: FastifyRequest) => service.authenticateKiosk(/^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1]);

  serveRoute(app, FLEET_ROUTES.enrol, async ({ request, body }) => ({ status: 201, body: await service.enrol(body(), clientAddress(request)) }), { bodyLimit: BODY_LIMIT });

  serveRoute(app, FLEET_ROUTES.checkIn, async ({ request, body }) => {
    const caller = await kiosk(request).catch((error: unknown) => { service.countCheckIn('refused'); throw error; });
    let checkIn;
    try {
      checkIn = body();
    } catch (error) {
      service.countCheckIn('invalid');
      throw error;
    }
    return { status: 200, body: await service.checkIn(caller, checkIn) };
  }, { bodyLimit: BODY_LIMIT });

  // base64 carries 3 bytes in 4 characters; the rest of the body is a command id.
  const screenshotLimit = Math.ceil(service.config.screenshotMaxBytes / 3) * 4 + 1024;
  serveRoute(app, FLEET_ROUTES.screenshot, async ({ request, body }) => {
    const caller = await kiosk(request);
    await service.storeScreenshot(caller, body());
    return { status: 204 };
  }, { bodyLimit: screenshotLimit });
}
