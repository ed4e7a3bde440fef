/**
 * The one door between the kiosk's web page (app/ui) and its Node side (app/core), whichever shell
 * carries it: Electron passes calls over IPC through the preload script, the browser shell over
 * HTTP (`POST /rpc/<method>` with the launch key). Both ends validate with these schemas, so the page
 * can never ask for more than is listed here, and every answer is data, never an exception: the page
 * shows `error.message` as it is and never a stack trace.
 */
import { z } from 'zod';
import { Desktop, ErrorKind as ControllerErrorKind, Identity, PowerAction, Protocol } from '../../contract/api.js';
import { BootEvent } from '../../contract/boot-server-schemas.js';
import { Language } from '../../contract/preset/keys.js';
import { UpdateStatus } from '../../contract/update-status.js';
import { AdminUpdateRequest } from './update/update-request.js';

/** Kinds the kiosk itself adds to the controller's (see contract/api.ts). */
export const KioskErrorKind = z.union([
  ControllerErrorKind,
  z.enum([
    'not-configured', // no controller address yet
    'unreachable', // controller address does not answer (DNS, refused, timeout)
    'not-a-controller', // it answers, but not as a thinkiosk controller
    'tls', // certificate not trusted / wrong host name
    'client-missing', // native viewer (xfreerdp, remote-viewer) not installed
    'wrong-password', // remote desktop refused the credentials
    'console-refused', // the desktop's console did not accept the connection
    'locked', // admin settings need the PIN
    'invalid-input',
    'system', // a system tool (nmcli, wpctl...) failed
  ]),
]);
export type KioskErrorKind = z.infer<typeof KioskErrorKind>;

export const KioskError = z.object({ kind: KioskErrorKind, message: z.string(), retryAfterSeconds: z.number().optional() });
export type KioskError = z.infer<typeof KioskError>;

export type Result<T> = { ok: true; value: T } | { ok: false; error: KioskError };

/** The screen languages, one list with the preset file's language key. */
export { Language } from '../../contract/preset/keys.js';

/**
 * How the admin screen can be opened on this kiosk right now (see README, "Admin PIN"):
 * - `pin`: with the admin PIN;
 * - `claim`: a brand-new local kiosk (no controller, no PIN, not netbooted): the setup screen asks
 *   for the controller address and a new PIN together, and whoever does that owns the kiosk;
 * - `controller-admin`: a controller but no PIN: a site administrator of that controller signs in
 *   (that sign-in is logged out at once), then sets the PIN;
 * - `none`: a netbooted kiosk whose boot server gave it neither a controller nor a PIN: nothing can
 *   be set here; the boot server's preset must provide them.
 */
export const AdminAccess = z.enum(['pin', 'claim', 'controller-admin', 'none']);
export type AdminAccess = z.infer<typeof AdminAccess>;

/** The kiosk in its controller's fleet (app/core/fleet), as the admin screen shows it. */
export const FleetView = z.object({
  /**
   * starting: not asked yet; no-controller: nothing to enrol with; enrolling: asking to join;
   * not-registered: the controller does not know this kiosk (403), asked again every few minutes;
   * enrolled: checking in; unreachable: enrolled, but the last check-ins failed.
   */
  state: z.enum(['starting', 'no-controller', 'enrolling', 'not-registered', 'enrolled', 'unreachable']),
  /** The kiosk's name in the fleet. */
  name: z.string().nullable(),
  controller: z.string().nullable(),
  lastCheckIn: z.string().nullable(),
  /** What went wrong last, as a sentence. */
  problem: z.string().nullable(),
  /** The revision of the fleet's settings this kiosk runs with. */
  revision: z.string().nullable(),
});
export type FleetView = z.infer<typeof FleetView>;

