/**
 * The kiosk-facing HTTP API (v1, JSON). Routing, body validation, sessions, the login guard,
 * metrics and the single error handler live here; desktop work is the backend's (OpenStack or a
 * static inventory, backend.ts). With a console relay, websocket upgrades on /v1/relay/ go to it.
 */
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import type { z } from 'zod';
import { PRODUCT, type ErrorBody, type Identity, type Session } from '../../contract/api.js';
import { pathMatcher, ROUTES, type ApiRoute, type HttpMethod, type PathParams, type ReplyBody, type RouteAddress, type ValidRequest } from '../../contract/routes.js';
import { ApiError } from '../core/api-error.js';
import type { ControllerConfig } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
import { LoginGuard } from './login-guard.js';
import type { DesktopBackend, RequestOrigin } from '../desktops/backend.js';
import { type StaticConsoleRelay, RELAY_PATH, refuse } from '../desktops/static/static-console-relay.js';
import { TrustedProxies } from '../http/client-address.js';
import type { EndedSessions } from '../sessions/ended-sessions.js';
import { newSessionId, sessionIdOf, SessionSealer, type SessionPayload } from '../sessions/session-token.js';

export const VERSION = '0.1.0';
const MAX_BODY_BYTES = 16 * 1024;
/** host, host:port, [v6]:port — anything else in a Host header is not echoed into a URL. */
const HOST_HEADER = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** Where Prometheus scrapes; not part of the kiosk's contract, so not in its route table. */
export const METRICS_ROUTE = { method: 'GET', path: '/metrics' } as const satisfies RouteAddress;

/** What a handler answers: a status with a JSON body, with none, or with plain text. */
interface Outcome { status: number; body?: unknown; text?: string }
/** A route as the server dispatches it: its method, its path compiled, its handler. */
interface RegisteredRoute {
  method: HttpMethod;
  /** The label in metrics and the log. */
  name: string;
  paramsOf(pathname: string): Record<string, string> | null;
  handle(req: http.IncomingMessage, params: Record<string, string>): Promise<Outcome>;
}

interface HandlerContext<Route extends ApiRoute> {
  req: http.IncomingMessage;
  params: PathParams<Route['path']>;
  /**
   * The request's body, checked against the route's schema. Read when the handler asks, so that a
   * request without a valid session is refused as such (401) before its body is judged (400).
   */
  readRequest(): Promise<ValidRequest<Route>>;
}
type RouteReply<Route extends ApiRoute> = Route['reply'] extends z.ZodType ? { status: number; body: ReplyBody<Route> } : { status: number };

/** Registers `handler` for one route of the contract's table, typed by that route's params, request and reply. */
function serve<Route extends ApiRoute>(route: Route, handler: (ctx: HandlerContext<Route>) => Promise<RouteReply<Route>>): RegisteredRoute {
  return {
    method: route.method,
    name: route.name,
    paramsOf: pathMatcher(route.path),
    handle: (req, params) => handler({
      req,
      params: params as PathParams<Route['path']>,
      readRequest: async () => (route.request ? readBody(req, route.request) : undefined) as ValidRequest<Route>,
    }),
  };
}

export interface ControllerDeps {
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

export function createController({ config, backend, relay, sealer, endedSessions, metrics, logger }: ControllerDeps): http.Server {
  const guard = new LoginGuard(config.loginGuard);
  const proxies = new TrustedProxies(config.trustedProxies);

  const bearer = (req: http.IncomingMessage): string => {
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!token) throw new ApiError('session-expired', 'Please log in.', 'no bearer token');
    return token;
  };
  /**
   * The session behind the request: sealed by us, not expired, not logged out (on any instance
   * sharing stateDir, before or after a restart), and its person still allowed upstream (Keystone
   * asked every sessionCheckSeconds). Keystone revokes the token at logout, but Nova's auth
   * middleware keeps accepting a token it validated recently, so the shim decides itself.
   */
  const session = async (req: http.IncomingMessage): Promise<SessionPayload> => {
    const token = bearer(req);
    const payload = sealer.open(token);
    if (!payload || endedSessions.isEnded(sessionIdOf(token, payload))) {
      throw new ApiError('session-expired', 'Your session has ended. Please log in again.', 'session token invalid, expired or logged out');
    }
    await backend.validate(payload);
    return payload;
  };

  const clientAddress = (req: http.IncomingMessage): string => proxies.clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for']);

  /** The address the kiosk used for this controller, so a relayed console is offered at the same one. */
  const origin = (req: http.IncomingMessage): RequestOrigin => {
    const forwardedProto = proxies.forwardedValue(req.socket.remoteAddress, req.headers['x-forwarded-proto']);
    const forwardedHost = proxies.forwardedValue(req.socket.remoteAddress, req.headers['x-forwarded-host']);
    const host = [forwardedHost, req.headers.host].find((h) => h && HOST_HEADER.test(h))
      ?? `${config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host}:${req.socket.localPort}`;
    return { secure: forwardedProto ? forwardedProto === 'https' : Boolean(config.tls), host };
  };

