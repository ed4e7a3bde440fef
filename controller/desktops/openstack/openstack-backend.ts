/**
 * What the shim does with OpenStack on behalf of one logged-in user. Every call uses that user's
 * own Keystone token (from their sealed session): the shim holds no service credentials, so a
 * user can never see or touch more than Keystone and Nova's policies let them.
 */
import { createHash } from 'node:crypto';
import type { Console, Desktop, GuestOs, LoginRequest, PowerAction, PowerResult, Protocol } from '../../../contract/api.js';
import { ApiError } from '../../core/api-error.js';
import { fromOpenStack } from './failures.js';
import type { OpenStackConfig } from '../../core/config.js';
import { addressesOf, desktopPolicyOf, guestOsOf, IGNORED_METADATA, toDesktop, UNKNOWN_OS } from './desktop-mapping.js';
import { FloatingIpManager } from './floating-ips.js';
import { AdmissionGate } from '../admission-gate.js';
import type { Logger } from '../../core/log.js';
import { OpenStackError } from './errors.js';
import { GlanceClient } from './glance.js';
import type { OpenStackHttp } from './http.js';
import { KeystoneClient, type KeystoneToken } from './keystone.js';
import { NeutronClient } from './neutron.js';
import { NovaClient, type NovaServer, type ServerAction } from './nova.js';
import type { BackendKind, DesktopBackend, LoginResult } from '../backend.js';
import type { SessionPayload } from '../../sessions/session-token.js';

const ACTIONS: Record<PowerAction, ServerAction> = {
  start: { 'os-start': null },
  stop: { 'os-stop': null },
  reboot: { reboot: { type: 'SOFT' } },
  'hard-reboot': { reboot: { type: 'HARD' } },
};

/** The parts of a session the OpenStack calls need. */
interface OpenStackSession {
  keystoneToken: string;
  endpoints: { compute: string; image: string; network: string | null };
  user: { id: string; name: string };
}

/** A session sealed for another backend (same keys, other configuration) is no session here. */
function openStackSession(session: SessionPayload): OpenStackSession {
  if (session.auth.kind !== 'keystone') {
    throw new ApiError('session-expired', 'Your session has ended. Please log in again.', `a ${session.auth.kind} session was presented to the OpenStack backend`);
  }
  return { keystoneToken: session.auth.token, endpoints: session.auth.endpoints, user: session.user };
}

export class OpenStackBackend implements DesktopBackend {
  readonly kind: BackendKind = 'openstack';
  private readonly keystone: KeystoneClient;
  private readonly nova: NovaClient;
  private readonly glance: GlanceClient;
  private readonly floatingIps: FloatingIpManager | null;
  /** Image id → guest OS. Shared by all users: it only says what OS an image declares. */
  private readonly osCache = new Map<string, { os: Promise<GuestOs>; until: number }>();
  /** Keystone token digest → until when Keystone's "valid" is believed, or the check in flight. */
  private readonly validTokens = new Map<string, { until: number; check: Promise<boolean> | null }>();
  private readonly loginGate: AdmissionGate;
  private readonly listGate: AdmissionGate;

  /** Servers already logged for carrying thinkiosk: metadata that is no longer read (once each). */
  private readonly warnedServers = new Set<string>();

  constructor(private readonly config: OpenStackConfig, http: OpenStackHttp, private readonly logger: Logger) {
    this.keystone = new KeystoneClient(http, config.authUrl.replace(/\/+$/, ''), config.interface, config.region);
    this.nova = new NovaClient(http);
    this.glance = new GlanceClient(http);
    this.floatingIps = config.floatingIpPool ? new FloatingIpManager(new NeutronClient(http), config.floatingIpPool) : null;
    const queue = { maxWaiting: config.queueLength, maxWaitMs: config.queueSeconds * 1000 };
    this.loginGate = new AdmissionGate({ ...queue, maxInFlight: config.loginConcurrency, service: 'keystone', busyMessage: 'Many people are logging in right now.' });
    this.listGate = new AdmissionGate({ ...queue, maxInFlight: config.listConcurrency, service: 'nova', busyMessage: 'Many people are opening their desktops right now.' });
  }

  async login(request: LoginRequest): Promise<LoginResult> {
    const token = await this.keystoneLogin(request);
    const admin = token.roles.some((role) => this.config.adminRoles.includes(role));
    return { user: token.user, project: token.project, admin, expiresAt: token.expiresAt, auth: { kind: 'keystone', token: token.token, endpoints: token.endpoints } };
  }

