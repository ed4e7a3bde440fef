/**
 * What the fleet agent keeps on the settings partition, in `<settings dir>/fleet/` (mode 0700, each
 * file 0600: the credential is the kiosk's key to its controller, the last good settings hold the
 * Wi-Fi password): the credential, the last good settings and how they were applied, the commands
 * already run and what is still to be told, and the start journal (healing.ts). Each file is
 * written whole (contract/files/atomic-write.ts) and checked when read: a damaged file counts as
 * missing, never as a crash.
 *
 * One file sits beside the settings, not in fleet/: the image's keys for the next boot
 * (`fleet-image-preset.conf`, read by the image's apply-preset as root), so that the only directory
 * on its path the kiosk's user owns is the one it is in.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic, writeJsonAtomic } from '../../../contract/files/atomic-write.js';
import { AppliedSettings, CommandAck, FleetSettings, Repair } from '../../../contract/fleet.js';

export const FLEET_DIR_NAME = 'fleet';
/** Beside settings.json; rootfs-overlay/usr/lib/thinkiosk/apply-preset reads it at boot. */
export const FLEET_IMAGE_PRESET_NAME = 'fleet-image-preset.conf';

export const StoredCredential = z.object({
  kioskId: z.string().uuid(),
  secret: z.string().min(32),
  name: z.string(),
  checkInSeconds: z.number().int().min(10),
  /** The controller that issued it (another controller does not know it). */
  controllerUrl: z.string(),
  enrolledAt: z.string(),
});
export type StoredCredential = z.infer<typeof StoredCredential>;

export const FleetState = z.object({
  /** The last settings the fleet sent that passed the contract: applied again at every start. */
  lastGood: z.object({ settings: FleetSettings, receivedAt: z.string() }).nullable(),
  /** What the kiosk did with them, reported at each check-in. */
  applied: AppliedSettings.nullable(),
  /** The last address a check-in succeeded at: where the kiosk goes back to. */
  lastWorkingController: z.string().nullable(),
  /** An address the fleet named that did not work, and when the kiosk left it (not tried again for a while). */
  abandonedController: z.object({ url: z.string(), at: z.string() }).nullable(),
  lastCheckInAt: z.string().nullable(),
  /** The boot (its id) during which the image's keys file was last changed: a later boot has read it. */
  imagePresetWrittenBoot: z.string().nullable().default(null),
});
export type FleetState = z.infer<typeof FleetState>;

const EMPTY_STATE: FleetState = { lastGood: null, applied: null, lastWorkingController: null, abandonedController: null, lastCheckInAt: null, imagePresetWrittenBoot: null };

export const Outbox = z.object({
  /** Ids of commands already run (newest last), so a command the controller sends again runs once. */
  ranIds: z.array(z.string()),
  /** Outcomes not yet told to the controller. */
  acks: z.array(CommandAck),
  /** Faults found, and what was done, not yet told. */
  repairs: z.array(Repair),
});
export type Outbox = z.infer<typeof Outbox>;

const EMPTY_OUTBOX: Outbox = { ranIds: [], acks: [], repairs: [] };
/** Enough to outlast any command the controller could still be sending again. */
const RAN_IDS_KEPT = 500;
/** The contract's limits per check-in; older entries beyond these are dropped. */
const OUTBOX_ACKS_KEPT = 64;
const OUTBOX_REPAIRS_KEPT = 32;

export class FleetFiles {
  readonly dir: string;

  constructor(readonly settingsDir: string) {
    this.dir = join(settingsDir, FLEET_DIR_NAME);
  }

  get imagePresetPath(): string {
    return join(this.settingsDir, FLEET_IMAGE_PRESET_NAME);
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  readCredential(): StoredCredential | null {
    return this.readJson('credential.json', StoredCredential);
  }

  writeCredential(credential: StoredCredential): void {
    this.writeJson('credential.json', credential);
  }

  dropCredential(): void {
    rmSync(this.path('credential.json'), { force: true });
  }

  readState(): FleetState {
    return this.readJson('state.json', FleetState) ?? { ...EMPTY_STATE };
  }

  updateState(patch: Partial<FleetState>): FleetState {
    const next = { ...this.readState(), ...patch };
    this.writeJson('state.json', next);
    return next;
  }

  readOutbox(): Outbox {
    return this.readJson('outbox.json', Outbox) ?? { ...EMPTY_OUTBOX, ranIds: [], acks: [], repairs: [] };
  }

  updateOutbox(change: (outbox: Outbox) => Outbox): Outbox {
    const next = change(this.readOutbox());
    const bounded: Outbox = {
      ranIds: next.ranIds.slice(-RAN_IDS_KEPT),
      acks: next.acks.slice(-OUTBOX_ACKS_KEPT),
      repairs: next.repairs.slice(-OUTBOX_REPAIRS_KEPT),
    };
    this.writeJson('outbox.json', bounded);
    return bounded;
  }

  /** The image's keys for the next boot; null removes the file (the fleet sets none). */
  writeImagePreset(text: string | null): void {
    if (text === null) rmSync(this.imagePresetPath, { force: true });
    else writeFileAtomic(this.imagePresetPath, text, { mode: 0o600 });
  }

  readImagePreset(): string | null {
    try {
      return readFileSync(this.imagePresetPath, 'utf8');
    } catch {
      return null;
    }
  }

  readJson<T>(name: string, schema: z.ZodType<T>): T | null {
    let text: string;
    try {
      text = readFileSync(this.path(name), 'utf8');
    } catch {
      return null;
    }
    try {
      const parsed = schema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  writeJson(name: string, value: unknown): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeJsonAtomic(this.path(name), value, { mode: 0o600 });
  }
}
