/**
 * The admin page's API (v1): the fleet as administrators see and steer it. Only a session whose
 * person is an administrator (Session.admin) gets in; every change is written to the audit log with
 * who made it. Kiosk-side bodies (inventory, health, commands) are contract/fleet.ts's.
 */
import { z } from 'zod';
import { AppliedSettings, Command, CommandKind, Health, Inventory, type KioskState, Repair, SeatSession, SettingSource, SettingValues } from './fleet.js';
import { TrialOutcome, UpdateStatus } from './update-status.js';

export const ADMIN_PREFIX = '/v1/admin';

// A group's name is a path segment of the admin API (contract/routes.ts: [\w-]{1,64}).
const GroupName = z.string().min(1).max(64).regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'must be letters, digits, - or _');
export const KioskName = z.string().min(1).max(64).regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, 'must be letters, digits, spaces, dots, - or _');

export const KioskStateSchema = z.enum(['online', 'late', 'offline']) satisfies z.ZodType<KioskState>;

/**
 * What the fleet table shows of a kiosk's update state: the version it runs, what its update agent
 * is doing, and how its last trial ended. Taken from the kiosk's last UpdateStatus; null for a
 * kiosk that sent none (an image without A/B updates, or one that has not checked in).
 */
export const UpdateSummary = UpdateStatus.pick({ runningVersion: true, phase: true, percent: true, targetVersion: true }).extend({
  lastTrial: TrialOutcome.pick({ version: true, outcome: true, at: true }).nullable(),
});
export type UpdateSummary = z.infer<typeof UpdateSummary>;

/** One row of the fleet table. */
export const KioskSummary = z.object({
  id: z.string().uuid(),
  name: z.string(),
  group: z.string().nullable(),
  state: KioskStateSchema,
  lastCheckIn: z.string().datetime().nullable(),
  kioskVersion: z.string().nullable(),
  imageVersion: z.string().nullable(),
  hostname: z.string().nullable(),
  addresses: z.array(z.string()),
  session: SeatSession,
  temperatureC: z.number().nullable(),
  /** Under-voltage or throttling now or since boot (Raspberry Pi); false elsewhere. */
  throttled: z.boolean(),
  lastCrash: z.object({ at: z.string().datetime(), reason: z.string() }).nullable(),
  /** Whether the kiosk runs the settings it was last given. */
  settingsApplied: z.boolean(),
  update: UpdateSummary.nullable(),
});
export type KioskSummary = z.infer<typeof KioskSummary>;

export const KioskList = z.object({ kiosks: z.array(KioskSummary) });
export type KioskList = z.infer<typeof KioskList>;

export const CommandRecord = Command.extend({
  state: z.enum(['pending', 'done', 'failed']),
  detail: z.string().nullable(),
  answeredAt: z.string().datetime().nullable(),
});
export type CommandRecord = z.infer<typeof CommandRecord>;

export const KioskDetail = z.object({
  summary: KioskSummary,
  inventory: Inventory.nullable(),
  health: Health.nullable(),
  /** The kiosk's own layer (what it has on top of site and group). */
  ownSettings: SettingValues,
  /** What it should run with, each value with where it came from. */
  effective: z.object({ revision: z.string(), values: SettingValues, sources: z.record(z.string(), SettingSource) }),
  applied: AppliedSettings.nullable(),
  commands: z.array(CommandRecord),
  repairs: z.array(Repair),
  /** When the last screenshot was taken; GET .../screenshot has the picture. */
  screenshotAt: z.string().datetime().nullable(),
  /** The kiosk's update state as its last check-in told it (slot, phase, progress, last trial); null when it told none. */
  update: UpdateStatus.nullable(),
});
export type KioskDetail = z.infer<typeof KioskDetail>;

/** Settings as the admin page sends them: admin_pin may be typed digits, which the controller hashes. */
export const SettingsUpdate = z.object({ settings: z.record(z.string(), z.string().max(4096)) });
export type SettingsUpdate = z.infer<typeof SettingsUpdate>;

export const KioskUpdate = z.object({
  name: KioskName.optional(),
  /** null takes the kiosk out of its group. */
  group: GroupName.nullable().optional(),
  settings: z.record(z.string(), z.string().max(4096)).optional(),
});
export type KioskUpdate = z.infer<typeof KioskUpdate>;

export const Group = z.object({
  name: GroupName,
  settings: SettingValues,
  kiosks: z.number().int().nonnegative(),
  /**
   * The image versions its kiosks run, most kiosks first ("unknown": not checked in yet): with the
   * group's update_version, the page says how many are on it ("3 of 5 on 1.4.0").
   */
  versions: z.array(z.object({ version: z.string(), kiosks: z.number().int().positive() })),
});
export type Group = z.infer<typeof Group>;

export const Layers = z.object({ site: SettingValues, groups: z.array(Group) });
export type Layers = z.infer<typeof Layers>;

export const CommandRequest = z.object({ kind: CommandKind });
export type CommandRequest = z.infer<typeof CommandRequest>;

export const SiteToken = z.object({ id: z.string().uuid(), label: z.string(), createdAt: z.string().datetime(), createdBy: z.string() });
export const NewSiteToken = z.object({ label: z.string().min(1).max(64) });
/** The token itself is shown once, when it is made; the controller keeps only its hash. */
export const MadeSiteToken = SiteToken.extend({ token: z.string() });
export const RegisteredMac = z.object({
  mac: z.string().regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/),
  name: KioskName.nullable(),
  group: GroupName.nullable(),
});
export type RegisteredMac = z.infer<typeof RegisteredMac>;

/** A MAC as a path parameter (52-54-00-12-34-56): the controller's path parameters hold no ':'. */
export function macPathParam(mac: string): string {
  return mac.replaceAll(':', '-');
}
/** The MAC a path parameter names, or null when it is not one. */
export function macFromPathParam(param: string): string | null {
  const mac = param.toLowerCase().replaceAll('-', ':');
  return RegisteredMac.shape.mac.safeParse(mac).success ? mac : null;
}
export const Enrolments = z.object({ tokens: z.array(SiteToken), macs: z.array(RegisteredMac) });
export type Enrolments = z.infer<typeof Enrolments>;

export const AuditEntry = z.object({
  at: z.string().datetime(),
  who: z.string(),
  action: z.string(),
  target: z.string(),
  detail: z.string(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;
export const AuditLog = z.object({ entries: z.array(AuditEntry) });
export type AuditLog = z.infer<typeof AuditLog>;

export { GroupName };
