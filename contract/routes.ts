/**
 * The controller's HTTP routes (API v1), each spelled once: method, path, the body it takes and the
 * body it answers with. The controller registers its handlers from this table, the kiosk's client
 * builds its requests from it and validates the answers with its schemas, and the tests address the
 * controller through it — so a path or a method cannot differ between them.
 *
 * A path names its parameters as `:name`; pathOf fills them in, pathMatcher reads them back.
 */
import type { z } from 'zod';
import { ADMIN_PREFIX, AuditLog, CommandRecord, CommandRequest, Enrolments, Group, KioskDetail, KioskList, KioskUpdate, Layers, MadeSiteToken, NewSiteToken, RegisteredMac, SettingsUpdate } from './fleet-admin.js';
import { CheckIn, CheckInReply, EnrolRequest, Enrolment, FLEET_PREFIX, ScreenshotUpload } from './fleet.js';
import { API_PREFIX, Console, ConsoleRequest, Desktop, DesktopList, Identity, LoginRequest, PowerRequest, PowerResult, Session } from './api.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** What a request needs to reach a route, whatever its body. */
export interface RouteAddress<Path extends string = string> {
  method: HttpMethod;
  path: Path;
}

export interface ApiRoute<Path extends string = string> extends RouteAddress<Path> {
  /** The table's key: also the route's label in the controller's metrics and log. */
  name: string;
  /** The JSON body the controller expects, or null when the request carries none. */
  request: z.ZodType | null;
  /** What a successful answer carries, or null when it has no body (204). */
  reply: z.ZodType | null;
}

/** The names of a path's `:name` parameters, e.g. 'id' for '/v1/desktops/:id/console'. */
type ParamNames<Path extends string> =
  Path extends `${string}:${infer Name}/${infer Rest}` ? Name | ParamNames<Rest>
    : Path extends `${string}:${infer Name}` ? Name
      : never;
export type PathParams<Path extends string> = { [Name in ParamNames<Path>]: string };

/** The body a caller sends (before the controller's schema fills defaults in). */
export type RequestBody<Route extends ApiRoute> = Route['request'] extends z.ZodType ? z.input<Route['request']> : undefined;
/** The body as the controller's handler sees it, validated. */
export type ValidRequest<Route extends ApiRoute> = Route['request'] extends z.ZodType ? z.output<Route['request']> : undefined;
/** The body of a successful answer, as the kiosk sees it once validated. */
export type ReplyBody<Route extends ApiRoute> = Route['reply'] extends z.ZodType ? z.output<Route['reply']> : undefined;

/** Names each route after its key, so a route's label is not spelled twice. */
function named<const Table extends Record<string, Omit<ApiRoute, 'name'>>>(table: Table): { [Key in keyof Table]: Table[Key] & { name: Key } } {
  return Object.fromEntries(Object.entries(table).map(([name, route]) => [name, { ...route, name }])) as { [Key in keyof Table]: Table[Key] & { name: Key } };
}

export const ROUTES = named({
  identity: { method: 'GET', path: `${API_PREFIX}/identity`, request: null, reply: Identity },
  login: { method: 'POST', path: `${API_PREFIX}/session`, request: LoginRequest, reply: Session },
  logout: { method: 'DELETE', path: `${API_PREFIX}/session`, request: null, reply: null },
  desktops: { method: 'GET', path: `${API_PREFIX}/desktops`, request: null, reply: DesktopList },
  desktop: { method: 'GET', path: `${API_PREFIX}/desktops/:id`, request: null, reply: Desktop },
  power: { method: 'POST', path: `${API_PREFIX}/desktops/:id/power`, request: PowerRequest, reply: PowerResult },
  console: { method: 'POST', path: `${API_PREFIX}/desktops/:id/console`, request: ConsoleRequest, reply: Console },
});

/**
 * The fleet's kiosk side (contract/fleet.ts). Enrolment is open (a site token or a registered MAC
 * decides); check-in and screenshots carry the kiosk's own credential, never a person's session.
 */
export const FLEET_ROUTES = named({
  enrol: { method: 'POST', path: `${FLEET_PREFIX}/enrolment`, request: EnrolRequest, reply: Enrolment },
  checkIn: { method: 'POST', path: `${FLEET_PREFIX}/check-in`, request: CheckIn, reply: CheckInReply },
  screenshot: { method: 'POST', path: `${FLEET_PREFIX}/screenshot`, request: ScreenshotUpload, reply: null },
});