  private async keystoneLogin(request: LoginRequest): Promise<KeystoneToken> {
    try {
      return await this.loginGate.run(() => this.keystone.login({
        username: request.username,
        password: request.password,
        domain: request.domain ?? this.config.defaultDomain,
        project: request.project ?? this.config.defaultProject,
      }));
    } catch (error) {
      if (error instanceof OpenStackError && error.service === 'keystone' && (error.kind === 'unauthorized' || error.kind === 'not-found')) {
        throw new ApiError('invalid-credentials', 'Wrong user name or password (or that domain or project does not exist). Check them and try again.', error.message);
      }
      if (error instanceof OpenStackError && error.kind === 'forbidden') {
        throw new ApiError('forbidden', 'Your account has no project with desktops. Ask your administrator.', error.message);
      }
      throw fromOpenStack(error, 'logging you in');
    }
  }

  async logout(sealed: SessionPayload): Promise<void> {
    const session = openStackSession(sealed);
    this.validTokens.delete(tokenDigest(session.keystoneToken));
    try {
      await this.keystone.revoke(session.keystoneToken);
    } catch (error) {
      // Already revoked or expired is what logging out wants anyway. Anything else is logged, not
      // thrown: the session is already refused by every instance (ended-sessions.ts), and the
      // Keystone token expires on its own; the person at the kiosk has nothing to do about it.
      if (error instanceof OpenStackError && (error.kind === 'not-found' || error.kind === 'unauthorized')) return;
      this.logger.log('warn', 'keystone-revoke-failed', { user: session.user.name, error: String(error) });
    }
  }

  async validate(sealed: SessionPayload): Promise<void> {
    const session = openStackSession(sealed);
    const key = tokenDigest(session.keystoneToken);
    const now = Date.now();
    let entry = this.validTokens.get(key);
    if (!entry || (!entry.check && entry.until <= now)) {
      if (this.validTokens.size > 50_000) for (const [k, e] of this.validTokens) if (!e.check && e.until <= now) this.validTokens.delete(k);
      const fresh: { until: number; check: Promise<boolean> | null } = { until: 0, check: null };
      fresh.check = this.keystone.isValid(session.keystoneToken).finally(() => { fresh.check = null; });
      entry = fresh;
      this.validTokens.set(key, entry);
    }
    if (entry.check) {
      let valid: boolean;
      try {
        valid = await entry.check;
      } catch (error) {
        this.validTokens.delete(key);
        throw fromOpenStack(error, 'checking your session');
      }
      if (valid) entry.until = Date.now() + this.config.sessionCheckSeconds * 1000;
      else this.validTokens.delete(key);
      if (!valid) throw expiredByKeystone(session);
      return;
    }
  }

  async listDesktops(sealed: SessionPayload): Promise<Desktop[]> {
    const session = openStackSession(sealed);
    let servers: NovaServer[];
    try {
      servers = await this.listGate.run(() => this.nova.listServers(session.endpoints.compute, session.keystoneToken, this.config.showWholeProject ? undefined : session.user.id));
    } catch (error) {
      throw fromOpenStack(error, 'listing your desktops');
    }
    const desktops = await Promise.all(servers.map(async (s) => this.describe(s, session)));
    return desktops.sort((a, b) => a.name.localeCompare(b.name));
  }

  async getDesktop(sealed: SessionPayload, id: string): Promise<Desktop> {
    const session = openStackSession(sealed);
    return this.describe(await this.server(session, id, 'looking up the desktop'), session);
  }

  async power(sealed: SessionPayload, id: string, action: PowerAction): Promise<PowerResult> {
    const session = openStackSession(sealed);
    const server = await this.server(session, id, `asking to ${action} the desktop`);
    let result: PowerResult;
    try {
      await this.nova.action(session.endpoints.compute, session.keystoneToken, server.id, ACTIONS[action]);
      result = { outcome: 'accepted', message: `${server.name}: ${ACCEPTED[action]}` };
    } catch (error) {
      result = explainConflict(error, server.name, action, server.status);
    }
    if (action === 'stop' && this.floatingIps && session.endpoints.network) {
      try {
        const released = await this.floatingIps.release({ endpoint: session.endpoints.network, token: session.keystoneToken }, server.id);
        if (released.length) this.logger.log('info', 'floating-ip-released', { server: server.id, released });
      } catch (error) {
        // The stop itself worked; a leftover floating IP is an admin's clean-up, not the user's problem.
        this.logger.log('warn', 'floating-ip-release-failed', { server: server.id, error: String(error) });
      }
    }
    return result;
  }