export const KioskState = z.object({
  controller: z.object({ url: z.string(), name: z.string(), backend: Identity.shape.backend }).nullable(),
  /** A problem with the preset file from the boot partition, shown on the setup screen. */
  presetProblem: z.string().nullable(),
  language: Language,
  clientFamily: z.enum(['linux', 'windows']),
  session: z.object({ user: z.string(), project: z.string(), expiresAt: z.string() }).nullable(),
  idleLogoutSeconds: z.number().int().min(0),
  adminPinSet: z.boolean(),
  adminAccess: AdminAccess,
  /** The admin screen is unlocked (by PIN, or by a site administrator's sign-in until a PIN is set). */
  adminUnlocked: z.boolean(),
  /** Netbooted: fresh on every boot, so nothing set here outlives a restart. */
  netbooted: z.boolean(),
  /** Where this kiosk booted from (netbooted clients say which boot server). */
  bootSource: z.string(),
  /** The desktop (id or name) the page opens right after a login, from the preset (auto_connect). */
  autoConnect: z.string().nullable(),
  /** The kiosk ended the last session (idle, expiry) a few minutes ago and nobody has signed in since. */
  lastSessionEnded: z.enum(['idle', 'expired']).nullable(),
  /** Its place in the controller's fleet; null when the fleet agent is off. */
  fleet: FleetView.nullable(),
});
export type KioskState = z.infer<typeof KioskState>;

/** How the page shows a desktop once connected. */
export const Connection = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('in-app'),
    protocol: z.enum(['vnc', 'spice']),
    /** Same-origin websocket path of the kiosk's local relay (one connection, short-lived). */
    relayPath: z.string(),
    password: z.string().nullable(),
    desktopName: z.string(),
  }),
  z.object({
    kind: z.literal('native'),
    protocol: Protocol,
    /** Id of the supervised viewer process; its end arrives as a `native-ended` event. */
    sessionId: z.string(),
    desktopName: z.string(),
  }),
]);
export type Connection = z.infer<typeof Connection>;

export const NativeOutcome = z.enum(['ended', 'wrong-password', 'unreachable', 'certificate', 'disconnected', 'timeout', 'client-missing', 'failed']);
export type NativeOutcome = z.infer<typeof NativeOutcome>;
/**
 * The desktop's own reason for refusing, when the viewer names it: the page says each in its own
 * words (and language); the event's message says the same in English, with the address, for the log.
 */
export const NativeCause = z.enum(['logon-failure', 'locked-out', 'password-expired', 'account-barred', 'certificate-changed', 'certificate-untrusted']);
export type NativeCause = z.infer<typeof NativeCause>;

/** Pushed from the Node side to the page (IPC `thinkiosk:event` / SSE `/events`). */
export const KioskEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('native-started'), sessionId: z.string() }),
  z.object({ type: z.literal('native-ended'), sessionId: z.string(), outcome: NativeOutcome, message: z.string(), cause: NativeCause.optional() }),
  z.object({ type: z.literal('session-ended'), reason: z.enum(['expired', 'idle', 'logout']) }),
  /** The admin screen was locked by the kiosk: after minutes without use, or because a user session began. */
  z.object({ type: z.literal('admin-locked'), reason: z.enum(['idle', 'session']) }),
  z.object({ type: z.literal('terminal-output'), terminalId: z.string(), data: z.string() }),
  z.object({ type: z.literal('terminal-exit'), terminalId: z.string() }),
  /** The fleet's administrator asked which kiosk this is: its name, big, for a few seconds. */
  z.object({ type: z.literal('identify'), name: z.string(), seconds: z.number() }),
  /** The fleet's administrator took a picture of the screen: the person at the kiosk is told, for a few seconds. */
  z.object({ type: z.literal('screenshot-taken'), seconds: z.number() }),
  /** The fleet changed the kiosk's settings: the page reads its state again (a login screen on show takes the new language). */
  z.object({ type: z.literal('settings-changed') }),
]);
export type KioskEvent = z.infer<typeof KioskEvent>;

