/**
 * The admin page's client of its controller: the admin API (contract/routes.ts ADMIN_ROUTES), the
 * session calls and the screenshot. The session token lives in this object only — never in
 * localStorage, sessionStorage or a cookie — so a reload or a closed tab asks for the password
 * again. Every failure becomes an AdminError with a sentence for the administrator; a session the
 * controller no longer accepts is reported once to `onSessionEnded` (the page goes back to sign-in).
 */
import type { ErrorBody, LoginRequest, Session } from '../../../contract/api.js';
import type { ADMIN_ROUTES, KIOSK_SCREENSHOT_ROUTE, PathParams, ReplyBody, RequestBody, ROUTES } from '../../../contract/routes.js';

type AdminRoutes = typeof ADMIN_ROUTES;
export type AdminCall = keyof AdminRoutes;

type Spelled<Table extends Record<string, { method: string; path: string }>> = { [Name in keyof Table]: { method: Table[Name]['method']; path: Table[Name]['path'] } };

/**
 * The routes as the contract spells them. The page cannot load contract/routes.ts (it needs zod),
 * so it spells them again — and the compiler checks each method and path against the contract's
 * own types: a route renamed, moved or missing there does not compile here.
 */
const CALLS = {
  login: { method: 'POST', path: '/v1/session' },
  logout: { method: 'DELETE', path: '/v1/session' },
} as const satisfies Spelled<Pick<typeof ROUTES, 'login' | 'logout'>>;
const ADMIN_CALLS = {
  kiosks: { method: 'GET', path: '/v1/admin/kiosks' },
  kiosk: { method: 'GET', path: '/v1/admin/kiosks/:id' },
  updateKiosk: { method: 'PUT', path: '/v1/admin/kiosks/:id' },
  forgetKiosk: { method: 'DELETE', path: '/v1/admin/kiosks/:id' },
  command: { method: 'POST', path: '/v1/admin/kiosks/:id/commands' },
  layers: { method: 'GET', path: '/v1/admin/settings' },
  siteSettings: { method: 'PUT', path: '/v1/admin/settings/site' },
  groupSettings: { method: 'PUT', path: '/v1/admin/groups/:name' },
  deleteGroup: { method: 'DELETE', path: '/v1/admin/groups/:name' },
  enrolments: { method: 'GET', path: '/v1/admin/enrolment' },
  newSiteToken: { method: 'POST', path: '/v1/admin/enrolment/tokens' },
  deleteSiteToken: { method: 'DELETE', path: '/v1/admin/enrolment/tokens/:id' },
  registerMac: { method: 'POST', path: '/v1/admin/enrolment/macs' },
  forgetMac: { method: 'DELETE', path: '/v1/admin/enrolment/macs/:mac' },
  audit: { method: 'GET', path: '/v1/admin/audit' },
} as const satisfies Spelled<AdminRoutes>;
const SCREENSHOT = { method: 'GET', path: '/v1/admin/kiosks/:id/screenshot' } as const satisfies Spelled<{ screenshot: typeof KIOSK_SCREENSHOT_ROUTE }>['screenshot'];

/** What went wrong, as the page tells it: `kind` picks where it shows, `message` is the sentence. */
export type AdminErrorKind = 'unreachable' | 'session-ended' | 'invalid-credentials' | 'forbidden' | 'bad-request' | 'not-found' | 'conflict' | 'too-many-attempts' | 'server';

export class AdminError extends Error {
  constructor(readonly kind: AdminErrorKind, message: string, readonly status: number | null = null) {
    super(message);
  }
}

export const SESSION_ENDED = 'Your session has ended. Please sign in again.';

/** `:name` parameters filled in, each encoded so a value cannot add a path segment. */
function fill(path: string, params: Record<string, string>): string {
  return path.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));
}

export class AdminApi {
  private session: Session | null = null;
  /** Called once when the controller stops accepting the session (expired, revoked, restarted without its keys). */
  onSessionEnded: () => void = () => undefined;

  get user(): string | null {
    return this.session?.user.name ?? null;
  }

