/**
 * The fleet's contract (API v1): how a kiosk enrols with its controller and checks in, and what the
 * controller answers (its layered settings and the administrators' commands). Pull-based: the kiosk
 * always calls, so it works behind NAT and opens no port. The admin page's API is in
 * contract/fleet-admin.ts. Every body is a zod schema, validated on both sides.
 *
 * Settings are the preset keys of `thinkiosk.conf` (contract/preset/keys.ts), as the text a line of
 * that file would hold, checked by the same rules: a value the fleet hands out is one the boot
 * partition could have held.
 */
import { z } from 'zod';
import { isPresetKeyName, PRESET_KEYS, type PresetKeyName, presetProblem, presetValueText } from './preset/keys.js';
import { UpdateStatus } from './update-status.js';

export const FLEET_PREFIX = '/v1/fleet';

/** The fleet's default check-in interval; each kiosk adds up to a tenth of it as jitter. */
export const DEFAULT_CHECK_IN_SECONDS = 60;

const Mac = z.string().regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, 'must be a MAC address like 52:54:00:12:34:56 (lower case)');
// eslint-disable-next-line no-control-regex
const ShortText = z.string().max(200).regex(/^[^\x00-\x08\x0b-\x1f\x7f]*$/, 'must not hold control characters');
const When = z.string().datetime();

/** What identifies a box before it has an id: its network cards and name. */
export const Hardware = z.object({
  macs: z.array(Mac).min(1).max(16),
  hostname: ShortText,
  board: ShortText,
});
export type Hardware = z.infer<typeof Hardware>;

export const EnrolRequest = z.object({
  /** A site token an administrator made (preset key fleet_token); absent: the MAC must be registered. */
  siteToken: z.string().min(16).max(128).optional(),
  hardware: Hardware,
});
export type EnrolRequest = z.infer<typeof EnrolRequest>;

export const Enrolment = z.object({
  kioskId: z.string().uuid(),
  /** The kiosk's own credential: `Authorization: Bearer <kioskId>.<secret>` on every check-in. */
  secret: z.string().min(32).max(128),
  name: z.string(),
  checkInSeconds: z.number().int().min(10).max(86_400),
});
export type Enrolment = z.infer<typeof Enrolment>;

/** Raspberry Pi firmware's throttling flags (`vcgencmd get_throttled`), now and since boot. */
export const Throttling = z.object({
  underVoltage: z.boolean(),
  frequencyCapped: z.boolean(),
  throttled: z.boolean(),
  softTemperatureLimit: z.boolean(),
  underVoltageSinceBoot: z.boolean(),
  throttledSinceBoot: z.boolean(),
});
export type Throttling = z.infer<typeof Throttling>;

/** What the kiosk tells about itself at each check-in. */
export const Inventory = z.object({
  hostname: ShortText,
  macs: z.array(Mac).max(16),
  addresses: z.array(z.object({ iface: ShortText, address: ShortText })).max(32),
  board: ShortText,
  /** The image's version (/etc/thinkiosk-release), or "development" outside an image. */
  imageVersion: ShortText,
  /**
   * The update slot the box booted from ("a"/"b"), null outside an A/B image. Kept as free text for
   * kiosks of before the A/B layout; the fleet agent fills it from its update status
   * (UpdateStatus.bootedSlot), which is the one the controller reads.
   */
  slot: z.string().max(8).nullable(),
  uptimeSeconds: z.number().nonnegative(),
  /** Kernel start to kiosk ready, this boot; null when unknown. */
  bootSeconds: z.number().nonnegative().nullable(),
  temperatureC: z.number().min(-50).max(200).nullable(),
  /** null off a Raspberry Pi (no firmware to ask). */
  throttling: Throttling.nullable(),
  displays: z.array(z.object({ name: ShortText, width: z.number().int().nonnegative(), height: z.number().int().nonnegative() })).max(16),
  usb: z.array(z.object({ vendorId: z.string().regex(/^[0-9a-f]{4}$/), productId: z.string().regex(/^[0-9a-f]{4}$/), name: ShortText })).max(64),
});
export type Inventory = z.infer<typeof Inventory>;

