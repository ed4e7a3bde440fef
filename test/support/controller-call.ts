/**
 * How the tests talk to an in-process controller: by a route of the contract's table (or the
 * controller's metrics route), never by a path spelled in the test. The body is not typed by the
 * route, because tests also send what no kiosk would (a login without a password, an unknown action).
 */
import { pathOf, type PathParams, type RouteAddress } from '../../contract/routes.js';

export interface Answer { status: number; body: any; headers: Headers } // eslint-disable-line @typescript-eslint/no-explicit-any

export type RouteCallOptions<Path extends string> = { token?: string; body?: unknown }
  & (keyof PathParams<Path> extends never ? { params?: undefined } : { params: PathParams<Path> });

/** A route's parameters are required exactly when its path has some. */
export type RouteCaller = <Path extends string>(
  route: RouteAddress<Path>,
  ...options: keyof PathParams<Path> extends never ? [RouteCallOptions<Path>?] : [RouteCallOptions<Path>]
) => Promise<Answer>;

/** A RouteCaller for the controller at `baseUrl` (e.g. http://127.0.0.1:8480). */
export function routeCaller(baseUrl: string): RouteCaller {
  return async (route, ...[options]) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (options?.token) headers.Authorization = `Bearer ${options.token}`;
    const params = (options?.params ?? {}) as PathParams<typeof route.path>;
    const response = await fetch(`${baseUrl}${pathOf(route, params)}`, { method: route.method, headers, body: options?.body === undefined ? undefined : JSON.stringify(options.body) });
    const text = await response.text();
    let body: unknown = text;
    try { body = text ? JSON.parse(text) : null; } catch { /* metrics are text */ }
    return { status: response.status, body, headers: response.headers };
  };
}
