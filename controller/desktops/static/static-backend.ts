/**
 * Desktops that run elsewhere (physical PCs, another hypervisor), listed in an inventory file
 * (static-inventory.ts). The controller checks passwords against the inventory's hashes, shows each
 * user the desktops listed for them, reports a desktop as running when its server answers, and
 * relays VNC/SPICE through itself (static-console-relay.ts) so kiosk pages can reach them by websocket.
 * It cannot switch these machines on or off.
 */
import type { Console, Desktop, LoginRequest, PowerAction, PowerResult, Protocol } from '../../../contract/api.js';
import { AdmissionGate } from '../admission-gate.js';
import { ApiError } from '../../core/api-error.js';
import type { BackendKind, DesktopBackend, LoginResult, RequestOrigin } from '../backend.js';
import { hashPassword, parsePasswordHash, verifyPassword, type ParsedHash } from '../../core/password-hash.js';
import type { EndpointStatus, Reachability } from './reachability.js';
import type { RelayTickets } from './relay-ticket.js';
import type { SessionPayload } from '../../sessions/session-token.js';
import { configuredProtocols, toStaticDesktop } from './static-desktop.js';
import type { Inventory, InventoryDesktop } from './static-inventory.js';

/** Sessions last as long as the shim's sessionMaxSeconds allows: nothing upstream expires them. */
const SESSION_CEILING_MS = 7 * 24 * 3600 * 1000;

export interface StaticBackendOptions {
  /** Shown as the session's project (the controller's configured name). */
  siteName: string;
}

export class StaticBackend implements DesktopBackend {
  readonly kind: BackendKind = 'static';
  /** scrypt is memory- and CPU-hard on purpose: a login rush queues here instead of starving the server. */
  private readonly loginGate = new AdmissionGate({ maxInFlight: 2, maxWaiting: 1000, maxWaitMs: 45_000, service: 'login', busyMessage: 'Many people are logging in right now.' });
  /** Checked for unknown users too, so the answer time does not tell which user names exist. */
  private readonly decoy: Promise<ParsedHash>;

  constructor(
    private readonly inventory: Inventory,
    private readonly reachability: Reachability,
    private readonly tickets: RelayTickets,
    private readonly options: StaticBackendOptions,
  ) {
    const cost = inventory.users.values().next().value ?? { N: 16384, r: 8, p: 1 };
    this.decoy = hashPassword('decoy', cost).then((text) => parsePasswordHash(text) as ParsedHash);
  }

  async login(request: LoginRequest): Promise<LoginResult> {
    const stored = this.inventory.users.get(request.username);
    const ok = await this.loginGate.run(async () => verifyPassword(request.password, stored ?? await this.decoy));
    if (!stored || !ok) {
      throw new ApiError('invalid-credentials', 'Wrong user name or password. Check them and try again.', stored ? `wrong password for ${request.username}` : `unknown user ${request.username}`);
    }
    return {
      user: { id: request.username, name: request.username },
      project: { id: 'static', name: this.options.siteName },
      admin: this.inventory.admins.has(request.username),
      expiresAt: new Date(Date.now() + SESSION_CEILING_MS),
      auth: { kind: 'static' },
    };
  }

  async logout(session: SessionPayload): Promise<void> {
    // Nothing upstream to revoke; the HTTP layer refuses the token from now on.
    staticUser(session);
  }

  async validate(session: SessionPayload): Promise<void> {
    // The inventory is read at start-up: a user removed from it is gone after the restart that applies it.
    if (!this.inventory.users.has(staticUser(session))) {
      throw new ApiError('session-expired', 'Your session has ended. Please log in again.', `user ${session.user.name} is no longer in the inventory`);
    }
  }

  async listDesktops(session: SessionPayload): Promise<Desktop[]> {
    const user = staticUser(session);
    const mine = this.inventory.desktops.filter((d) => d.users.includes(user));
    const desktops = await Promise.all(mine.map((d) => this.describe(d)));
    return desktops.sort((a, b) => a.name.localeCompare(b.name));
  }

  async getDesktop(session: SessionPayload, id: string): Promise<Desktop> {
    return this.describe(this.entry(session, id));
  }

  async power(session: SessionPayload, id: string, action: PowerAction): Promise<PowerResult> {
    const entry = this.entry(session, id);
    throw new ApiError('conflict', `${entry.name} is not managed by thinkiosk, so it cannot be started, stopped or restarted from here. Ask your administrator.`, `power ${action} refused: static desktop ${id}`);
  }

  async console(session: SessionPayload, id: string, protocol: Protocol, origin: RequestOrigin): Promise<Console> {
    const user = staticUser(session);
    const entry = this.entry(session, id);
    const endpoint = entry.endpoints[protocol];
    if (!endpoint) {
      throw new ApiError('not-ready', `${entry.name} cannot be opened over ${protocol.toUpperCase()}. Available: ${configuredProtocols(entry).map((p) => p.toUpperCase()).join(', ')}.`);
    }
    // No check here: a probe before every connect would double the connections a server sees.
    // The relay (VNC, SPICE) and the kiosk's viewer (RDP) connect for real and say why they could not.
    if (protocol === 'rdp') return { protocol, host: endpoint.host, port: endpoint.port, floatingIpAttached: false };
    const ticket = this.tickets.issue({ host: endpoint.host, port: endpoint.port, protocol, desktop: id, user });
    const url = `${origin.secure ? 'wss' : 'ws'}://${origin.host}/v1/relay/${ticket}`;
    return { protocol, websocketUrl: url, consoleUrl: url, password: endpoint.password ?? null, direct: { host: endpoint.host, port: endpoint.port } };
  }

  /** The user's own desktop with this id; someone else's looks exactly like a missing one. */
  private entry(session: SessionPayload, id: string): InventoryDesktop {
    const user = staticUser(session);
    const entry = this.inventory.desktops.find((d) => d.id === id && d.users.includes(user));
    if (!entry) throw new ApiError('not-found', 'That desktop no longer exists. Refresh the list.', `user ${user} asked for desktop ${id}: not in the inventory for them`);
    return entry;
  }

  private async describe(entry: InventoryDesktop): Promise<Desktop> {
    const states = new Map<Protocol, EndpointStatus>();
    await Promise.all(configuredProtocols(entry).map(async (p) => {
      states.set(p, await this.reachability.status(p, entry.endpoints[p]!));
    }));
    return toStaticDesktop(entry, states);
  }
}

/** A session sealed for another backend (same keys, other configuration) is no session here. */
function staticUser(session: SessionPayload): string {
  if (session.auth.kind !== 'static') {
    throw new ApiError('session-expired', 'Your session has ended. Please log in again.', `a ${session.auth.kind} session was presented to the static backend`);
  }
  return session.user.name;
}
