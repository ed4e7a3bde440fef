/**
 * Which web permissions the kiosk page gets: two, and only for the kiosk's own origin.
 *
 * - `fullscreen`: the in-app console puts the remote desktop's canvas into element full screen
 *   (the Fullscreen API asks for it even inside a full-screen kiosk window).
 * - `clipboard-sanitized-write`: the page writes text to the clipboard (copying a diagnostics
 *   report or log lines for a support ticket). Write-only and sanitised by Chromium.
 *
 * Everything else is refused, notably `clipboard-read` (the clipboard may hold what the previous
 * user copied out of a remote session), camera/microphone/screen capture, notifications,
 * geolocation, HID/USB/serial devices, keyboard/pointer lock and `openExternal` (handing a link to
 * another program would leave the kiosk).
 */
import type { PermissionName } from './electron-surface.js';
import { isRuntimeUrl } from './origin-policy.js';

export const GRANTED_PERMISSIONS: ReadonlySet<PermissionName> = new Set<PermissionName>(['fullscreen', 'clipboard-sanitized-write']);

/** `requestingUrl` may be a full URL or a bare origin; both carry the origin that asks. */
export function isPermissionGranted(permission: PermissionName, requestingUrl: string, runtimeOrigin: string): boolean {
  return GRANTED_PERMISSIONS.has(permission) && isRuntimeUrl(requestingUrl, runtimeOrigin);
}