export const NetworkDevice = z.object({ device: z.string(), type: z.string(), state: z.string(), connection: z.string().nullable() });
export const WifiNetwork = z.object({ ssid: z.string(), signal: z.number(), security: z.string(), inUse: z.boolean() });
export const AudioOutput = z.object({ id: z.string(), name: z.string(), isDefault: z.boolean(), volume: z.number().nullable() });
export const DisplayOutput = z.object({ name: z.string(), modes: z.array(z.string()), current: z.string().nullable() });
export const DiagnosticCheck = z.object({ name: z.string(), ok: z.boolean(), detail: z.string() });
export const LogLine = z.object({ at: z.string(), level: z.enum(['info', 'warn', 'error']), message: z.string() });

/** The boot server (PXE, pxe/) as the admin screen shows it: the admin's switch and what the service last reported. */
export const BootServerView = z.object({
  /** The admin's choice; not-chosen: the boot partition's `boot_server =` and the service's configuration decide. */
  switch: z.enum(['on', 'off', 'not-chosen']),
  switchChangedAt: z.string().nullable(),
  /** Why this kiosk cannot serve others (it was netbooted itself), as a sentence; null when it can. */
  unavailable: z.string().nullable(),
  /** not-installed: the service never ran on this box; unknown: its status could not be read (see error). */
  state: z.enum(['not-installed', 'unknown', 'off', 'starting', 'running', 'stopped', 'failed']),
  /** The service's words for why it is on or off. */
  reason: z.string().nullable(),
  since: z.string().nullable(),
  mode: z.enum(['proxy', 'full']).nullable(),
  interface: z.string().nullable(),
  address: z.string().nullable(),
  httpUrl: z.string().nullable(),
  arches: z.array(z.string()),
  /** Things that keep some clients from booting, as sentences. */
  problems: z.array(z.string()),
  /** Why it failed, or why its status is unknown, as a sentence. */
  error: z.string().nullable(),
  /** Machines seen in the service's recent events. */
  clients: z.number().int().min(0),
  /** The newest events, oldest first. */
  events: z.array(BootEvent),
});
export type BootServerView = z.infer<typeof BootServerView>;

/** Updates as the admin screen shows them (app/core/update/kiosk-updates.ts). */
export const UpdateView = z.object({
  /** What root's update service last wrote; null when it never has (or not on the image). */
  status: UpdateStatus.nullable(),
  /** A request from this screen that the service has not taken yet. */
  requestWaiting: z.boolean(),
});
export type UpdateView = z.infer<typeof UpdateView>;

/**
 * Every method the page may call: name → [argument schema, result schema]. Admin methods need the
 * page to have unlocked with the PIN in this run (checked on the Node side, not in the page).
 */
