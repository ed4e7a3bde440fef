/**
 * The kiosk's persistent settings (conf: one JSON file, written atomically so a pulled plug leaves
 * either the old or the new file). Passwords are never stored here: only the controller address,
 * presentation choices and the admin PIN's scrypt hash.
 */
import Conf from 'conf';
import { z } from 'zod';
import { Language } from './kiosk-api.js';

export const StoredSettings = z.object({
  controllerUrl: z.string().nullable(),
  controllerName: z.string().nullable(),
  controllerBackend: z.enum(['openstack', 'static']).nullable(),
  /** PEM CA file for controllers with a private CA (placed by the image's config). */
  caFile: z.string().nullable(),
  language: Language.nullable(),
  adminPinHash: z.string().nullable(),
  idleLogoutSeconds: z.number().int().min(0),
  /** Open SPICE desktops in remote-viewer (USB redirection) when the desktop allows it. */
  nativeSpiceForUsb: z.boolean(),
  /** What the last applied preset file said, so a changed preset is applied again. */
  appliedPreset: z.string().nullable(),
});
export type StoredSettings = z.infer<typeof StoredSettings>;

const DEFAULTS: StoredSettings = {
  controllerUrl: null, controllerName: null, controllerBackend: null, caFile: null, language: null,
  adminPinHash: null, idleLogoutSeconds: 900, nativeSpiceForUsb: true, appliedPreset: null,
};

export class Settings {
  private readonly conf: Conf<StoredSettings>;

  constructor(directory: string) {
    this.conf = new Conf<StoredSettings>({ cwd: directory, configName: 'settings', projectName: 'thinkiosk', defaults: DEFAULTS });
  }

  /** The whole store, validated: a hand-edited or damaged file falls back to defaults per field. */
  read(): StoredSettings {
    const raw: Record<string, unknown> = { ...this.conf.store };
    const result = { ...DEFAULTS };
    for (const key of Object.keys(DEFAULTS) as (keyof StoredSettings)[]) {
      const field = StoredSettings.shape[key].safeParse(raw[key]);
      if (field.success) (result as Record<string, unknown>)[key] = field.data;
    }
    return result;
  }

  update(patch: Partial<StoredSettings>): StoredSettings {
    const next = StoredSettings.parse({ ...this.read(), ...patch });
    this.conf.set(next);
    return next;
  }

  get path(): string {
    return this.conf.path;
  }
}
