/**
 * Everything the kiosk page can ask for, behind one `call(method, args)`: both shells (Electron IPC
 * and the browser shell's HTTP) dispatch here. It owns the in-memory login session (the password
 * stays in memory only, for single sign-on into RDP desktops, and is dropped at logout), idle
 * logout (also while a native viewer has the screen: its X display's input idle time counts), the
 * admin unlock (PIN, first-start claim, or a site administrator's sign-in on a kiosk without a PIN;
 * it ends after minutes without use and when a user session begins), protocol choice and starting
 * in-app or native viewers. Arguments are validated with the schemas of kiosk-api.ts; every failure
 * comes back as a KioskError the page shows as it is.
 */
import { randomBytes } from 'node:crypto';
import { chooseProtocol, type ClientFamily } from '../../contract/protocol.js';
import type { Desktop, Protocol } from '../../contract/api.js';
import { ControllerClient, ControllerError, normaliseControllerUrl } from './controller-client.js';
import { KioskConsoleRelay } from './kiosk-console-relay.js';
import {
  ADMIN_METHODS, isKioskMethod, KIOSK_METHODS, type AdminAccess, type Connection, type KioskArgs, type KioskBackend, type KioskError,
  type FleetView, type KioskEvent, type KioskMethod, type KioskState, type KioskValue, type Language, type NativeCause, type NativeOutcome, type Result,
} from './kiosk-api.js';
import type { Settings } from './settings.js';
import type { KioskUpdates } from './update/kiosk-updates.js';

/** Who sits at the kiosk, for the fleet (never a password or a token). */
export interface Seat {
  user: string;
  /** The desktop last opened in this session, and how. */
  desktop: string | null;
  protocol: Protocol | null;
  since: Date;
}

/** The native viewer launcher as the service uses it (app/core/native/ implements it). */
export interface NativeViewerSession {
  readonly id: string;
  readonly protocol: 'rdp' | 'spice';
  readonly started: Promise<void>;
  readonly result: Promise<{ outcome: NativeOutcome; message: string; cause?: NativeCause; detail?: string }>;
  stop(): Promise<void>;
  sendCtrlAltDel(): Promise<void>;
}
export interface NativeViewers {
  startRdp(target: { host: string; port: number; username: string; password: string; domain?: string; usb: boolean; sound: boolean; fullscreen: boolean }): NativeViewerSession;
  startSpice(target: { host: string; port: number; password: string | null; usb: boolean; fullscreen: boolean }): NativeViewerSession;
  stopAll(): Promise<void>;
  /** Milliseconds since the last keyboard or mouse input on the viewers' display; throws when that cannot be known. */
  inputIdleMs(): Promise<number>;
}

/** Admin-only system work (app/core/system/ implements it); each method may throw a KioskError-like error. */
export type AdminTools = {
  [M in AdminToolMethod]: (args: KioskArgs<M>) => Promise<KioskValue<M>>;
} & { lockAll(): Promise<void>; verifyPin(pin: string, hash: string): Promise<boolean>; hashPin(pin: string): Promise<string> };
type AdminToolMethod = 'networkStatus' | 'wifiScan' | 'wifiConnect' | 'audioOutputs' | 'setAudioOutput' | 'displayOutputs' | 'setDisplayMode'
  | 'diagnostics' | 'logs' | 'terminalOpen' | 'terminalInput' | 'terminalResize' | 'terminalClose' | 'bootServerStatus' | 'setBootServer';

export interface KioskServiceOptions {
  settings: Settings;
  native: NativeViewers;
  admin: AdminTools;
  relay: KioskConsoleRelay;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  presetProblem?: string | null;
  clientFamily?: ClientFamily;
  systemLanguage?: Language;
  bootSource?: string;
  /** Netbooted (THINKIOSK_BOOT_SOURCE set): fresh on every boot, so the first-start claim is never offered. */
  netbooted?: boolean;
  /** The admin screen locks itself after this long without admin calls or page activity (default 180 s). */
  adminIdleSeconds?: number;
  /** The preset's auto_connect: read from the boot partition at every start, never saved. */
  autoConnect?: string | null;
  /** Called once, when the page first asks for the state (it has loaded and runs). */
  onPageLoaded?: () => void;
  /** Viewers full screen (the appliance) or windowed (development, tests). */
  fullscreenViewers?: boolean;
  /** Root's update service as the admin screen reaches it; without it the Update tab says updates are not available. */
  updates?: KioskUpdates;
}

