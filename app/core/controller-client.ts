/**
 * The kiosk's client for the controller's HTTP API (contract/api.ts). Every answer is validated
 * against the contract; every failure becomes a ControllerError whose `message` the person at the
 * kiosk can act on (the technical detail goes to the log only).
 */
import { readFileSync } from 'node:fs';
import got, { HTTPError, RequestError, type Got } from 'got';
import {
  API_PREFIX, ErrorBody, Identity,
  type Console, type Desktop, type LoginRequest, type PowerAction, type PowerResult, type Protocol, type Session,
} from '../../contract/api.js';
import type { CheckIn, CheckInReply, EnrolRequest, Enrolment, ScreenshotUpload } from '../../contract/fleet.js';
import { FLEET_ROUTES, pathOf, ROUTES, type ApiRoute, type PathParams, type ReplyBody, type RequestBody } from '../../contract/routes.js';
import type { KioskErrorKind } from './kiosk-api.js';

export class ControllerError extends Error {
  constructor(
    readonly kind: KioskErrorKind,
    /** For the person at the kiosk. */
    message: string,
    /** For the log. */
    readonly detail: string,
    readonly retryAfterSeconds?: number,
    /** The HTTP status when the controller answered with an error (the fleet's 401 and 403 mean different things). */
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface ControllerClientOptions {
  /** PEM file of the CA that signed the controller's certificate (sites with a private CA). */
  caFile?: string | undefined;
  /** Per-attempt limit; a kiosk must never sit on a spinner forever. */
  timeoutMs?: number;
  /** Retries for idempotent calls (GET) on network errors and 502/503/504. */
  retries?: number;
  /** How this kiosk booted ("local disk", "netboot from 10.0.0.2"), told to the controller. */
  bootSource?: string;
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED', 'EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER',
]);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);