  async console(sealed: SessionPayload, id: string, protocol: Protocol): Promise<Console> {
    const session = openStackSession(sealed);
    const server = await this.server(session, id, 'opening the desktop');
    requireActive(server);
    const desktop = await this.describe(server, session);
    if (!desktop.protocols.includes(protocol)) {
      throw new ApiError('not-ready', `${server.name} cannot be opened over ${protocol.toUpperCase()}. Available: ${desktop.protocols.map((p) => p.toUpperCase()).join(', ') || 'none'}.`);
    }
    if (protocol === 'rdp') return this.rdpTarget(session, server);
    try {
      const url = await this.nova.remoteConsole(session.endpoints.compute, session.keystoneToken, server.id, protocol, protocol === 'vnc' ? 'novnc' : 'spice-html5');
      return { protocol, consoleUrl: url, websocketUrl: websocketUrlOf(url), password: null, direct: null };
    } catch (error) {
      if (error instanceof OpenStackError && (error.kind === 'bad-request' || error.kind === 'conflict' || error.kind === 'server-error')) {
        throw new ApiError('not-ready', `The cloud refused a ${protocol.toUpperCase()} console for ${server.name}. Try again, or ask your administrator.`, error.message, { service: 'nova' });
      }
      throw fromOpenStack(error, 'opening the desktop');
    }
  }

  /**
   * RDP goes straight to the guest, to one of the server's own addresses (floating, then fixed):
   * the kiosk types the person's password into that connection, so the target is never taken from
   * anything a project member can write (server metadata, accessIPv4). The port comes from the
   * flavor's extra specs (admin-only) or the controller's configuration.
   */
  private async rdpTarget(session: OpenStackSession, server: NovaServer): Promise<Console> {
    const validPort = desktopPolicyOf(server).rdpPort ?? this.config.rdpPort;
    const addresses = addressesOf(server);
    const floating = addresses.find((a) => a.kind === 'floating');
    if (floating) return { protocol: 'rdp', host: floating.ip, port: validPort, floatingIpAttached: false };
    if (this.floatingIps && session.endpoints.network) {
      try {
        const fip = await this.floatingIps.ensure({ endpoint: session.endpoints.network, token: session.keystoneToken }, server.id);
        if (fip) return { protocol: 'rdp', host: fip.ip, port: validPort, floatingIpAttached: fip.attached };
      } catch (error) {
        throw fromOpenStack(error, 'getting a network address for the desktop');
      }
    }
    const fixed = addresses.find((a) => a.version === 4) ?? addresses[0];
    if (fixed) return { protocol: 'rdp', host: fixed.ip, port: validPort, floatingIpAttached: false };
    throw new ApiError('not-ready', `${server.name} has no network address to connect to. Ask your administrator.`);
  }

  private async server(session: OpenStackSession, id: string, context: string): Promise<NovaServer> {
    let server: NovaServer;
    try {
      server = await this.nova.getServer(session.endpoints.compute, session.keystoneToken, id);
    } catch (error) {
      throw fromOpenStack(error, context);
    }
    // Nova lets project members read each other's servers: the shim keeps users to their own.
    if (!this.config.showWholeProject && server.user_id !== session.user.id) {
      throw new ApiError('not-found', 'That desktop no longer exists. Refresh the list.', `user ${session.user.id} asked for server ${id} owned by ${server.user_id}`);
    }
    return server;
  }

  private async describe(server: NovaServer, session: OpenStackSession): Promise<Desktop> {
    this.noticeIgnoredMetadata(server);
    const imageId = server.image && typeof server.image === 'object' ? server.image.id : null;
    const os = imageId ? await this.guestOs(session, imageId) : UNKNOWN_OS;
    return toDesktop(server, os, { consoleProtocols: this.config.consoleProtocols });
  }

  /**
   * Older setups steered desktops with server metadata, which any member of the project can set on
   * a colleague's server; it is ignored now, and said so once per server so an admin can move it
   * to the flavor.
   */
  private noticeIgnoredMetadata(server: NovaServer): void {
    if (this.warnedServers.has(server.id) || this.warnedServers.size > 10_000) return;
    const keys = Object.keys(server.metadata).filter((k) => IGNORED_METADATA.test(k));
    if (!keys.length) return;
    this.warnedServers.add(server.id);
    this.logger.log('warn', 'server-metadata-ignored', { server: server.id, keys, advice: 'set thinkiosk:protocol / thinkiosk:usb / thinkiosk:rdp_port as flavor extra specs' });
  }

