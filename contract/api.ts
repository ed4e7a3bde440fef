/**
 * The controller's HTTP contract (API v1), shared by the shim (controller/) and the kiosk (app/).
 * Every body is described once, as a zod schema, so each side validates what it receives and the
 * TypeScript types cannot drift from what is checked at run time.
 */
import { z } from 'zod';

export const API_PREFIX = '/v1';
/** What GET /v1/identity answers with; a kiosk checks `product` before trusting an address. */
export const PRODUCT = 'thinkiosk-controller';

export const Protocol = z.enum(['rdp', 'spice', 'vnc']);
export type Protocol = z.infer<typeof Protocol>;

export const OsFamily = z.enum(['windows', 'linux', 'other']);
export type OsFamily = z.infer<typeof OsFamily>;

export const Identity = z.object({
  product: z.literal(PRODUCT),
  apiVersion: z.literal(1),
  version: z.string(),
  name: z.string(),
  backend: z.enum(['openstack', 'static']),
});
export type Identity = z.infer<typeof Identity>;

export const LoginRequest = z.object({
  username: z.string().min(1).max(255),
  password: z.string().min(1).max(4096),
  domain: z.string().min(1).max(255).optional(),
  project: z.string().min(1).max(255).optional(),
});
export type LoginRequest = z.infer<typeof LoginRequest>;

export const Session = z.object({
  /** Opaque bearer token: send as `Authorization: Bearer <token>`. */
  token: z.string(),
  expiresAt: z.string().datetime(),
  user: z.object({ id: z.string(), name: z.string() }),
  project: z.object({ id: z.string(), name: z.string() }),
  /**
   * The person is an administrator of this site (Keystone role in the controller's `adminRoles`, or
   * `admin: true` in a static inventory): a kiosk with no admin PIN lets only such a person set one.
   * Absent from controllers older than this field: not an administrator.
   */
  admin: z.boolean().default(false),
});
export type Session = z.infer<typeof Session>;

export const Address = z.object({
  ip: z.string(),
  version: z.union([z.literal(4), z.literal(6)]),
  mac: z.string().nullable(),
  network: z.string(),
  kind: z.enum(['fixed', 'floating']),
});
export type Address = z.infer<typeof Address>;

export const GuestOs = z.object({
  family: OsFamily,
  distro: z.string().nullable(),
  version: z.string().nullable(),
});
export type GuestOs = z.infer<typeof GuestOs>;

export const DesktopPolicy = z.object({
  /** Set by an administrator in the server's metadata (`thinkiosk:protocol`): wins over the OS table. */
  protocolOverride: Protocol.nullable(),
  /** `thinkiosk:usb` = false forbids USB redirection to this desktop. */
  usbRedirection: z.boolean(),
});
export type DesktopPolicy = z.infer<typeof DesktopPolicy>;

export const PowerState = z.enum(['running', 'shutdown', 'paused', 'suspended', 'crashed', 'unknown']);
export type PowerState = z.infer<typeof PowerState>;

export const Desktop = z.object({
  id: z.string(),
  name: z.string(),
  /**
   * OpenStack's server status (ACTIVE, SHUTOFF, BUILD, ERROR, ...). A static desktop is ACTIVE or
   * SHUTOFF when the controller knows, and UNKNOWN when it has not checked recently (it checks
   * politely and seldom, see README "Static backend"): the kiosk may still try to connect.
   */
  status: z.string(),
  powerState: PowerState,
  /** Work in progress (e.g. "powering-off"), or null when the desktop is settled. */
  task: z.string().nullable(),
  /** A user-facing reason when status is ERROR (for a static desktop also: why it counts as SHUTOFF). */
  fault: z.string().nullable(),
  guestOs: GuestOs,
  addresses: z.array(Address),
  protocols: z.array(Protocol),
  /** What a Linux kiosk should use; a kiosk on another OS recomputes with chooseProtocol. */
  recommendedProtocol: Protocol.nullable(),
  policy: DesktopPolicy,
  /** Whether the controller can start/stop/reboot this desktop (a static inventory cannot). */
  powerControl: z.boolean(),
});
export type Desktop = z.infer<typeof Desktop>;

export const DesktopList = z.object({ desktops: z.array(Desktop) });
export type DesktopList = z.infer<typeof DesktopList>;

export const PowerAction = z.enum(['start', 'stop', 'reboot', 'hard-reboot']);
export type PowerAction = z.infer<typeof PowerAction>;
export const PowerRequest = z.object({ action: PowerAction });
export const PowerResult = z.object({
  /** `accepted`: the cloud is doing it; `unchanged`: it was already so (e.g. already stopped). */
  outcome: z.enum(['accepted', 'unchanged']),
  message: z.string(),
});
export type PowerResult = z.infer<typeof PowerResult>;

export const ConsoleRequest = z.object({ protocol: Protocol });
export const Console = z.discriminatedUnion('protocol', [
  z.object({
    protocol: z.enum(['vnc', 'spice']),
    /** A websocket URL (`binary` subprotocol) good for one connection attempt: ask again to reconnect. */
    websocketUrl: z.string(),
    /** The URL Nova returned (or the controller's relay URL), for viewers that take it whole. */
    consoleUrl: z.string(),
    /** VNC password or SPICE ticket the viewer must present, when the server asks for one. */
    password: z.string().nullable(),
    /**
     * The server's own address, when the kiosk may reach it directly: native viewers
     * (remote-viewer with USB redirection) need it, because they cannot speak websocket.
     */
    direct: z.object({ host: z.string(), port: z.number().int().min(1).max(65535) }).nullable(),
  }),
  z.object({
    protocol: z.literal('rdp'),
    host: z.string(),
    port: z.number().int().min(1).max(65535),
    /** Set when the controller attached a floating IP for this connection. */
    floatingIpAttached: z.boolean(),
  }),
]);
export type Console = z.infer<typeof Console>;

export const ErrorKind = z.enum([
  'bad-request', // the request itself is malformed
  'invalid-credentials', // wrong user, password, domain or project
  'session-expired', // log in again
  'forbidden',
  'not-found',
  'conflict', // the desktop is in a state that does not allow this now
  'not-ready', // desktop not running / console not possible yet
  'too-many-attempts', // login brute-force protection
  'upstream-unavailable', // the cloud (or one of its services) does not answer
  'upstream-error', // the cloud answered with an error we cannot map
  'internal',
]);
export type ErrorKind = z.infer<typeof ErrorKind>;

export const ErrorBody = z.object({
  error: z.object({
    kind: ErrorKind,
    /** A sentence for the person at the kiosk: what happened and what to do. */
    message: z.string(),
    /** Which cloud service was involved, when one was. */
    service: z.string().optional(),
    retryAfterSeconds: z.number().optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