/** Who sits at the kiosk now; null when the login screen shows. */
export const SeatSession = z.object({
  user: ShortText,
  desktop: ShortText.nullable(),
  protocol: z.enum(['rdp', 'spice', 'vnc']).nullable(),
  since: When,
}).nullable();
export type SeatSession = z.infer<typeof SeatSession>;

/** Known faults the kiosk finds and, where a known repair exists, repairs by itself. */
export const Fault = z.enum(['crash-loop', 'settings-full', 'clock-wrong', 'controller-unreachable', 'under-voltage']);
export type Fault = z.infer<typeof Fault>;

export const Repair = z.object({
  fault: Fault,
  at: When,
  /** What was seen, for the admin: "the kiosk restarted 5 times in 10 minutes". */
  detail: ShortText,
  /** What was done about it ("cleared 120 MiB of old logs"), or null when nothing can be done on the box. */
  action: ShortText.nullable(),
  /** Whether the fault is gone after the action. */
  repaired: z.boolean(),
});
export type Repair = z.infer<typeof Repair>;

export const Health = z.object({
  /** Kiosk app restarts since the last check-in (any cause). */
  restarts: z.number().int().nonnegative(),
  /** Restarts that followed a crash (exit not asked for). */
  crashes: z.number().int().nonnegative(),
  lastCrash: z.object({ at: When, reason: ShortText }).nullable(),
  /** Faults found since the last check-in, with what was done. */
  repairs: z.array(Repair).max(32),
});
export type Health = z.infer<typeof Health>;

export const CommandKind = z.enum(['restart-app', 'reboot', 'identify', 'screenshot', 'logout']);
export type CommandKind = z.infer<typeof CommandKind>;

export const Command = z.object({
  id: z.string().uuid(),
  kind: CommandKind,
  issuedAt: When,
  issuedBy: z.string(),
});
export type Command = z.infer<typeof Command>;

export const CommandAck = z.object({
  id: z.string().uuid(),
  outcome: z.enum(['done', 'failed']),
  /** Why it failed, or what came of it ("screenshot sent"). */
  detail: ShortText.optional(),
  at: When,
});
export type CommandAck = z.infer<typeof CommandAck>;

/** Preset keys a fleet may set, as `key = value` text; the kiosk's own enrolment token is not one. */
export const FLEET_SETTING_KEYS = [
  'controller', 'language', 'admin_pin', 'idle_logout_minutes', 'auto_connect', 'usb_redirection',
  'hostname', 'timezone', 'keyboard', 'keyboard_variant', 'wifi_ssid', 'wifi_password', 'boot_server', 'ssh_key',
  'update_version', 'update_url', 'update_allow_downgrade', 'update_trial_minutes',
] as const satisfies readonly PresetKeyName[];
export type FleetSettingKey = (typeof FLEET_SETTING_KEYS)[number];

export function isFleetSettingKey(name: string): name is FleetSettingKey {
  return (FLEET_SETTING_KEYS as readonly string[]).includes(name) && isPresetKeyName(name);
}

/**
 * A value's text checked by its key's own rule. What only the kiosk's image can tell (whether a time
 * zone or a keyboard layout is installed there) is left to the image's boot step, which reports a
 * value it cannot use as 'rejected' in AppliedSettings: checkPresetValue without that system
 * refuses every such value, so no time zone or keyboard could ever be handed out.
 */
function followsPresetRule(name: FleetSettingKey, text: string): boolean {
  return PRESET_KEYS[name].check(presetValueText(name, text)) !== undefined;
}

/** A preset value is the rest of one line: a line break would start another key's line. */
// eslint-disable-next-line no-control-regex
const LINE_BREAK = /[\r\n\x00]/;

/**
 * A layer's settings: key → the value's text, each checked by its preset rule. An admin PIN is
 * always its scrypt hash here (the controller hashes a typed PIN before storing it).
 */