  const routes: RegisteredRoute[] = [
    serve(ROUTES.identity, async () => {
      const body: Identity = { product: PRODUCT, apiVersion: 1, version: VERSION, name: config.name, backend: config.backend };
      return { status: 200, body };
    }),
    serve(ROUTES.login, async ({ req, readRequest }) => {
      const request = await readRequest();
      const address = clientAddress(req);
      const admission = guard.begin(address, request.username);
      if (!admission.admitted) {
        const wait = admission.retryAfterSeconds;
        metrics.logins.inc({ result: 'locked' });
        throw new ApiError('too-many-attempts',
          admission.busy ? `Several logins for this name are being checked right now. Wait ${wait} seconds and try again.` : `Too many failed logins. Wait ${wait} seconds and try again.`,
          `login ${admission.busy ? 'held (attempts in flight)' : 'locked'} for ${request.username} from ${address}`, { retryAfterSeconds: wait });
      }
      let result;
      try {
        result = await backend.login(request);
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
      logger.log('info', 'login', { user: result.user.name, from: address, kiosk: String(req.headers['x-thinkiosk-client'] ?? 'unknown').slice(0, 120) });
      const expiresAt = Math.min(result.expiresAt.getTime(), Date.now() + config.sessionMaxSeconds * 1000);
      const body: Session = {
        token: sealer.seal({ v: 2, sid: newSessionId(), expiresAt, user: result.user, project: result.project, auth: result.auth }),
        expiresAt: new Date(expiresAt).toISOString(),
        user: result.user,
        project: result.project,
        admin: result.admin,
      };
      return { status: 201, body };
    }),
    serve(ROUTES.logout, async ({ req }) => {
      const token = bearer(req);
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
    }),
    serve(ROUTES.desktops, async ({ req }) => ({ status: 200, body: { desktops: await backend.listDesktops(await session(req)) } })),
    serve(ROUTES.desktop, async ({ req, params }) => ({ status: 200, body: await backend.getDesktop(await session(req), params.id) })),
    serve(ROUTES.power, async ({ req, params, readRequest }) => {
      const s = await session(req);
      const { action } = await readRequest();
      const result = await backend.power(s, params.id, action);
      return { status: result.outcome === 'accepted' ? 202 : 200, body: result };
    }),
    serve(ROUTES.console, async ({ req, params, readRequest }) => {
      const s = await session(req);
      const { protocol } = await readRequest();
      return { status: 200, body: await backend.console(s, params.id, protocol, origin(req)) };
    }),
    {
      method: METRICS_ROUTE.method, name: 'metrics', paramsOf: pathMatcher(METRICS_ROUTE.path),
      handle: async () => ({ status: 200, text: await metrics.render() }),
    },
  ];

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://controller');
    let routeName = 'unknown';
    let status = 500;
    try {
      const pathMatches = routes.flatMap((route) => {
        const params = route.paramsOf(url.pathname);
        return params ? [{ route, params }] : [];
      });
      const match = pathMatches.find(({ route }) => route.method === req.method);
      if (!match) {
        if (pathMatches.length) throw new ApiError('bad-request', `Method ${req.method} is not allowed here.`);
        throw new ApiError('not-found', `No such API path: ${url.pathname}`);
      }
      routeName = match.route.name;
      const result = await match.route.handle(req, match.params);
      status = result.status;
      if (result.text !== undefined) {
        res.writeHead(status, { 'Content-Type': metrics.contentType }).end(result.text);
      } else if (result.body === undefined) {
        res.writeHead(status).end();
      } else {
        sendJson(res, status, result.body);
      }
    } catch (error) {
      const apiError = error instanceof ApiError ? error : new ApiError('internal', 'Something went wrong in the controller. Please try again.', error instanceof Error ? (error.stack ?? error.message) : String(error));
      status = apiError.status;
      logger.log(status >= 500 ? 'error' : 'warn', 'request-failed', { route: routeName, method: req.method, path: url.pathname, status, kind: apiError.kind, detail: apiError.logMessage });
      const body: ErrorBody = { error: { kind: apiError.kind, message: apiError.userMessage, ...apiError.extra } };
      const headers: Record<string, string> = apiError.extra.retryAfterSeconds ? { 'Retry-After': String(apiError.extra.retryAfterSeconds) } : {};
      if (!res.headersSent) sendJson(res, status, body, headers);
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.requests.inc({ route: routeName, status: String(status) });
      metrics.requestSeconds.observe({ route: routeName, status: String(status) }, seconds);
    }
  };

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => { void handle(req, res); };
  // A request (or a websocket upgrade) must arrive whole within a few seconds: half-sent requests
  // that hang (slowloris, a kiosk that vanished mid-request) must not pile up as open sockets.
  const timeouts = { headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 2_000 };
  const server = config.tls
    ? https.createServer({ ...timeouts, cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) }, listener)
    : http.createServer(timeouts, listener);
  server.keepAliveTimeout = 30_000;
  if (relay) {
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const ticket = RELAY_PATH.exec(new URL(req.url ?? '/', 'http://controller').pathname)?.[1];
      if (ticket) relay.handleUpgrade(req, socket, head, ticket);
      else refuse(socket, new ApiError('not-found', 'There is no console here. Open the desktop again.', `websocket upgrade refused for ${req.url}`), logger);
    });
  }
  return server;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function readBody<T>(req: http.IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError('bad-request', 'The request is too large.');
    chunks.push(chunk as Buffer);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new ApiError('bad-request', 'The request is not valid JSON.');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ApiError('bad-request', `The request is incomplete or wrong: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