  async signIn(request: LoginRequest): Promise<Session> {
    const session = (await this.send(CALLS.login.method, CALLS.login.path, request, false)) as Session;
    this.session = session;
    return session;
  }

  /** Ends the session at the controller too; forgetting the token here does not wait for it. */
  async signOut(): Promise<void> {
    if (!this.session) return;
    const token = this.session.token;
    this.session = null;
    try {
      await fetch(CALLS.logout.path, { method: CALLS.logout.method, headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
    } catch {
      // Unreachable: the token ends at its expiry; this page holds it no longer.
    }
  }

  async call<Name extends AdminCall>(name: Name, params: PathParams<AdminRoutes[Name]['path']>, ...body: RequestBody<AdminRoutes[Name]> extends undefined ? [] : [RequestBody<AdminRoutes[Name]>]): Promise<ReplyBody<AdminRoutes[Name]>> {
    const route = ADMIN_CALLS[name];
    return (await this.send(route.method, fill(route.path, params), body[0], true)) as ReplyBody<AdminRoutes[Name]>;
  }

  /** The kiosk's last screenshot as a PNG blob, or null when it has none. */
  async screenshot(kioskId: string): Promise<Blob | null> {
    const response = await this.fetch(SCREENSHOT.method, fill(SCREENSHOT.path, { id: kioskId }), undefined, true);
    if (response.status === 404) return null;
    if (!response.ok) throw await this.failure(response, true);
    return response.blob();
  }

  private async send(method: string, path: string, body: unknown, authenticated: boolean): Promise<unknown> {
    const response = await this.fetch(method, path, body, authenticated);
    if (!response.ok) throw await this.failure(response, authenticated);
    if (response.status === 204) return undefined;
    try {
      return await response.json();
    } catch {
      throw new AdminError('server', `The controller sent an answer this page cannot read (HTTP ${response.status}). Is ${location.host} a thinkiosk controller?`, response.status);
    }
  }

  private async fetch(method: string, path: string, body: unknown, authenticated: boolean): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (authenticated) {
      if (!this.session) throw new AdminError('session-ended', SESSION_ENDED);
      headers.authorization = `Bearer ${this.session.token}`;
    }
    try {
      return await fetch(path, { method, headers, body: body === undefined ? null : JSON.stringify(body), cache: 'no-store', credentials: 'omit' });
    } catch {
      throw new AdminError('unreachable', 'The controller does not answer. Check the network and that the controller is running, then try again.');
    }
  }

  private async failure(response: Response, authenticated: boolean): Promise<AdminError> {
    let error: ErrorBody['error'] | undefined;
    try {
      error = ((await response.json()) as Partial<ErrorBody>).error;
    } catch {
      // Not the controller's JSON (a proxy's error page): the status tells enough.
    }
    const said = typeof error?.message === 'string' && error.message ? error.message : null;
    const status = response.status;
    if (status === 401 && authenticated) {
      if (this.session) {
        this.session = null;
        this.onSessionEnded();
      }
      return new AdminError('session-ended', SESSION_ENDED, status);
    }
    if (status === 401) return new AdminError('invalid-credentials', said ?? 'Wrong user name or password.', status);
    if (status === 403) return new AdminError('forbidden', said ?? 'This account may not manage the fleet: it is not a site administrator.', status);
    if (status === 404) return new AdminError('not-found', said ?? 'Not found: it may have been removed meanwhile. Reload the list.', status);
    if (status === 409) return new AdminError('conflict', said ?? 'That conflicts with the current state. Reload and try again.', status);
    if (status === 429) {
      const wait = error?.retryAfterSeconds ?? Number(response.headers.get('retry-after'));
      return new AdminError('too-many-attempts', `${said ?? 'Too many attempts.'}${wait ? ` Try again in ${Math.ceil(wait)} seconds.` : ''}`, status);
    }
    if (status >= 500) return new AdminError('server', `The controller could not do that (HTTP ${status})${said ? `: ${said}` : '. Try again; if it keeps failing, look at the controller\'s log.'}`, status);
    return new AdminError('bad-request', said ?? `The controller refused this (HTTP ${status}).`, status);
  }
}