interface LoginSession {
  client: ControllerClient;
  token: string;
  user: string;
  project: string;
  expiresAt: Date;
  /** Kept in memory only, for RDP single sign-on; never logged, never written. */
  password: string;
  domain: string | undefined;
  since: Date;
  lastDesktop: { name: string; protocol: Protocol } | null;
  /** Each desktop's protocols and the one chosen, in the list last shown: a connect asks for its console at once. */
  listed: Map<string, { protocol: Protocol | null; protocols: Protocol[] }>;
}

/** What a PIN may be (kiosk-api's adminSetPin and the preset's admin_pin say the same). */
const PIN = /^\d{4,12}$/;
/** Admin calls that are only the page polling: they do not keep the admin screen unlocked. */
const ADMIN_POLLS: ReadonlySet<KioskMethod> = new Set<KioskMethod>(['bootServerStatus', 'updateStatus']);
const DEFAULT_ADMIN_IDLE_SECONDS = 180;
/** How long the login screen says why the kiosk ended the last session: for the person coming back to it. */
const SESSION_END_NOTICE_MS = 5 * 60_000;
/** Between tries to learn the controller's name: quickly while the network comes up, then twice a minute. */
const NAME_RETRY_DELAYS_MS = [1000, 2000, 5000, 10_000, 30_000];

class KioskFailure extends Error {
  constructor(readonly kind: KioskError['kind'], message: string, readonly detail = message) {
    super(message);
  }
}

