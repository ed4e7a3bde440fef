/**
 * Routes from a table of the contract (contract/routes.ts for the kiosk API; the fleet's and the
 * admin page's tables, controller/fleet/), served on the controller's fastify instance all the same way: the
 * handler typed by its route's path parameters, request and reply; who is asking established
 * before the body is read; the body checked against the route's zod schema; the answer JSON that
 * no cache keeps; every failure answered by the server's one error handler (server.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { pathMatcher, type ApiRoute, type HttpMethod, type PathParams, type ReplyBody, type RouteAddress, type ValidRequest } from '../../contract/routes.js';
import { ApiError } from '../core/api-error.js';

/** What the server knows of each route it serves, whoever registered it. */
export interface ServedRoute {
  method: HttpMethod;
  /** The route's label in metrics and the log. */
  name: string;
  /** The JSON body the route takes, or null: a route without one never reads a body. */
  request: z.ZodType | null;
  /**
   * Whether a request's path (as sent, not decoded) is this route's: a parameter is an id as the
   * contract has them ([\w-]{1,64}); any other path is "No such API path".
   */
  matches(pathname: string): boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Every route of the controller's own carries this; fastify's not-found route does not. */
    served?: ServedRoute;
  }
}

export function servedRoute(route: RouteAddress & { name: string; request: z.ZodType | null }): ServedRoute {
  const paramsOf = pathMatcher(route.path);
  return { method: route.method, name: route.name, request: route.request, matches: (pathname) => paramsOf(pathname) !== null };
}

/** What a handler is given. */
export interface RouteCall<Route extends ApiRoute, Caller> {
  request: FastifyRequest;
  params: PathParams<Route['path']>;
  /** The request's body, checked against the route's schema (undefined for a route that takes none). */
  body: ValidRequest<Route>;
  /** Who is asking, as the route's `authenticate` found (undefined without one). */
  caller: Caller;
}

/** What a handler answers: a status, with the route's reply body when it has one. */
export type RouteReply<Route extends ApiRoute> = Route['reply'] extends z.ZodType ? { status: number; body: ReplyBody<Route> } : { status: number };

export interface RouteOptions<Caller> {
  /**
   * Who is asking (e.g. the session behind a bearer token). Runs before the body is read, so that
   * a request from nobody is refused as such (401) before its body is judged (400).
   */
  authenticate?: (request: FastifyRequest) => Promise<Caller>;
  /** A larger body than the server's 16 KiB (a kiosk's screenshot). */
  bodyLimit?: number;
}

const callers = new WeakMap<FastifyRequest, unknown>();

/** Serves `handler` for one route of a table, typed by that route's params, request and reply. */
export function serveRoute<Route extends ApiRoute, Caller = undefined>(
  app: FastifyInstance,
  route: Route,
  { authenticate, bodyLimit }: RouteOptions<Caller>,
  handler: (call: RouteCall<Route, Caller>) => Promise<RouteReply<Route>>,
): void {
  app.route({
    method: route.method,
    url: route.path,
    config: { served: servedRoute(route) },
    ...(bodyLimit ? { bodyLimit } : {}),
    ...(authenticate ? { onRequest: async (request: FastifyRequest) => { callers.set(request, await authenticate(request)); } } : {}),
    handler: async (request, reply) => {
      const body = (route.request ? checkBody(route.request, request.body) : undefined) as ValidRequest<Route>;
      const result: { status: number; body?: unknown } = await handler({ request, params: request.params as PathParams<Route['path']>, body, caller: callers.get(request) as Caller });
      return 'body' in result ? sendJson(reply, result.status, result.body) : reply.code(result.status).send();
    },
  });
}

/** A JSON answer, never kept by a cache (it is one person's). */
export function sendJson(reply: FastifyReply, status: number, body: unknown, headers: Record<string, string> = {}): FastifyReply {
  return reply.code(status).headers({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers }).send(JSON.stringify(body));
}

/** A request without a body (none sent, or empty) is `{}`, as a route's schema may fill defaults in. */
function checkBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body === undefined ? {} : body);
  if (!parsed.success) {
    throw new ApiError('bad-request', `The request is incomplete or wrong: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
