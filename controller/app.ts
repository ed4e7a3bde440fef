/** Wires configuration into a ready controller: used by main.ts, tests and benchmarks alike. */
import type http from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DesktopBackend } from './desktops/backend.js';
import type { ControllerConfig } from './core/config.js';
import { sessionKeyBytes } from './core/config.js';
import { StaticConsoleRelay } from './desktops/static/static-console-relay.js';
import { jsonLogger, type Logger } from './core/log.js';
import { Metrics } from './core/metrics.js';
import { OpenStackBackend } from './desktops/openstack/openstack-backend.js';
import { OpenStackHttp } from './desktops/openstack/http.js';
import { Reachability } from './desktops/static/reachability.js';
import { RelayTickets } from './desktops/static/relay-ticket.js';
import { adminPage } from './admin-page/serve.js';
import { ApiError } from './core/api-error.js';
import { FleetConfig } from './fleet/config.js';
import { fleetAdminRoutes } from './fleet/admin-routes.js';
import { fleetKioskRoutes } from './fleet/kiosk-routes.js';
import { FleetService, type AdminIdentity } from './fleet/service.js';
import { TrustedProxies } from './http/client-address.js';
import { createHttpServer } from './http/server.js';
import { kioskApi, type KioskApiOptions } from './kiosk-api/routes.js';
import { EndedSessions } from './sessions/ended-sessions.js';
import { SessionCheck } from './sessions/session-check.js';
import { SessionSealer } from './sessions/session-token.js';
import { StaticBackend } from './desktops/static/static-backend.js';
import { loadInventory } from './desktops/static/static-inventory.js';

export type ControllerDeps = KioskApiOptions & TestSeams;

/** What tests may replace in a built controller, and nothing else. */
export interface TestSeams {
  /** The fleet's "now" (a check-in stored as if it came minutes ago makes a kiosk late or offline). */
  fleetClock?: () => Date;
}

/**
 * The controller's HTTP server (https with config.tls) and the APIs on it: the kiosk API v1, and
 * with a fleet (fleetOptions) the fleet's kiosk side, its admin API and the admin page.
 */
export function createController(deps: ControllerDeps): FastifyInstance {
  const app = createHttpServer({ tls: deps.config.tls, metrics: deps.metrics, logger: deps.logger });
  app.register(kioskApi, deps);
  const fleet = fleetOptions(deps.config);
  if (fleet) app.register(fleetApis, { ...deps, fleet });
  return app;
}

/** The fleet's settings, or null when it is off ("fleet": false, or neither a fleet section nor stateDir). */
export function fleetOptions(config: ControllerConfig): FleetConfig | null {
  if (config.fleet === false) return null;
  if (config.fleet) return config.fleet;
  return config.stateDir ? FleetConfig.parse({}) : null;
}

/**
 * The fleet on this controller: its database opened (and migrated) when the server gets ready, its
 * routes, the admin page. Only a session whose person is a site administrator gets into the admin
 * API; kiosks check in with their own credential.
 */
async function fleetApis(app: FastifyInstance, deps: ControllerDeps & { fleet: FleetConfig }): Promise<void> {
  const { config, backend, sealer, endedSessions, metrics, logger } = deps;
  const service = await FleetService.open(deps.fleet, { stateDir: config.stateDir, logger, registry: metrics.registry, ...(deps.fleetClock ? { clock: deps.fleetClock } : {}) });
  app.addHook('onClose', async () => service.close());
  const sessions = new SessionCheck(sealer, endedSessions, (session) => backend.validate(session));
  const proxies = new TrustedProxies(config.trustedProxies);
  const authenticateAdmin = async (request: FastifyRequest): Promise<AdminIdentity> => {
    const session = await sessions.sessionOf(request.headers);
    if (!session.admin) throw new ApiError('forbidden', 'Only administrators can open the fleet page.', `${session.user.name} is not a site administrator`);
    return { user: session.user.name };
  };
  await app.register(fleetKioskRoutes, { service, clientAddress: (request) => proxies.clientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for']) });
  await app.register(fleetAdminRoutes, { service, authenticateAdmin });
  await app.register(adminPage, {});
}

export interface BuiltController {
  /** Serves once `await app.listen({ port, host })` (or answers `app.inject()` without a socket); `await app.close()` stops it. */
  app: FastifyInstance;
  /** The Node server under `app` (connections, addresses). */
  server: http.Server;
  metrics: Metrics;
  ephemeralKey: boolean;
  /** Whether logouts outlive this process (stateDir set). */
  sharedLogouts: boolean;
  /** Ends relayed console connections (static backend): call before app.close() at shutdown. */
  closeConsoles(): void;
}

/** Throws ConfigError (with the path of the mistake) for a broken static inventory. */
export function buildController(config: ControllerConfig, logger: Logger = jsonLogger, seams: TestSeams = {}): BuiltController {
  const metrics = new Metrics();
  const { keys, ephemeral } = sessionKeyBytes(config);
  let backend: DesktopBackend;
  let relay: StaticConsoleRelay | undefined;
  if (config.backend === 'openstack') {
    const http = new OpenStackHttp({
      timeoutMs: config.openstack.timeoutSeconds * 1000,
      caFile: config.openstack.caFile,
      observe: (service, seconds, outcome) => metrics.upstreamSeconds.observe({ service, outcome }, seconds),
    });
    backend = new OpenStackBackend(config.openstack, http, logger);
  } else {
    const tickets = new RelayTickets(keys, config.static.relayTicketSeconds);
    const reachability = new Reachability({
      probeTimeoutMs: config.static.probeTimeoutMs,
      probeIntervalMs: config.static.probeIntervalSeconds * 1000,
      onProbe: (protocol, outcome) => metrics.probes.inc({ protocol, state: outcome.state }),
      onChange: (protocol, target, outcome) => logger.log(outcome.state === 'up' ? 'info' : 'warn', 'desktop-server-state', {
        protocol, target: `${target.host}:${target.port}`, state: outcome.state, ...('reason' in outcome ? { reason: outcome.reason } : {}),
      }),
    });
    backend = new StaticBackend(loadInventory(config.static.inventoryFile), reachability, tickets, { siteName: config.name });
    const consoles = new StaticConsoleRelay(tickets, metrics, logger, reachability, { maxPerUser: config.static.relayMaxPerUser });
    metrics.gauge('thinkiosk_relay_open_connections', 'Console connections the relay holds open now.', () => consoles.openCount);
    relay = consoles;
  }
  const endedSessions = new EndedSessions(config.stateDir ?? null, logger);
  const app = createController({ config, backend, relay, sealer: new SessionSealer(keys), endedSessions, metrics, logger, ...seams });
  return { app, server: app.server, metrics, ephemeralKey: ephemeral, sharedLogouts: Boolean(config.stateDir), closeConsoles: () => relay?.closeAll() };
}