export class KioskService implements KioskBackend {
  private session: LoginSession | null = null;
  private adminUnlocked = false;
  private adminTimer: NodeJS.Timeout | undefined;
  /** The login screen's language switch: for the person at the kiosk now, dropped when their session ends. */
  private languageOverride: Language | null = null;
  private pageLoaded = false;
  /**
   * Why the last session ended when the kiosk ended it (idle, expiry): the browser shell restarts
   * Chromium at every session end, so the fresh page learns it from the state, not from the event.
   */
  private kioskEnded: { reason: 'idle' | 'expired'; at: number } | null = null;
  private idleTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  /** Last input the page reported (or the viewers' display showed) during the session. */
  private lastActivityAt = 0;
  /** Said once per session: idle logout cannot see input to the viewers. */
  private idleBlindLogged = false;
  private readonly listeners = new Set<(event: KioskEvent) => void>();
  private readonly nativeSessions = new Map<string, NativeViewerSession>();
  private autoConnect: string | null;
  private fleetView: (() => FleetView | null) | null = null;
  private closed = false;
  private nameRetryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: KioskServiceOptions) {
    this.autoConnect = options.autoConnect ?? null;
  }

  /** The fleet agent's view for the admin screen (app/core/fleet). */
  attachFleet(view: () => FleetView | null): void {
    this.fleetView = view;
  }

  /** Who is logged in now, and at which desktop; null at the login screen. */
  seat(): Seat | null {
    const session = this.session;
    return session ? { user: session.user, desktop: session.lastDesktop?.name ?? null, protocol: session.lastDesktop?.protocol ?? null, since: session.since } : null;
  }

  /** Ends the current person's session as their own logout does (the fleet's logout command); false when nobody was logged in. */
  async logOutPerson(): Promise<boolean> {
    if (!this.session) return false;
    await this.endSession('logout');
    return true;
  }

  /** The desktop opened right after login (a preset's or the fleet's auto_connect); null for none. */
  setAutoConnect(value: string | null): void {
    this.autoConnect = value;
  }

  subscribe(listener: (event: KioskEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async call(method: string, args: unknown): Promise<Result<unknown>> {
    if (!isKioskMethod(method)) return { ok: false, error: { kind: 'bad-request', message: 'Unknown request.' } };
    const [argsSchema] = KIOSK_METHODS[method];
    const parsed = argsSchema.safeParse(args ?? {});
    if (!parsed.success) {
      return { ok: false, error: { kind: 'invalid-input', message: firstIssue(parsed.error.issues) } };
    }
    if (ADMIN_METHODS.has(method)) {
      const refusal = this.adminRefusal(method);
      if (refusal) return { ok: false, error: refusal };
      if (!ADMIN_POLLS.has(method)) this.touchAdmin();
    }
    try {
      const value = await (this.handlers[method] as (a: unknown) => Promise<unknown>)(parsed.data);
      return { ok: true, value };
    } catch (error) {
      return { ok: false, error: this.explain(error, method) };
    }
  }

  /** Ends everything this service started (shell shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.nameRetryTimer);
    this.clearTimers();
    if (this.adminTimer) clearTimeout(this.adminTimer);
    this.options.relay.closeAll();
    await this.options.native.stopAll();
    await this.options.admin.lockAll();
  }

  private readonly handlers: { [M in KioskMethod]: (args: KioskArgs<M>) => Promise<KioskValue<M>> } = {
    state: async () => {
      // The page asks for the state first thing after it loaded: that is "the kiosk is up".
      if (!this.pageLoaded) {
        this.pageLoaded = true;
        this.options.onPageLoaded?.();
      }
      return this.state();
    },
    checkController: async ({ url }) => this.clientFor(url).identity(),
    claimKiosk: async ({ url, pin }) => {
      if (this.adminAccess() !== 'claim') throw this.claimRefused();
      if (!PIN.test(pin)) throw new KioskFailure('invalid-input', 'Choose an admin PIN of 4 to 12 digits.');
      const client = this.clientFor(url);
      const identity = await client.identity();
      const adminPinHash = await this.options.admin.hashPin(pin);
      // Checked again after the waits: of two claims at once, only the first one saves.
      if (this.adminAccess() !== 'claim') throw this.claimRefused();
      this.options.settings.update({ controllerUrl: client.baseUrl.toString(), controllerName: identity.name, controllerBackend: identity.backend, adminPinHash });
      this.options.log('info', `kiosk set up: controller ${client.baseUrl} (${identity.name}, ${identity.backend} ${identity.version}) and an admin PIN`);
      return this.state();
    },
    saveController: async ({ url }) => {
      const client = this.clientFor(url);
      const identity = await client.identity();
      await this.endSession('logout');
      this.options.settings.update({ controllerUrl: client.baseUrl.toString(), controllerName: identity.name, controllerBackend: identity.backend });
      this.options.log('info', `controller set to ${client.baseUrl} (${identity.name}, ${identity.backend} ${identity.version})`);
      return this.state();
    },
    login: async ({ username, password, domain }) => {
      const client = this.currentClient();
      if (!username.trim() || !password) throw new KioskFailure('invalid-input', 'Enter your user name and password.');
      const session = await client.login({ username: username.trim(), password, ...(domain ? { domain } : {}) });
      await this.endSession('logout');
      // A person's session and an unlocked admin screen never overlap: the next person cannot inherit it.
      await this.lockAdmin('session');
      this.session = {
        client, token: session.token, user: session.user.name, project: session.project.name,
        expiresAt: new Date(session.expiresAt), password, domain, since: new Date(), lastDesktop: null, listed: new Map(),
      };
      this.lastActivityAt = Date.now();
      this.idleBlindLogged = false;
      this.kioskEnded = null;
      this.options.log('info', `login: ${session.user.name} (${session.project.name}) until ${session.expiresAt}`);
      this.armTimers();
      return this.state();
    },
    logout: async () => {
      await this.endSession('logout');
      return this.state();
    },
    activity: async () => {
      if (this.session) {
        this.lastActivityAt = Date.now();
        this.armIdleTimer();
      }
      if (this.adminUnlocked) this.touchAdmin();
      return {};
    },
    desktops: async () => {
      const session = this.requireSession();
      const desktops = await this.withSession(session, () => session.client.desktops(session.token));
      const rows = desktops.map((desktop) => ({ ...desktop, protocol: this.protocolFor(desktop) }));
      session.listed = new Map(rows.map((row) => [row.id, { protocol: row.protocol, protocols: row.protocols }]));
      return { desktops: rows };
    },
    power: async ({ id, action }) => {
      const session = this.requireSession();
      const result = await this.withSession(session, () => session.client.power(session.token, id, action));
      this.options.log('info', `power ${action} ${id}: ${result.outcome}`);
      return { message: result.message };
    },
    connect: async ({ id, protocol }) => {
      // Opening a desktop is the person's own doing (the page's activity reports are throttled):
      // idle time counts from here, so a viewer that is slow to start is not already "idle".
      if (this.session) {
        this.lastActivityAt = Date.now();
        this.armIdleTimer();
      }
      return this.connect(id, protocol);
    },
    disconnect: async ({ sessionId }) => {
      await this.nativeSessions.get(sessionId)?.stop();
      return {};
    },
    sendCtrlAltDel: async ({ sessionId }) => {
      const viewer = this.nativeSessions.get(sessionId);
      if (!viewer) throw new KioskFailure('not-found', 'That connection has already ended.');
      await viewer.sendCtrlAltDel();
      return {};
    },
    setLanguage: async ({ language }) => {
      this.languageOverride = language;
      return this.state();
    },
    adminUnlock: async ({ pin }) => {
      this.refuseDuringSession();
      const hash = this.options.settings.read().adminPinHash;
      if (!hash) throw this.noPinYet();
      if (!(await this.options.admin.verifyPin(pin, hash))) {
        this.options.log('warn', 'admin: wrong PIN');
        throw new KioskFailure('locked', 'Wrong PIN.');
      }
      this.refuseDuringSession();
      this.unlockAdmin();
      this.options.log('info', 'admin: unlocked with the PIN');
      return {};
    },
    adminSignIn: async ({ username, password, domain }) => {
      this.refuseDuringSession();
      if (this.adminAccess() !== 'controller-admin') throw this.options.settings.read().adminPinHash ? new KioskFailure('locked', 'This kiosk has an admin PIN: enter it instead.') : this.noPinYet();
      if (!username.trim() || !password) throw new KioskFailure('invalid-input', 'Enter the site administrator\'s user name and password.');
      const client = this.currentClient();
      const signedIn = await client.login({ username: username.trim(), password, ...(domain ? { domain } : {}) });
      // Only the answer "is an administrator" is needed: the session ends at once and is never a user's session.
      await client.logout(signedIn.token).catch((error: unknown) => this.options.log('warn', `admin sign-in: logout at controller failed: ${String(error)}`));
      if (!signedIn.admin) {
        this.options.log('warn', `admin sign-in refused: ${signedIn.user.name} is not a site administrator`);
        throw new KioskFailure('forbidden', `${signedIn.user.name} is not an administrator of this site, so this kiosk's admin PIN cannot be set with that account. Ask your site administrator.`);
      }
      this.refuseDuringSession();
      if (this.adminAccess() !== 'controller-admin') throw new KioskFailure('locked', 'This kiosk has an admin PIN now: enter it instead.');
      this.unlockAdmin();
      this.options.log('info', `admin: ${signedIn.user.name} (site administrator) signed in to set the admin PIN`);
      return this.state();
    },
    adminLock: async () => {
      await this.lockAdmin('left');
      return {};
    },
    adminSetPin: async ({ pin }) => {
      const hadPin = this.options.settings.read().adminPinHash !== null;
      this.options.settings.update({ adminPinHash: await this.options.admin.hashPin(pin) });
      this.options.log('info', hadPin ? 'admin: PIN changed' : 'admin: PIN set');
      return this.state();
    },
    adminSetLanguage: async ({ language }) => {
      this.options.settings.update({ language });
      this.languageOverride = null;
      return this.state();
    },
    adminSetIdleLogout: async ({ seconds }) => {
      this.options.settings.update({ idleLogoutSeconds: seconds });
      if (this.session) this.armIdleTimer();
      return this.state();
    },
    networkStatus: (a) => this.options.admin.networkStatus(a),
    wifiScan: (a) => this.options.admin.wifiScan(a),
    wifiConnect: (a) => this.options.admin.wifiConnect(a),
    audioOutputs: (a) => this.options.admin.audioOutputs(a),
    setAudioOutput: (a) => this.options.admin.setAudioOutput(a),
    displayOutputs: (a) => this.options.admin.displayOutputs(a),
    setDisplayMode: (a) => this.options.admin.setDisplayMode(a),
    diagnostics: (a) => this.options.admin.diagnostics(a),
    logs: (a) => this.options.admin.logs(a),
    terminalOpen: (a) => this.options.admin.terminalOpen(a),
    terminalInput: (a) => this.options.admin.terminalInput(a),
    terminalResize: (a) => this.options.admin.terminalResize(a),
    terminalClose: (a) => this.options.admin.terminalClose(a),
    bootServerStatus: (a) => this.options.admin.bootServerStatus(a),
    setBootServer: (a) => this.options.admin.setBootServer(a),
    updateStatus: async () => this.updates().view(),
    updateInstall: async (request) => {
      const view = this.updates().request(request);
      this.options.log('info', `update: asked the update service to install ${request.source === 'url' ? `from ${request.url}` : 'from a USB stick'}`);
      return view;
    },
  };

  private updates(): KioskUpdates {
    if (!this.options.updates) throw new KioskFailure('system', 'Updates are not available in this kiosk.');
    return this.options.updates;
  }

  state(): KioskState {
    const settings = this.options.settings.read();
    return {
      controller: settings.controllerUrl
        ? { url: settings.controllerUrl, name: settings.controllerName ?? settings.controllerUrl, backend: settings.controllerBackend ?? 'openstack' }
        : null,
      presetProblem: this.options.presetProblem ?? null,
      language: this.languageOverride ?? settings.language ?? this.options.systemLanguage ?? 'en',
      clientFamily: this.clientFamily,
      session: this.session ? { user: this.session.user, project: this.session.project, expiresAt: this.session.expiresAt.toISOString() } : null,
      idleLogoutSeconds: settings.idleLogoutSeconds,
      adminPinSet: settings.adminPinHash !== null,
      adminAccess: this.adminAccess(),
      adminUnlocked: this.adminUnlocked,
      netbooted: this.netbooted,
      bootSource: this.options.bootSource ?? 'local disk',
      autoConnect: this.autoConnect,
      lastSessionEnded: this.kioskEnded && Date.now() - this.kioskEnded.at < SESSION_END_NOTICE_MS ? this.kioskEnded.reason : null,
      fleet: this.fleetView?.() ?? null,
    };
  }

  /**
   * A controller set by the preset file has no name yet: ask it in the background, so the login
   * screen can say whose desktops these are. The kiosk starts before the network is up (it does not
   * wait for it, to show its screen sooner), so a first try often fails: keep asking, less and less
   * often, until the controller answers, another controller is chosen, or the kiosk closes; the page
   * is told when the name arrives. Resolves after the first try.
   */
  async learnControllerName(retryDelaysMs: readonly number[] = NAME_RETRY_DELAYS_MS): Promise<void> {
    if (await this.askControllerName(true)) return;
    void (async () => {
      for (let attempt = 0; !this.closed; attempt++) {
        const delay = retryDelaysMs[Math.min(attempt, retryDelaysMs.length - 1)] ?? 30_000;
        await new Promise((resolve) => { this.nameRetryTimer = setTimeout(resolve, delay); });
        if (this.closed || (await this.askControllerName(false))) return;
      }
    })();
  }

  /** One try at the controller's name; true when there is nothing left to ask (named, or no controller). */
  private async askControllerName(warn: boolean): Promise<boolean> {
    const settings = this.options.settings.read();
    if (!settings.controllerUrl || settings.controllerName) return true;
    try {
      const identity = await this.clientFor(settings.controllerUrl).identity();
      // Another controller chosen meanwhile: that one is asked on the next try.
      if (this.options.settings.read().controllerUrl !== settings.controllerUrl) return false;
      this.options.settings.update({ controllerName: identity.name, controllerBackend: identity.backend });
      this.emit({ type: 'settings-changed' });
      return true;
    } catch (error) {
      if (warn) this.options.log('warn', `controller ${settings.controllerUrl} not identified yet (asking again until it answers): ${error instanceof ControllerError ? error.detail : String(error)}`);
      return false;
    }
  }

  /** Pushes an event to every page listening (used by the admin tools for terminal output). */
  emit(event: KioskEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private get clientFamily(): ClientFamily {
    return this.options.clientFamily ?? (process.platform === 'win32' ? 'windows' : 'linux');
  }

  private protocolFor(desktop: Desktop): Protocol | null {
    return chooseProtocol({ guest: desktop.guestOs.family, client: this.clientFamily, override: desktop.policy.protocolOverride, available: desktop.protocols });
  }

  private async connect(id: string, requested: Protocol | undefined): Promise<Connection> {
    const session = this.requireSession();
    // The desktop's fresh record decides the protocol, but the list the person clicked in almost
    // always agrees: its console is asked for at the same time (one round trip to the controller
    // instead of two before the viewer starts), and asked for again only if the record disagrees.
    const listed = session.listed.get(id);
    const guess = listed ? requested ?? listed.protocol : null;
    const early = guess && listed?.protocols.includes(guess) ? this.withSession(session, () => session.client.console(session.token, id, guess)) : null;
    early?.catch(() => undefined); // awaited below, or not needed
    const desktop = await this.withSession(session, () => session.client.desktop(session.token, id));
    const protocol = requested ?? this.protocolFor(desktop);
    if (!protocol || !desktop.protocols.includes(protocol)) {
      throw new KioskFailure('not-ready', `${desktop.name} offers no remote-desktop protocol this kiosk can use. Tell your administrator.`);
    }
    const console = early && protocol === guess ? await early : await this.withSession(session, () => session.client.console(session.token, id, protocol));
    // The person may have logged out (or been logged out) while the controller answered: nothing
    // opens then, least of all a viewer signed in with their password in front of the next person.
    if (this.session !== session) throw new KioskFailure('session-expired', 'Please log in.');
    session.lastDesktop = { name: desktop.name, protocol: console.protocol };
    const fullscreen = this.options.fullscreenViewers ?? true;
    if (console.protocol === 'rdp') {
      return this.supervise(desktop, 'rdp', this.options.native.startRdp({
        host: console.host, port: console.port, username: session.user, password: session.password,
        ...(session.domain ? { domain: session.domain } : {}), usb: desktop.policy.usbRedirection, sound: true, fullscreen,
      }));
    }
    const wantsNativeSpice = console.protocol === 'spice' && desktop.policy.usbRedirection && this.options.settings.read().nativeSpiceForUsb && console.direct;
    if (wantsNativeSpice && console.direct) {
      return this.supervise(desktop, 'spice', this.options.native.startSpice({
        host: console.direct.host, port: console.direct.port, password: console.password, usb: true, fullscreen,
      }));
    }
    this.options.log('info', `connect ${desktop.name} (${console.protocol}, in-app)`);
    return { kind: 'in-app', protocol: console.protocol, relayPath: this.options.relay.open(console.websocketUrl, { reusable: console.protocol === 'spice' }), password: console.password, desktopName: desktop.name };
  }

  private supervise(desktop: Desktop, protocol: 'rdp' | 'spice', viewer: NativeViewerSession): Connection {
    this.nativeSessions.set(viewer.id, viewer);
    this.options.log('info', `connect ${desktop.name} (${protocol}, native viewer ${viewer.id})`);
    viewer.started.then(() => this.emit({ type: 'native-started', sessionId: viewer.id }), () => undefined);
    void viewer.result.then(({ outcome, message, cause, detail }) => {
      this.nativeSessions.delete(viewer.id);
      this.options.log(outcome === 'ended' ? 'info' : 'warn', `viewer ${viewer.id} for ${desktop.name}: ${outcome}: ${message}${detail ? ` (${detail})` : ''}`);
      this.emit({ type: 'native-ended', sessionId: viewer.id, outcome, message, ...(cause ? { cause } : {}) });
    });
    return { kind: 'native', protocol, sessionId: viewer.id, desktopName: desktop.name };
  }

  private clientFor(url: string): ControllerClient {
    normaliseControllerUrl(url); // throws the friendly invalid-input error before anything else
    const caFile = this.options.settings.read().caFile;
    return new ControllerClient(url, { ...(caFile ? { caFile } : {}), bootSource: this.options.bootSource ?? 'local disk' });
  }

  private currentClient(): ControllerClient {
    const url = this.options.settings.read().controllerUrl;
    if (!url) throw new KioskFailure('not-configured', 'Set the controller address first.');
    return this.clientFor(url);
  }

  private requireSession(): LoginSession {
    if (!this.session) throw new KioskFailure('session-expired', 'Please log in.');
    return this.session;
  }

  /** A controller that says the session is over ends it here too, and the page goes to login. */
  private async withSession<T>(session: LoginSession, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof ControllerError && error.kind === 'session-expired' && this.session === session) {
        await this.endSession('expired');
      }
      throw error;
    }
  }

  private armTimers(): void {
    this.clearTimers();
    const session = this.session;
    if (!session) return;
    const msLeft = Math.max(0, session.expiresAt.getTime() - Date.now());
    // setTimeout overflows past ~24.8 days; sessions are hours long, but stay safe.
    this.expiryTimer = setTimeout(() => void this.endSession('expired'), Math.min(msLeft, 2 ** 31 - 1));
    this.expiryTimer.unref();
    this.armIdleTimer();
  }

  /** Checks for idleness after `delayMs` (default: the whole idle limit from now). */
  private armIdleTimer(delayMs?: number): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const seconds = this.options.settings.read().idleLogoutSeconds;
    if (seconds <= 0) return;
    this.idleTimer = setTimeout(() => void this.checkIdle(), Math.max(250, delayMs ?? seconds * 1000));
    this.idleTimer.unref();
  }

  /**
   * Idle is the shorter of: time since the page last reported input, and time since the last input
   * on the viewers' X display. The page cannot see keys and clicks that go to xfreerdp or
   * remote-viewer, but that display's X server counts them; it also keeps a person who just closed
   * a viewer after working in it from being logged out at once.
   */
  private async checkIdle(): Promise<void> {
    const session = this.session;
    const limitMs = this.options.settings.read().idleLogoutSeconds * 1000;
    if (!session || limitMs <= 0) return;
    let displayIdleMs: number | null = null;
    try {
      displayIdleMs = await this.options.native.inputIdleMs();
    } catch (error) {
      if (this.nativeSessions.size > 0 && !this.idleBlindLogged) {
        this.idleBlindLogged = true;
        this.options.log('warn', `idle logout cannot see input to the viewer (${error instanceof Error ? error.message : String(error)}): the session stays while a viewer is open`);
      }
    }
    if (this.session !== session) return;
    const now = Date.now();
    if (displayIdleMs !== null) this.lastActivityAt = Math.max(this.lastActivityAt, now - displayIdleMs);
    // Blind to the viewer's input: a viewer open counts as in use, as before.
    else if (this.nativeSessions.size > 0) this.lastActivityAt = now;
    const idleMs = now - this.lastActivityAt;
    if (idleMs >= limitMs - 100) {
      this.options.log('info', `idle for ${Math.round(idleMs / 1000)} s${this.nativeSessions.size ? ' with a viewer open' : ''}: logging ${session.user} out`);
      await this.endSession('idle');
    } else {
      this.armIdleTimer(limitMs - idleMs);
    }
  }

  private clearTimers(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.idleTimer = this.expiryTimer = undefined;
  }

  private async endSession(reason: 'expired' | 'idle' | 'logout'): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.session = null;
    this.clearTimers();
    this.options.relay.closeAll();
    await this.options.native.stopAll();
    // Revoke at the controller; if it is unreachable the token still expires on its own.
    if (reason !== 'expired') {
      await session.client.logout(session.token).catch((error: unknown) => this.options.log('warn', `logout at controller failed: ${String(error)}`));
    }
    // The next person's login screen is in the kiosk's own language again.
    this.languageOverride = null;
    this.options.log('info', `session of ${session.user} ended (${reason})`);
    this.kioskEnded = reason === 'logout' ? null : { reason, at: Date.now() };
    this.emit({ type: 'session-ended', reason });
  }

  private get netbooted(): boolean {
    return this.options.netbooted ?? false;
  }

  private adminAccess(): AdminAccess {
    const settings = this.options.settings.read();
    if (settings.adminPinHash) return 'pin';
    if (settings.controllerUrl) return 'controller-admin';
    return this.netbooted ? 'none' : 'claim';
  }

  /** Why an admin method may not run now, or null when it may. */
  private adminRefusal(method: KioskMethod): KioskError | null {
    const access = this.adminAccess();
    // The first-start form checks an address before saving it with the new PIN.
    if (method === 'checkController' && access === 'claim') return null;
    if (!this.adminUnlocked) {
      return { kind: 'locked', message: access === 'controller-admin' ? 'A site administrator must sign in first.' : 'Enter the admin PIN first.' };
    }
    // A site administrator's sign-in opens the way to setting the PIN, and only that.
    if (access !== 'pin' && method !== 'adminSetPin') return { kind: 'locked', message: 'Set the admin PIN first.' };
    return null;
  }

  private unlockAdmin(): void {
    this.adminUnlocked = true;
    this.touchAdmin();
  }

  /** An admin call or input on the admin screen: the unlock lasts another adminIdleSeconds. */
  private touchAdmin(): void {
    if (!this.adminUnlocked) return;
    if (this.adminTimer) clearTimeout(this.adminTimer);
    const seconds = this.options.adminIdleSeconds ?? DEFAULT_ADMIN_IDLE_SECONDS;
    this.adminTimer = setTimeout(() => void this.lockAdmin('idle'), seconds * 1000);
    this.adminTimer.unref();
  }

  /** Ends an admin unlock: the page leaves the admin screen (left), or is sent away from it (idle, session). */
  private async lockAdmin(reason: 'idle' | 'session' | 'left'): Promise<void> {
    if (this.adminTimer) clearTimeout(this.adminTimer);
    this.adminTimer = undefined;
    if (!this.adminUnlocked) return;
    this.adminUnlocked = false;
    await this.options.admin.lockAll();
    this.options.log('info', `admin: locked (${reason === 'idle' ? 'not used for a while' : reason === 'session' ? 'a user session began' : 'the admin screen was left'})`);
    if (reason !== 'left') this.emit({ type: 'admin-locked', reason });
  }

  private refuseDuringSession(): void {
    if (this.session) throw new KioskFailure('conflict', 'Log out first: the settings cannot be opened while someone is logged in.');
  }

  private noPinYet(): KioskFailure {
    switch (this.adminAccess()) {
      case 'claim': return new KioskFailure('locked', 'This kiosk is not set up yet: enter the controller address and choose an admin PIN on the setup screen.');
      case 'none': return new KioskFailure('locked', 'This kiosk started from the network without a controller address or an admin PIN. They are set on the boot server: ask your administrator.');
      default: return new KioskFailure('locked', 'This kiosk has no admin PIN yet: a site administrator signs in to set one.');
    }
  }

  private claimRefused(): KioskFailure {
    return this.adminAccess() === 'none'
      ? this.noPinYet()
      : new KioskFailure('locked', 'This kiosk is already set up. Changing its controller needs the admin PIN (Settings).');
  }

  private explain(error: unknown, method: string): KioskError {
    if (error instanceof ControllerError || error instanceof KioskFailure) {
      this.options.log(error.kind === 'invalid-credentials' ? 'info' : 'warn', `${method}: ${error.kind}: ${error.detail}`);
      return { kind: error.kind, message: error.message, ...(error instanceof ControllerError && error.retryAfterSeconds ? { retryAfterSeconds: error.retryAfterSeconds } : {}) };
    }
    // Errors from the system tools carry their own kind and user message.
    const candidate = error as { kind?: unknown; message?: unknown; detail?: unknown };
    if (candidate && typeof candidate.kind === 'string' && typeof candidate.message === 'string') {
      this.options.log('warn', `${method}: ${candidate.kind}: ${String(candidate.detail ?? candidate.message)}`);
      return { kind: candidate.kind as KioskError['kind'], message: candidate.message };
    }
    this.options.log('error', `${method}: unexpected: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    return { kind: 'internal', message: 'Something went wrong in the kiosk. Try again; if it keeps happening, tell your administrator.' };
  }
}

/** A short, fresh id for things the page refers to (not a secret). */
export function shortId(): string {
  return randomBytes(6).toString('hex');
}

function firstIssue(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  const issue = issues[0];
  return issue ? `Invalid ${issue.path.map(String).join('.') || 'request'}: ${issue.message}` : 'Invalid request.';
}