export const KIOSK_METHODS = {
  state: [z.object({}), KioskState],
  checkController: [z.object({ url: z.string().max(2048) }), Identity],
  saveController: [z.object({ url: z.string().max(2048) }), KioskState],
  /** First start of a local kiosk (adminAccess `claim`): the controller address and a new PIN together. */
  claimKiosk: [z.object({ url: z.string().max(2048), pin: z.string().max(64) }), KioskState],
  login: [z.object({ username: z.string().max(255), password: z.string().max(4096), domain: z.string().max(255).optional() }), KioskState],
  logout: [z.object({}), KioskState],
  /** The page reports user activity, which postpones idle logout. */
  activity: [z.object({}), z.object({})],
  desktops: [z.object({}), z.object({ desktops: z.array(Desktop.extend({ protocol: Protocol.nullable() })) })],
  power: [z.object({ id: z.string().max(64), action: PowerAction }), z.object({ message: z.string() })],
  connect: [z.object({ id: z.string().max(64), protocol: Protocol.optional() }), Connection],
  disconnect: [z.object({ sessionId: z.string().max(64) }), z.object({})],
  sendCtrlAltDel: [z.object({ sessionId: z.string().max(64) }), z.object({})],
  /** The language for the person at the kiosk now; back to the saved one when their session ends. */
  setLanguage: [z.object({ language: Language }), KioskState],

  adminUnlock: [z.object({ pin: z.string().max(64) }), z.object({})],
  /** A kiosk without a PIN (adminAccess `controller-admin`): a site administrator of its controller signs in. */
  adminSignIn: [z.object({ username: z.string().max(255), password: z.string().max(4096), domain: z.string().max(255).optional() }), KioskState],
  adminLock: [z.object({}), z.object({})],
  adminSetPin: [z.object({ pin: z.string().regex(/^\d{4,12}$/, 'the PIN must be 4 to 12 digits') }), KioskState],
  /** The language every login screen starts in. */
  adminSetLanguage: [z.object({ language: Language }), KioskState],
  adminSetIdleLogout: [z.object({ seconds: z.number().int().min(0).max(86400) }), KioskState],
  networkStatus: [z.object({}), z.object({ devices: z.array(NetworkDevice) })],
  wifiScan: [z.object({}), z.object({ networks: z.array(WifiNetwork) })],
  wifiConnect: [z.object({ ssid: z.string().min(1).max(32), password: z.string().max(63).optional() }), z.object({ message: z.string() })],
  audioOutputs: [z.object({}), z.object({ outputs: z.array(AudioOutput) })],
  setAudioOutput: [z.object({ id: z.string().max(64), volume: z.number().min(0).max(1.5).optional() }), z.object({})],
  displayOutputs: [z.object({}), z.object({ outputs: z.array(DisplayOutput) })],
  setDisplayMode: [z.object({ output: z.string().max(64), mode: z.string().max(32) }), z.object({})],
  diagnostics: [z.object({}), z.object({ checks: z.array(DiagnosticCheck) })],
  logs: [z.object({}), z.object({ lines: z.array(LogLine) })],
  terminalOpen: [z.object({ cols: z.number().int().min(10).max(500), rows: z.number().int().min(5).max(200) }), z.object({ terminalId: z.string() })],
  terminalInput: [z.object({ terminalId: z.string().max(64), data: z.string().max(65536) }), z.object({})],
  terminalResize: [z.object({ terminalId: z.string().max(64), cols: z.number().int().min(10).max(500), rows: z.number().int().min(5).max(200) }), z.object({})],
  terminalClose: [z.object({ terminalId: z.string().max(64) }), z.object({})],
  bootServerStatus: [z.object({}), BootServerView],
  setBootServer: [z.object({ enabled: z.boolean() }), BootServerView],
  updateStatus: [z.object({}), UpdateView],
  /** Asks root's update service to install a bundle from an address or a USB stick into the other slot. */
  updateInstall: [AdminUpdateRequest, UpdateView],
} as const;

export type KioskMethod = keyof typeof KIOSK_METHODS;
export type KioskArgs<M extends KioskMethod> = z.input<(typeof KIOSK_METHODS)[M][0]>;
export type KioskValue<M extends KioskMethod> = z.infer<(typeof KIOSK_METHODS)[M][1]>;
/** Need the admin screen unlocked; all but adminSetPin also need a PIN to be set (see KioskService). */
export const ADMIN_METHODS: ReadonlySet<KioskMethod> = new Set<KioskMethod>([
  'checkController', 'saveController', 'adminSetPin', 'adminSetLanguage', 'adminSetIdleLogout', 'networkStatus', 'wifiScan', 'wifiConnect', 'audioOutputs', 'setAudioOutput',
  'displayOutputs', 'setDisplayMode', 'diagnostics', 'logs', 'terminalOpen', 'terminalInput', 'terminalResize', 'terminalClose', 'bootServerStatus', 'setBootServer',
  'updateStatus', 'updateInstall',
]);

export function isKioskMethod(name: string): name is KioskMethod {
  return Object.prototype.hasOwnProperty.call(KIOSK_METHODS, name);
}

/** What the Node side implements and both shells dispatch to. */
export interface KioskBackend {
  call(method: string, args: unknown): Promise<Result<unknown>>;
  /** Subscribe to pushed events; returns the unsubscribe function. */
  subscribe(listener: (event: KioskEvent) => void): () => void;
}

/** Names shared by the Electron main process and its preload script. */
export const IPC_CALL_CHANNEL = 'thinkiosk:call';
export const IPC_EVENT_CHANNEL = 'thinkiosk:event';
