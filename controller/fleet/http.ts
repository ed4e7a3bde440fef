/**
 * How the fleet's routes are served by fastify, until the controller's shared registration takes
 * them in: a route of the contract's table with a handler typed by it (params, checked body,
 * reply), and one error handler that answers as the controller always has,
 * `{ error: { kind, message } }`, never with internals on a 5xx.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { ErrorBody } from '../../contract/api.js';
import { pathMatcher, type ApiRoute, type PathParams, type ReplyBody, type RouteAddress, type ValidRequest } from '../../contract/routes.js';
import { ApiError } from '../api-error.js';

export interface RouteContext<Route extends ApiRoute> {
  request: FastifyRequest;
  params: PathParams<Route['path']>;
  /**
   * The body, checked against the route's schema. Asked for by the handler after it checked who
   * calls, so a caller without a credential hears 401 before its body is judged (400).
   */
  body(): ValidRequest<Route>;
}

export type RouteAnswer<Route extends ApiRoute> = Route['reply'] extends z.ZodType ? { status: number; body: ReplyBody<Route> } : { status: number };

/** Registers `handler` for one route of a contract table. */
export function serveRoute<Route extends ApiRoute>(
  app: FastifyInstance, route: Route, handler: (context: RouteContext<Route>) => Promise<RouteAnswer<Route>>, options: { bodyLimit?: number } = {},
): void {
  const paramsOf = routeParams(route);
  app.route({
    method: route.method,
    url: route.path,
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
    handler: async (request, reply) => {
      const answer = await handler({ request, params: paramsOf(request), body: () => checkedBody(route, request.body) });
      reply.code(answer.status).header('Cache-Control', 'no-store');
      return 'body' in answer ? reply.send(answer.body) : reply.send();
    },
  });
}

/**
 * A request's path parameters by the contract's rule (pathMatcher: [\w-]{1,64}); fastify's own
 * `:id` takes any segment, so anything else is "No such API path", as the controller answers.
 */
export function routeParams<Path extends string>(route: RouteAddress<Path>): (request: FastifyRequest) => PathParams<Path> {
  const match = pathMatcher(route.path);
  return (request) => {
    const path = request.url.split('?')[0] ?? '';
    const params = match(path);
    if (!params) throw new ApiError('not-found', `No such API path: ${path.slice(0, 200)}`);
    return params;
  };
}

function checkedBody<Route extends ApiRoute>(route: Route, body: unknown): ValidRequest<Route> {
  if (!route.request) return undefined as ValidRequest<Route>;
  const parsed = route.request.safeParse(body ?? {});
  if (!parsed.success) {
    throw new ApiError('bad-request', `The request is incomplete or wrong: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ')}`);
  }
  return parsed.data as ValidRequest<Route>;
}

/** What fastify refuses before a handler runs, as a sentence. */
const FASTIFY_REFUSALS: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request is too large.',
  FST_ERR_CTP_INVALID_JSON_BODY: 'The request is not valid JSON.',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'The request must be JSON (Content-Type: application/json).',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The request\'s length is wrong.',
};

/**
 * Makes the instance (a plugin's encapsulated one) answer errors as the controller does, and take
 * an empty JSON body as none (a DELETE sent with a JSON Content-Type, as the tests' caller does).
 */
export function answerAsController(app: FastifyInstance): void {
  const json = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined);
    else json(request, body as string, done);
  });
  app.setErrorHandler((error: FastifyError | ApiError, request: FastifyRequest, reply: FastifyReply) => {
    const apiError = toApiError(error);
    const level = apiError.status >= 500 ? 'error' : 'warn';
    request.log[level]({ route: request.routeOptions.url, method: request.method, status: apiError.status, kind: apiError.kind, detail: apiError.logMessage }, 'request-failed');
    const body: ErrorBody = { error: { kind: apiError.kind, message: apiError.userMessage, ...apiError.extra } };
    if (apiError.extra.retryAfterSeconds) void reply.header('Retry-After', String(apiError.extra.retryAfterSeconds));
    return reply.code(apiError.status).header('Cache-Control', 'no-store').send(body);
  });
}

function toApiError(error: FastifyError | ApiError): ApiError {
  if (error instanceof ApiError) return error;
  const status = (error as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    const code = (error as FastifyError).code;
    return new ApiError('bad-request', FASTIFY_REFUSALS[code] ?? `The request cannot be read: ${error.message}`, `${code}: ${error.message}`);
  }
  return new ApiError('internal', 'Something went wrong in the controller. Please try again.', error.stack ?? error.message);
}
