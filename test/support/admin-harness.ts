/**
 * A controller-like server for the admin page's tests, until the controller itself serves the
 * fleet: fastify on 127.0.0.1 with the fleet's own plugins (FLEET_ROUTES for kiosks, ADMIN_ROUTES
 * for the page) over a FleetService on a temporary SQLite file, the admin page (adminPage), and
 * simulated kiosks that enrol and check in over real HTTP.
 *
 * STAND-IN: sign-in and the admin check here (`StandInSessions`: POST/DELETE /v1/session, GET
 * /v1/identity and `authenticateAdmin`) replace the controller's session check — a few users in
 * memory, random tokens. The integrator registers the same fleet and page plugins in the real
 * controller with its sealed sessions and `Session.admin`; nothing else here changes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { LoginRequest, PRODUCT, type Identity, type Session } from '../../contract/api.js';
import { ROUTES } from '../../contract/routes.js';
import { ApiError } from '../../controller/core/api-error.js';
import { adminPage } from '../../controller/admin-page/serve.js';
import { fleetAdminRoutes } from '../../controller/fleet/admin-routes.js';
import { FleetConfig } from '../../controller/fleet/config.js';
import { serveRoute } from '../../controller/http/route-table.js';
import { fleetKioskRoutes } from '../../controller/fleet/kiosk-routes.js';
import { FleetService, type AdminIdentity } from '../../controller/fleet/service.js';
import { SimulatedKiosk, type SimulatedKioskOptions } from './simulated-kiosk.js';

export interface StandInUser {
  password: string;
  admin: boolean;
}

/**
 * STAND-IN for the controller's sessions: who may sign in, and whether they are administrators.
 * Tokens are random and kept in memory; `endAll` is a controller that no longer accepts them.
 */
export class StandInSessions {
  private readonly tokens = new Map<string, { user: string; admin: boolean }>();

  constructor(private readonly users: Record<string, StandInUser>) {}

  signIn(request: LoginRequest): Session {
    const user = this.users[request.username];
    if (!user || user.password !== request.password) throw new ApiError('invalid-credentials', 'Wrong user name or password.');
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, { user: request.username, admin: user.admin });
    return {
      token, expiresAt: new Date(Date.now() + 8 * 3600_000).toISOString(), admin: user.admin,
      user: { id: `stand-in-${request.username}`, name: request.username }, project: { id: 'stand-in', name: 'fleet' },
    };
  }

  signOut(request: FastifyRequest): void {
    this.tokens.delete(bearer(request) ?? '');
  }

  /** What the fleet's admin routes ask of every request: 401 without a session, 403 for a non-administrator. */
  authenticateAdmin = async (request: FastifyRequest): Promise<AdminIdentity> => {
    const session = this.tokens.get(bearer(request) ?? '');
    if (!session) throw new ApiError('session-expired', 'Your session has ended. Please log in again.');
    if (!session.admin) throw new ApiError('forbidden', `${session.user} is not a site administrator of this controller: only administrators may see and steer the fleet.`);
    return { user: session.user };
  };

  /** Every session ends (the controller restarted with new session keys, or they expired). */
  endAll(): void {
    this.tokens.clear();
  }
}

function bearer(request: FastifyRequest): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
}

export interface AdminHarnessOptions {
  /** One of the admin page tests' ports, 16340-16349. */
  port: number;
  users: Record<string, StandInUser>;
  kiosks: SimulatedKioskOptions[];
  /** Check-in interval: online, late and offline follow from it. */
  checkInSeconds?: number;
}

export interface AdminHarness {
  url: string;
  pageUrl: string;
  service: FleetService;
  sessions: StandInSessions;
  kiosks: SimulatedKiosk[];
  /** Another simulated kiosk at this controller (not enrolled yet). */
  kiosk(options: SimulatedKioskOptions): SimulatedKiosk;
  /** The controller stops answering (its port closes), as when it is down or the network is. */
  stopServing(): Promise<void>;
  /** Runs `action` as if it happened `seconds` ago for the controller (a check-in that old). */
  backdated<T>(seconds: number, action: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The fleet's setup for the harness itself (its site token), as the audit log names it. */
export const HARNESS_ADMIN: AdminIdentity = { user: 'harness-setup' };

export async function startAdminHarness(options: AdminHarnessOptions): Promise<AdminHarness> {
  const work = mkdtempSync(path.join(tmpdir(), 'thinkiosk-admin-page-'));
  let offsetMs = 0;
  const config = FleetConfig.parse({ database: `sqlite:${path.join(work, 'fleet.sqlite')}`, checkInSeconds: options.checkInSeconds ?? 60 });
  const service = await FleetService.open(config, { clock: () => new Date(Date.now() - offsetMs) });
  const sessions = new StandInSessions(options.users);
  const app: FastifyInstance = Fastify({ logger: false });
  await app.register(fleetKioskRoutes, { service });
  await app.register(fleetAdminRoutes, { service, authenticateAdmin: sessions.authenticateAdmin });
  await app.register(standInSessionRoutes, { sessions });
  await app.register(adminPage, {});
  await app.listen({ host: '127.0.0.1', port: options.port });
  const url = `http://127.0.0.1:${options.port}`;
  let serving = true;
  const stopServing = async (): Promise<void> => {
    if (!serving) return;
    serving = false;
    await app.close();
  };

  const token = await service.makeSiteToken(HARNESS_ADMIN, 'test fleet');
  const kiosks = options.kiosks.map((k) => new SimulatedKiosk(url, k));
  for (const kiosk of kiosks) await kiosk.enrol(token.token);

  return {
    url, pageUrl: `${url}/admin/`, service, sessions, kiosks,
    kiosk: (k) => new SimulatedKiosk(url, k),
    stopServing,
    async backdated(seconds, action) {
      offsetMs = seconds * 1000;
      try {
        return await action();
      } finally {
        offsetMs = 0;
      }
    },
    async close() {
      await stopServing();
      await service.close();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** STAND-IN: the controller's identity and session routes, answering as the controller does. */
async function standInSessionRoutes(app: FastifyInstance, { sessions }: { sessions: StandInSessions }): Promise<void> {
  serveRoute(app, ROUTES.login, {}, async ({ body }) => ({ status: 201, body: sessions.signIn(body) }));
  serveRoute(app, ROUTES.logout, {}, async ({ request }) => {
    sessions.signOut(request);
    return { status: 204 };
  });
  const identity: Identity = { product: PRODUCT, apiVersion: 1, version: '0.1.0', name: 'Lab 3 controller (test)', backend: 'static' };
  serveRoute(app, ROUTES.identity, {}, async () => ({ status: 200, body: identity }));
}