/** The admin page's API (contract/fleet-admin.ts): an administrator's session on every route. */
export const ADMIN_ROUTES = named({
  kiosks: { method: 'GET', path: `${ADMIN_PREFIX}/kiosks`, request: null, reply: KioskList },
  kiosk: { method: 'GET', path: `${ADMIN_PREFIX}/kiosks/:id`, request: null, reply: KioskDetail },
  updateKiosk: { method: 'PUT', path: `${ADMIN_PREFIX}/kiosks/:id`, request: KioskUpdate, reply: KioskDetail },
  forgetKiosk: { method: 'DELETE', path: `${ADMIN_PREFIX}/kiosks/:id`, request: null, reply: null },
  command: { method: 'POST', path: `${ADMIN_PREFIX}/kiosks/:id/commands`, request: CommandRequest, reply: CommandRecord },
  layers: { method: 'GET', path: `${ADMIN_PREFIX}/settings`, request: null, reply: Layers },
  siteSettings: { method: 'PUT', path: `${ADMIN_PREFIX}/settings/site`, request: SettingsUpdate, reply: Layers },
  groupSettings: { method: 'PUT', path: `${ADMIN_PREFIX}/groups/:name`, request: SettingsUpdate, reply: Group },
  deleteGroup: { method: 'DELETE', path: `${ADMIN_PREFIX}/groups/:name`, request: null, reply: null },
  enrolments: { method: 'GET', path: `${ADMIN_PREFIX}/enrolment`, request: null, reply: Enrolments },
  newSiteToken: { method: 'POST', path: `${ADMIN_PREFIX}/enrolment/tokens`, request: NewSiteToken, reply: MadeSiteToken },
  deleteSiteToken: { method: 'DELETE', path: `${ADMIN_PREFIX}/enrolment/tokens/:id`, request: null, reply: null },
  registerMac: { method: 'POST', path: `${ADMIN_PREFIX}/enrolment/macs`, request: RegisteredMac, reply: RegisteredMac },
  /** :mac is written with - between its octets (macPathParam): a ':' is not in a path parameter. */
  forgetMac: { method: 'DELETE', path: `${ADMIN_PREFIX}/enrolment/macs/:mac`, request: null, reply: null },
  audit: { method: 'GET', path: `${ADMIN_PREFIX}/audit`, request: null, reply: AuditLog },
});

/** The last screenshot of a kiosk, as image/png (not JSON, so outside the table's reply schemas). */
export const KIOSK_SCREENSHOT_ROUTE = { method: 'GET', path: `${ADMIN_PREFIX}/kiosks/:id/screenshot` } as const satisfies RouteAddress;
/** The admin page itself (HTML, script, style), served by the controller. */
export const ADMIN_PAGE_PATH = '/admin/';

const PARAM = /:(\w+)/g;
/**
 * What the controller accepts as a path parameter: the ids it hands out (Nova's UUIDs, a static
 * inventory's names) look like this; any other path is "No such API path".
 */
const PARAM_VALUE = '([\\w-]{1,64})';

/** The path of a request to `route`, its parameters filled in (encoded, so an id cannot add a segment). */
export function pathOf<Path extends string>(route: RouteAddress<Path>, params: PathParams<Path>): string {
  const values: Record<string, string> = params;
  return route.path.replace(PARAM, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${route.path}: no value for :${name}`);
    return encodeURIComponent(value);
  });
}

/** Reads a request's path against `path`: its parameters when it is that path, else null. */
export function pathMatcher<Path extends string>(path: Path): (requestPath: string) => PathParams<Path> | null {
  const names = [...path.matchAll(PARAM)].map((match) => match[1]!);
  const literal = path.split(PARAM).filter((_, i) => i % 2 === 0).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const pattern = new RegExp(`^${literal.join(PARAM_VALUE)}$`);
  return (requestPath) => {
    const match = pattern.exec(requestPath);
    if (!match) return null;
    return Object.fromEntries(names.map((name, i) => [name, match[i + 1]!])) as PathParams<Path>;
  };
}
