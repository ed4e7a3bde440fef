/**
 * The controller's HTTP server: fastify over http, or https with `tls`, and what every API on it
 * shares — requests that must arrive whole within 10 s (headers) / 30 s, a JSON body of at most
 * 16 KiB read only by routes that take one, one error handler that turns an ApiError into
 * `{"error": {kind, message, ...}}` (with Retry-After) and anything else into a 500 that leaks
 * nothing, "no such path" and "wrong method" answers, request metrics and /metrics.
 * APIs add their routes with serveRoute (route-table.ts).
 */
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { fastify, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ErrorBody } from '../../contract/api.js';
import type { RouteAddress } from '../../contract/routes.js';
import { ApiError } from '../core/api-error.js';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
import { sendJson, servedRoute, type ServedRoute } from './route-table.js';

/** Where Prometheus scrapes; not part of the kiosk's contract, so not in its route table. */
export const METRICS_ROUTE = { method: 'GET', path: '/metrics' } as const satisfies RouteAddress;
const MAX_BODY_BYTES = 16 * 1024;

export interface HttpServerOptions {
  tls?: { certFile: string; keyFile: string };
  metrics: Metrics;
  logger: Logger;
}

export function createHttpServer({ tls, metrics, logger }: HttpServerOptions): FastifyInstance {
  const app = fastify({
    serverFactory: (handler) => nodeServer(tls, handler),
    // The controller logs its own events (login, request-failed...), one line each: no request log.
    logger: false,
    // Routes see the path as the WHATWG URL parser reads it ('/v1/x/../identity' is '/v1/identity').
    rewriteUrl: (req) => normalisedUrl(req.url),
    bodyLimit: MAX_BODY_BYTES,
    // HEAD is a method no route takes ("Method HEAD is not allowed here."), not GET without a body.
    exposeHeadRoutes: false,
    // While closing, requests on connections still open are answered, not refused with a 503;
    // idle keep-alive connections of kiosks are closed so they do not hold close() open.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // A path the router cannot even decode ('%zz') or an overlong parameter: no such API path.
    frameworkErrors: (_error, request, reply) => {
      reply.raw.once('finish', () => countRequest(request, reply));
      answerFailure(request, reply, unroutable(request));
    },
  });
  // A malformed or half-sent request is answered by Node itself (a bare 400 or 408, then the
  // connection closed), as before fastify: nothing of it reaches a route.
  app.server.removeAllListeners('clientError');

  /** Every route served, by whichever module: tells "wrong method" from "no such path". */
  const served: ServedRoute[] = [];
  app.addHook('onRoute', (route) => { if (route.config?.served) served.push(route.config.served); });

  const unroutable = (request: FastifyRequest): ApiError => {
    const pathname = pathnameOf(request);
    if (served.some((route) => route.matches(pathname))) return new ApiError('bad-request', `Method ${request.method} is not allowed here.`);
    return new ApiError('not-found', `No such API path: ${pathname}`);
  };

  const answerFailure = (request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply => {
    const apiError = asApiError(error);
    const status = apiError.status;
    logger.log(status >= 500 ? 'error' : 'warn', 'request-failed', { route: routeNameOf(request), method: request.method, path: pathnameOf(request), status, kind: apiError.kind, detail: apiError.logMessage });
    const body: ErrorBody = { error: { kind: apiError.kind, message: apiError.userMessage, ...apiError.extra } };
    return sendJson(reply, status, body, apiError.extra.retryAfterSeconds ? { 'retry-after': String(apiError.extra.retryAfterSeconds) } : {});
  };

  const countRequest = (request: FastifyRequest, reply: FastifyReply): void => {
    const labels = { route: routeNameOf(request), status: String(reply.statusCode) };
    metrics.requests.inc(labels);
    metrics.requestSeconds.observe(labels, reply.elapsedTime / 1000);
  };

  app.addHook('onRequest', async (request) => {
    // The router found a route, but is the path as sent that route's? ('/v1/desktops/%41' is not.)
    const route = request.routeOptions.config.served;
    if (route && !route.matches(pathnameOf(request))) throw unroutable(request);
    // A body is read as JSON whatever its Content-Type says (below); one that is not even a media
    // type ('json', '') would have fastify refuse the request (415) before any route is asked.
    if (request.headers['content-type'] !== undefined && request.mediaType === undefined) delete request.headers['content-type'];
  });
  app.addHook('onResponse', async (request, reply) => countRequest(request, reply));

  // Any content type (or none) is read as JSON, and only by a route that takes a body: a request
  // refused before (no session) or for a route without one leaves its body unread.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', async (request: FastifyRequest, payload: Readable) => {
    if (!request.routeOptions.config.served?.request) return undefined;
    return readJson(payload, request.routeOptions.bodyLimit);
  });

  app.setErrorHandler((error, request, reply) => answerFailure(request, reply, error));
  app.setNotFoundHandler(async (request) => { throw unroutable(request); });

  app.route({
    method: METRICS_ROUTE.method,
    url: METRICS_ROUTE.path,
    config: { served: servedRoute({ ...METRICS_ROUTE, name: 'metrics', request: null }) },
    handler: async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()),
  });
  return app;
}

function nodeServer(tls: HttpServerOptions['tls'], handler: http.RequestListener): http.Server {
  // A request (or a websocket upgrade) must arrive whole within a few seconds: half-sent requests
  // that hang (slowloris, a kiosk that vanished mid-request) must not pile up as open sockets.
  const timeouts = { headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 2_000 };
  const server = tls
    ? https.createServer({ ...timeouts, cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, handler)
    : http.createServer(timeouts, handler);
  server.keepAliveTimeout = 30_000;
  return server;
}

/** The request's path and query as the WHATWG URL parser reads them (dot segments resolved). */
function normalisedUrl(raw = '/'): string {
  const url = parsedUrl(raw);
  return url ? url.pathname + url.search : raw; // not even a URL: the router finds nothing, which is the answer
}

/** The path of a request's URL as routes see it; '' for one that is not even a URL ('//['). */
export function requestPath(raw = '/'): string {
  return parsedUrl(raw)?.pathname ?? '';
}

function parsedUrl(raw: string): URL | null {
  try {
    return new URL(raw, 'http://controller');
  } catch {
    return null;
  }
}

function pathnameOf(request: FastifyRequest): string {
  return request.url.split('?', 1)[0]!;
}

/** A route's label in metrics and the log; 'unknown' when no route took the request. */
function routeNameOf(request: FastifyRequest): string {
  const route = request.routeOptions.config.served;
  return route?.matches(pathnameOf(request)) ? route.name : 'unknown';
}

async function readJson(payload: Readable, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of payload) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new ApiError('bad-request', 'The request is too large.');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new ApiError('bad-request', 'The request is not valid JSON.');
  }
}

/** What the person at the kiosk reads: an ApiError's message; never an internal one's detail. */
function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const fastifyError = error as Partial<FastifyError>;
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    // fastify's own refusals, e.g. a Content-Type header that is not one.
    return new ApiError('bad-request', 'The request is not valid.', `${fastifyError.code ?? 'client error'}: ${fastifyError.message ?? ''}`);
  }
  return new ApiError('internal', 'Something went wrong in the controller. Please try again.', error instanceof Error ? (error.stack ?? error.message) : String(error));
}