/** Normalises what an admin typed ("ctl.example", "10.0.0.5:8480") into a base URL. */
export function normaliseControllerUrl(input: string): URL {
  const trimmed = input.trim();
  if (!trimmed) throw new ControllerError('invalid-input', 'Enter the controller address, for example https://desktops.example.org', 'empty address');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ControllerError('invalid-input', `"${trimmed}" is not a valid address. Use a form like https://desktops.example.org`, `unparsable URL ${trimmed}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ControllerError('invalid-input', 'The controller address must start with https:// (or http:// on a trusted network).', `scheme ${url.protocol}`);
  }
  url.pathname = url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '') + '/';
  url.search = '';
  url.hash = '';
  return url;
}

export class ControllerClient {
  readonly baseUrl: URL;
  private readonly http: Got;

  constructor(address: string, options: ControllerClientOptions = {}) {
    this.baseUrl = normaliseControllerUrl(address);
    const ca = options.caFile ? readFileSync(options.caFile) : undefined;
    this.http = got.extend({
      prefixUrl: new URL(API_PREFIX.slice(1), this.baseUrl).toString(),
      timeout: { request: options.timeoutMs ?? 10_000 },
      retry: { limit: options.retries ?? 2, methods: ['GET'], statusCodes: [502, 503, 504], errorCodes: [...UNREACHABLE_CODES] },
      https: ca ? { certificateAuthority: ca } : {},
      followRedirect: false,
      throwHttpErrors: true,
      headers: { 'user-agent': 'thinkiosk-kiosk/0.1', 'x-thinkiosk-client': (options.bootSource ?? 'local disk').replace(/[^\x20-\x7e]/g, '?') },
    });
  }

  async identity(): Promise<Identity> {
    let body: unknown;
    try {
      body = await this.send(ROUTES.identity, {}, undefined);
    } catch (error) {
      // A web server that is not a controller answers 404 or HTML here: say so, not "error 404".
      if (error instanceof HTTPError || (error instanceof RequestError && error.name === 'ParseError')) {
        throw new ControllerError('not-a-controller', `${this.baseUrl.host} answers, but it is not a thinkiosk controller. Check the address.`, `identity: ${error.message}`);
      }
      throw this.explain(error, 'identity');
    }
    const identity = Identity.safeParse(body);
    if (!identity.success) {
      throw new ControllerError('not-a-controller', `${this.baseUrl.host} answers, but it is not a thinkiosk controller. Check the address.`, `identity body: ${JSON.stringify(body).slice(0, 200)}`);
    }
    return identity.data;
  }

  login(request: LoginRequest): Promise<Session> {
    return this.call(ROUTES.login, {}, request);
  }

  async logout(token: string): Promise<void> {
    try {
      await this.send(ROUTES.logout, {}, undefined, token);
    } catch (error) {
      throw this.explain(error, 'logout');
    }
  }

  async desktops(token: string): Promise<Desktop[]> {
    return (await this.call(ROUTES.desktops, {}, undefined, token)).desktops;
  }

  desktop(token: string, id: string): Promise<Desktop> {
    return this.call(ROUTES.desktop, { id }, undefined, token);
  }

  power(token: string, id: string, action: PowerAction): Promise<PowerResult> {
    return this.call(ROUTES.power, { id }, { action }, token);
  }

  console(token: string, id: string, protocol: Protocol): Promise<Console> {
    return this.call(ROUTES.console, { id }, { protocol }, token);
  }

  /** Fleet enrolment (contract/fleet.ts): open; a site token or a registered MAC decides (403 otherwise). */
  enrol(request: EnrolRequest, signal?: AbortSignal): Promise<Enrolment> {
    return this.call(FLEET_ROUTES.enrol, {}, request, undefined, signal);
  }

  /** One check-in with the kiosk's own credential (`<kioskId>.<secret>`); 401 when the controller no longer knows it. */
  checkIn(credential: string, request: CheckIn, signal?: AbortSignal): Promise<CheckInReply> {
    return this.call(FLEET_ROUTES.checkIn, {}, request, credential, signal);
  }

  async uploadScreenshot(credential: string, upload: ScreenshotUpload, signal?: AbortSignal): Promise<void> {
    await this.call(FLEET_ROUTES.screenshot, {}, upload, credential, signal);
  }

  /** One request to `route`, its answer validated by the route's reply schema; failures explained. */
  private async call<Route extends ApiRoute>(route: Route, params: PathParams<Route['path']>, body: RequestBody<Route>, token?: string, signal?: AbortSignal): Promise<ReplyBody<Route>> {
    const path = apiPath(route, params);
    let answer: unknown;
    try {
      answer = await this.send(route, params, body, token, signal);
    } catch (error) {
      throw this.explain(error, path);
    }
    const parsed = route.reply?.safeParse(answer);
    if (parsed && !parsed.success) {
      throw new ControllerError('not-a-controller', 'The controller sent an answer this kiosk does not understand. The kiosk or the controller may need an update.', `${path}: ${parsed.error.message.slice(0, 300)}`);
    }
    return parsed?.data as ReplyBody<Route>;
  }

  /** One request to `route` as the table spells it: the JSON answer, unchecked (none for a route without one); got's error on failure. */
  private async send<Route extends ApiRoute>(route: Route, params: PathParams<Route['path']>, body: RequestBody<Route>, token?: string, signal?: AbortSignal): Promise<unknown> {
    const request = this.http(apiPath(route, params), { method: route.method, json: body, headers: token ? bearer(token) : {}, ...(signal ? { signal } : {}) });
    if (!route.reply) {
      await request;
      return undefined;
    }
    return request.json();
  }

  /** Turns a got error into what the person at the kiosk needs to know. */
  private explain(error: unknown, what: string): ControllerError {
    const host = this.baseUrl.host;
    if (error instanceof HTTPError) {
      const parsed = ErrorBody.safeParse(safeJson(error.response.body));
      if (parsed.success) {
        const { kind, message, retryAfterSeconds } = parsed.data.error;
        return new ControllerError(kind, message, `${what}: HTTP ${error.response.statusCode} ${kind}: ${message}`, retryAfterSeconds, error.response.statusCode);
      }
      return new ControllerError('upstream-error', `The controller at ${host} answered with an error (${error.response.statusCode}). Try again; if it persists, tell your administrator.`, `${what}: HTTP ${error.response.statusCode}`, undefined, error.response.statusCode);
    }
    if (error instanceof RequestError) {
      const code = error.code ?? '';
      if (TLS_CODES.has(code) || /certificate|self[- ]signed|ssl|tls/i.test(error.message)) {
        return new ControllerError('tls', `The controller at ${host} presented a certificate this kiosk does not trust (${code || 'TLS error'}). Check the address, the kiosk's clock, or ask your administrator to install the site's CA.`, `${what}: ${code} ${error.message}`);
      }
      if (error.name === 'TimeoutError') {
        return new ControllerError('unreachable', `The controller at ${host} did not answer in time. Check the network cable or Wi-Fi, then try again.`, `${what}: timeout ${error.message}`);
      }
      if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
        return new ControllerError('unreachable', `The name ${this.baseUrl.hostname} could not be found. Check the address and the network's DNS.`, `${what}: ${code}`);
      }
      if (UNREACHABLE_CODES.has(code)) {
        return new ControllerError('unreachable', `The controller at ${host} cannot be reached. Check the network cable or Wi-Fi, then try again.`, `${what}: ${code} ${error.message}`);
      }
      if (error.name === 'ParseError') {
        return new ControllerError('not-a-controller', `${host} answers, but it is not a thinkiosk controller. Check the address.`, `${what}: ${error.message}`);
      }
      return new ControllerError('unreachable', `The controller at ${host} cannot be reached (${code || error.name}).`, `${what}: ${code} ${error.message}`);
    }
    return new ControllerError('internal', 'Something went wrong in the kiosk. Try again.', `${what}: ${String(error)}`);
  }
}

/** The route's path under prefixUrl (which already ends in the API's prefix, kept under the address's own path). */
function apiPath<Path extends string>(route: ApiRoute<Path>, params: PathParams<Path>): string {
  return pathOf(route, params).slice(`${API_PREFIX}/`.length);
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

function safeJson(body: unknown): unknown {
  try {
    return typeof body === 'string' ? JSON.parse(body) : Buffer.isBuffer(body) ? JSON.parse(body.toString('utf8')) : body;
  } catch {
    return undefined;
  }
}