  private guestOs(session: OpenStackSession, imageId: string): Promise<GuestOs> {
    const now = Date.now();
    const cached = this.osCache.get(imageId);
    if (cached && cached.until > now) return cached.os;
    const os = this.glance.getImage(session.endpoints.image, session.keystoneToken, imageId).then(guestOsOf, (error: unknown) => {
      // A deleted image (404) really is unknown; anything else is passing, so do not cache it.
      if (!(error instanceof OpenStackError && error.kind === 'not-found')) this.osCache.delete(imageId);
      this.logger.log('warn', 'guest-os-unknown', { image: imageId, error: String(error) });
      return UNKNOWN_OS;
    });
    this.osCache.set(imageId, { os, until: now + this.config.imageCacheSeconds * 1000 });
    return os;
  }
}

function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

function expiredByKeystone(session: OpenStackSession): ApiError {
  return new ApiError('session-expired', 'Your session has ended. Please log in again.', `Keystone no longer accepts the token of ${session.user.name} (disabled, password changed, or revoked)`);
}

const ACCEPTED: Record<PowerAction, string> = {
  start: 'starting.',
  stop: 'shutting down.',
  reboot: 'restarting.',
  'hard-reboot': 'restarting (forced).',
};

function requireActive(server: NovaServer): void {
  if (server.status === 'ACTIVE') return;
  const messages: Record<string, string> = {
    SHUTOFF: `${server.name} is shut off. Start it first, then connect.`,
    BUILD: `${server.name} is still being created. Try again in a minute.`,
    ERROR: `${server.name} is in an error state${server.fault?.message ? ` (${server.fault.message})` : ''}. Ask your administrator.`,
    PAUSED: `${server.name} is paused. Ask your administrator to resume it.`,
    SUSPENDED: `${server.name} is suspended. Ask your administrator to resume it.`,
  };
  const busy = `${server.name} is busy (${server.status.toLowerCase()}). Try again in a moment.`;
  // Nova answers 200 with a console URL even for a SHUTOFF server; that URL then fails. Refuse here.
  throw new ApiError('not-ready', messages[server.status] ?? busy, `console refused: server ${server.id} is ${server.status}`);
}

/**
 * Nova's 409 text usually names the state; turn "already so" into a calm answer and the rest into
 * advice. A server that never got a host (ERROR) only says "is not ready", so its status decides.
 */
export function explainConflict(error: unknown, name: string, action: PowerAction, status?: string): PowerResult {
  if (!(error instanceof OpenStackError) || error.kind !== 'conflict') throw fromOpenStack(error, `asking to ${action} ${name}`);
  if (status === 'ERROR') {
    throw new ApiError('conflict', `${name} is in an error state and cannot ${action}. Ask your administrator.`, error.message, { service: 'nova' });
  }
  const vmState = /vm_state (\w+)/.exec(error.serviceMessage)?.[1];
  const taskState = /task_state ([\w-]+)/.exec(error.serviceMessage)?.[1];
  if (taskState && taskState !== 'None') {
    throw new ApiError('conflict', `${name} is busy (${taskState.replace(/_/g, ' ')}). Wait a moment and try again.`, error.message, { service: 'nova' });
  }
  if (action === 'start' && vmState === 'active') return { outcome: 'unchanged', message: `${name} is already running.` };
  if (action === 'stop' && vmState === 'stopped') return { outcome: 'unchanged', message: `${name} is already shut off.` };
  if (vmState === 'stopped') throw new ApiError('conflict', `${name} is shut off. Start it instead.`, error.message, { service: 'nova' });
  if (vmState === 'error') throw new ApiError('conflict', `${name} is in an error state and cannot ${action}. Ask your administrator.`, error.message, { service: 'nova' });
  throw new ApiError('conflict', `${name} cannot ${action} right now (${vmState ?? 'busy'}). Wait a moment and try again.`, error.message, { service: 'nova' });
}

/** Nova's console page URL → the websocket its proxy serves (`/?token=…`, subprotocol `binary`). */
export function websocketUrlOf(consoleUrl: string): string {
  const url = new URL(consoleUrl);
  let token = url.searchParams.get('token');
  const path = url.searchParams.get('path'); // noVNC form: vnc_auto.html?path=%3Ftoken%3D…
  if (!token && path) token = new URLSearchParams(path.replace(/^[^?]*\?/, '')).get('token');
  if (!token) throw new ApiError('upstream-error', 'The cloud returned a console address the kiosk cannot use. Tell your administrator.', `no token in console URL ${consoleUrl}`);
  const ws = new URL('/', url);
  ws.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  ws.searchParams.set('token', token);
  return ws.toString();
}
