/**
 * The kiosk-facing API, v1 (JSON): who this controller is, login and logout, the person's desktops,
 * their power and their consoles — the routes of contract/routes.ts, as a fastify plugin on the
 * controller's HTTP server (http/). Desktop work is the backend's (OpenStack or a static
 * inventory, desktops/); with a console relay (static backend), websocket upgrades on
 * /v1/relay/<ticket> go to it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PRODUCT, type Identity, type Session } from '../../contract/api.js';
import { ROUTES } from '../../contract/routes.js';
import { ApiError } from '../core/api-error.js';
import type { ControllerConfig } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
import type { DesktopBackend, RequestOrigin } from '../desktops/backend.js';
import { type StaticConsoleRelay, RELAY_PATH, refuse } from '../desktops/static/static-console-relay.js';
import { TrustedProxies } from '../http/client-address.js';
import { serveRoute } from '../http/route-table.js';
import { requestPath } from '../http/server.js';
import type { EndedSessions } from '../sessions/ended-sessions.js';
import { SessionCheck } from '../sessions/session-check.js';
import { newSessionId, sessionIdOf, type SessionSealer } from '../sessions/session-token.js';
import { LoginGuard } from './login-guard.js';

export const VERSION = '0.1.0';
/** host, host:port, [v6]:port — anything else in a Host header is not echoed into a URL. */
const HOST_HEADER = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

export interface KioskApiOptions {
  config: ControllerConfig;
  backend: DesktopBackend;
  /** Relays VNC/SPICE websockets to desktops (static backend); without it upgrades are refused. */
  relay?: StaticConsoleRelay;
  sealer: SessionSealer;
  /** Logouts, shared by every instance with the same stateDir and kept across restarts. */
  endedSessions: EndedSessions;
  metrics: Metrics;
  logger: Logger;
}

export async function kioskApi(app: FastifyInstance, { config, backend, relay, sealer, endedSessions, metrics, logger }: KioskApiOptions): Promise<void> {
  const guard = new LoginGuard(config.loginGuard);
  const proxies = new TrustedProxies(config.trustedProxies);
  const sessions = new SessionCheck(sealer, endedSessions, (session) => backend.validate(session));
  /** For the routes that act for a person: a request without a good session is refused (401) before its body is read. */
  const signedIn = { authenticate: (request: FastifyRequest) => sessions.sessionOf(request.headers) };

  const clientAddress = (request: FastifyRequest): string => proxies.clientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for']);

  /** The address the kiosk used for this controller, so a relayed console is offered at the same one. */
  const origin = (request: FastifyRequest): RequestOrigin => {
    const peer = request.socket.remoteAddress;
    const forwardedProto = proxies.forwardedValue(peer, request.headers['x-forwarded-proto']);
    const forwardedHost = proxies.forwardedValue(peer, request.headers['x-forwarded-host']);
    const host = [forwardedHost, request.headers.host].find((h) => h && HOST_HEADER.test(h))
      ?? `${config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host}:${request.socket.localPort}`;
    return { secure: forwardedProto ? forwardedProto === 'https' : Boolean(config.tls), host };
  };

  serveRoute(app, ROUTES.identity, {}, async () => {
    const body: Identity = { product: PRODUCT, apiVersion: 1, version: VERSION, name: config.name, backend: config.backend };
    return { status: 200, body };
  });

  serveRoute(app, ROUTES.login, {}, async ({ request, body: login }) => {
    const address = clientAddress(request);
    const admission = guard.begin(address, login.username);
    if (!admission.admitted) {
      const wait = admission.retryAfterSeconds;
      metrics.logins.inc({ result: 'locked' });
      throw new ApiError('too-many-attempts',
        admission.busy ? `Several logins for this name are being checked right now. Wait ${wait} seconds and try again.` : `Too many failed logins. Wait ${wait} seconds and try again.`,
        `login ${admission.busy ? 'held (attempts in flight)' : 'locked'} for ${login.username} from ${address}`, { retryAfterSeconds: wait });
    }
    let result;
    try {
      result = await backend.login(login);
    } catch (error) {
      const invalid = error instanceof ApiError && error.kind === 'invalid-credentials';
      if (invalid) admission.attempt.failed();
      else admission.attempt.abandoned();
      metrics.logins.inc({ result: invalid ? 'invalid' : 'error' });
      throw error;
    }
    admission.attempt.succeeded();
    metrics.logins.inc({ result: 'ok' });
    // Which kiosk this is (e.g. "netboot from 10.0.0.2"), for the admin reading the log.
    logger.log('info', 'login', { user: result.user.name, from: address, kiosk: String(request.headers['x-thinkiosk-client'] ?? 'unknown').slice(0, 120) });
    const expiresAt = Math.min(result.expiresAt.getTime(), Date.now() + config.sessionMaxSeconds * 1000);
    const body: Session = {
      token: sealer.seal({ v: 2, sid: newSessionId(), expiresAt, user: result.user, project: result.project, auth: result.auth, admin: result.admin }),
      expiresAt: new Date(expiresAt).toISOString(),
      user: result.user,
      project: result.project,
      admin: result.admin,
    };
    return { status: 201, body };
  });

  serveRoute(app, ROUTES.logout, {}, async ({ request }) => {
    const token = sessions.tokenOf(request.headers);
    const payload = sealer.open(token);
    if (payload) {
      // Refused everywhere first; then Keystone is told (its failure no longer matters to the session).
      try {
        endedSessions.end(sessionIdOf(token, payload), payload.expiresAt);
      } catch (error) {
        logger.log('error', 'logout-not-shared', { user: payload.user.name, error: String(error), advice: 'check stateDir: this instance refuses the session, others may not' });
      }
      await backend.logout(payload);
    }
    return { status: 204 };
  });

  serveRoute(app, ROUTES.desktops, signedIn, async ({ caller }) => ({ status: 200, body: { desktops: await backend.listDesktops(caller) } }));

  serveRoute(app, ROUTES.desktop, signedIn, async ({ caller, params }) => ({ status: 200, body: await backend.getDesktop(caller, params.id) }));

  serveRoute(app, ROUTES.power, signedIn, async ({ caller, params, body }) => {
    const result = await backend.power(caller, params.id, body.action);
    return { status: result.outcome === 'accepted' ? 202 : 200, body: result };
  });

  serveRoute(app, ROUTES.console, signedIn, async ({ request, caller, params, body }) => ({
    status: 200, body: await backend.console(caller, params.id, body.protocol, origin(request)),
  }));

  if (relay) {
    // Upgrades never reach fastify's routes: the Node server hands them over here.
    app.server.on('upgrade', (req, socket, head) => {
      const ticket = RELAY_PATH.exec(requestPath(req.url))?.[1];
      if (ticket) relay.handleUpgrade(req, socket, head, ticket);
      else refuse(socket, new ApiError('not-found', 'There is no console here. Open the desktop again.', `websocket upgrade refused for ${req.url}`), logger);
    });
  }
}
