/**
 * What the kiosk (user kiosk) may ask root's update service to do: a file in the request directory
 * (as for the fleet's reboot, app/core/fleet/system-actions.ts) that thinkiosk-update.path starts
 * the service on. It names a source only: which keys are trusted, whether an older version may be
 * installed and how long a trial may take are root's own settings (update-settings.ts), never the
 * request's. No Node module here: the kiosk page's API (kiosk-api.ts) uses these schemas. Root takes
 * the file with take-request.ts.
 */
import { z } from 'zod';

export const UPDATE_REQUEST_FILE = 'update';

/** A bundle's address, typed on the admin screen. */
const FromUrl = z.object({ source: z.literal('url'), url: z.string().trim().max(2048).regex(/^https?:\/\/\S+$/i, 'must be an http:// or https:// address') });
/** The newest good bundle on a USB stick. */
const FromUsb = z.object({ source: z.literal('usb') });

export const UpdateRequest = z.discriminatedUnion('source', [
  FromUrl,
  FromUsb,
  /** The version the settings name (update_version), if it differs from the running one. */
  z.object({ source: z.literal('target') }),
]);
export type UpdateRequest = z.infer<typeof UpdateRequest>;

/** What the admin screen may ask for (the settings' target is root's own timer's and the fleet's). */
export const AdminUpdateRequest = z.discriminatedUnion('source', [FromUrl, FromUsb]);
export type AdminUpdateRequest = z.infer<typeof AdminUpdateRequest>;