export const SettingValues = z.record(z.string(), z.string().max(4096)).superRefine((values, ctx) => {
  for (const [name, text] of Object.entries(values)) {
    if (!isFleetSettingKey(name)) {
      ctx.addIssue({ code: 'custom', path: [name], message: `${name} is not a setting a fleet can hand out (known: ${FLEET_SETTING_KEYS.join(', ')})` });
    } else if (LINE_BREAK.test(text)) {
      ctx.addIssue({ code: 'custom', path: [name], message: `${name} must be one line (no line breaks)` });
    } else if (!followsPresetRule(name, text)) {
      ctx.addIssue({ code: 'custom', path: [name], message: presetProblem(name, text) });
    } else if (name === 'admin_pin' && !text.startsWith('scrypt$')) {
      ctx.addIssue({ code: 'custom', path: [name], message: 'admin_pin must be stored as its hash' });
    }
  }
});
export type SettingValues = Partial<Record<FleetSettingKey, string>>;

/** Where an effective value came from: the site's defaults, a group, or the kiosk itself. */
export const SettingSource = z.union([z.literal('site'), z.string().regex(/^group:.+$/), z.literal('kiosk')]);
export type SettingSource = z.infer<typeof SettingSource>;

/** What a kiosk should run with: the merged layers, and a revision to report back once applied. */
export const FleetSettings = z.object({
  /** Changes whenever any effective value changes (a hash of values). */
  revision: z.string().min(1).max(64),
  values: SettingValues,
  sources: z.record(z.string(), SettingSource),
});
export type FleetSettings = z.infer<typeof FleetSettings>;

/**
 * What the kiosk did with the last settings it received. A kiosk key applies at once; an image key
 * (Wi-Fi, time zone, keyboard, host name, boot server) at the next boot, by the image's boot step.
 */
export const AppliedSettings = z.object({
  revision: z.string().min(1).max(64),
  at: When,
  keys: z.record(z.string(), z.enum(['applied', 'next-boot', 'rejected', 'overridden-by-boot-preset'])),
  problems: z.array(ShortText).max(32),
});
export type AppliedSettings = z.infer<typeof AppliedSettings>;

export const CheckIn = z.object({
  /** The kiosk app's version (package.json). */
  kioskVersion: ShortText,
  inventory: Inventory,
  session: SeatSession,
  health: Health,
  /** null until the kiosk has applied any fleet settings. */
  applied: AppliedSettings.nullable(),
  /** Outcomes of commands received earlier; each is answered once. */
  acks: z.array(CommandAck).max(64),
  /**
   * Where the kiosk stands with its updates (contract/update-status.ts); null outside an A/B image
   * or before its update agent has said anything. Kiosks of before updates send no such field:
   * missing reads as null.
   */
  update: UpdateStatus.nullable().default(null),
});
export type CheckIn = z.infer<typeof CheckIn>;

export const CheckInReply = z.object({
  kioskId: z.string().uuid(),
  name: z.string(),
  checkInSeconds: z.number().int().min(10).max(86_400),
  settings: FleetSettings,
  /** Commands not yet acknowledged; a kiosk runs each id once (it keeps the ids it ran). */
  commands: z.array(Command).max(32),
  /** The controller's clock, so a kiosk with a wrong clock can notice. */
  serverTime: When,
});
export type CheckInReply = z.infer<typeof CheckInReply>;

/** A screenshot the kiosk took for a command, as base64 PNG (at most ~3 MiB of picture). */
export const ScreenshotUpload = z.object({
  commandId: z.string().uuid(),
  pngBase64: z.string().min(1).max(4 * 1024 * 1024).regex(/^[A-Za-z0-9+/]+={0,2}$/),
});
export type ScreenshotUpload = z.infer<typeof ScreenshotUpload>;

export type KioskState = 'online' | 'late' | 'offline';

/**
 * A kiosk is online while its check-ins come on time (interval plus jitter, with one miss
 * forgiven), late up to five intervals, then offline.
 */
export function kioskState(lastCheckIn: Date | null, checkInSeconds: number, now: Date = new Date()): KioskState {
  if (!lastCheckIn) return 'offline';
  const silentSeconds = (now.getTime() - lastCheckIn.getTime()) / 1000;
  if (silentSeconds <= checkInSeconds * 2.2) return 'online';
  if (silentSeconds <= checkInSeconds * 5) return 'late';
  return 'offline';
}
