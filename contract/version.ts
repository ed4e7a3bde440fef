/**
 * What a thinkiosk version looks like (package.json's, an update bundle's, a fleet's target):
 * MAJOR.MINOR.PATCH with an optional pre-release (`0.2.0-rc.1`). Here alone, without Node modules,
 * so the preset keys (read by the kiosk's page too) and the update bundle share it.
 */
export const VERSION_PATTERN = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?$/;
