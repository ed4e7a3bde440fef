/**
 * What the kiosk API (kiosk-api/routes.ts) asks of a desktop backend: OpenStack (openstack/) or a
 * static inventory of desktops that run elsewhere (static/). Routing, sessions, the
 * login guard and metrics stay in the HTTP layer, the same for both.
 */
import type { Console, Desktop, LoginRequest, PowerAction, PowerResult, Protocol } from '../../contract/api.js';
import type { SessionAuth, SessionPayload } from '../sessions/session-token.js';

export type BackendKind = 'openstack' | 'static';

export interface LoginResult {
  user: { id: string; name: string };
  project: { id: string; name: string };
  /** An administrator of this site (may set a kiosk's missing admin PIN, and more to come). */
  admin: boolean;
  /** When the backend ends the session at the latest (the shim may end it earlier). */
  expiresAt: Date;
  /** Sealed into the session token. */
  auth: SessionAuth;
}

/** How the kiosk reached this controller: a console relayed by the controller is offered at the same address. */
export interface RequestOrigin {
  secure: boolean;
  /** The Host header as the kiosk sent it (host[:port]). */
  host: string;
}

export interface DesktopBackend {
  readonly kind: BackendKind;
  /** Throws ApiError 'invalid-credentials' for a wrong user or password. */
  login(request: LoginRequest): Promise<LoginResult>;
  /** Ends the session upstream (Keystone revocation); the HTTP layer has already refused it everywhere. */
  logout(session: SessionPayload): Promise<void>;
  /**
   * Throws ApiError 'session-expired' when the person behind a still-sealed session may no longer
   * act (disabled, password changed, removed from the inventory). Cheap: answers are cached briefly.
   */
  validate(session: SessionPayload): Promise<void>;
  listDesktops(session: SessionPayload): Promise<Desktop[]>;
  getDesktop(session: SessionPayload, id: string): Promise<Desktop>;
  power(session: SessionPayload, id: string, action: PowerAction): Promise<PowerResult>;
  console(session: SessionPayload, id: string, protocol: Protocol, origin: RequestOrigin): Promise<Console>;
}
