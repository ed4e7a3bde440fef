/**
 * The fleet's part of the controller's configuration: the optional `fleet` section. Without it the
 * controller has no fleet (no enrolment, no check-ins, no admin page API).
 *
 *   "fleet": { "database": "postgres://thinkiosk@db.example/fleet", "checkInSeconds": 60 }
 *
 * The database is SQLite by default (a file in the controller's stateDir, nothing to set up; one
 * controller instance) or PostgreSQL (several instances sharing one fleet).
 */
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_CHECK_IN_SECONDS } from '../../contract/fleet.js';

const DATABASE_URL = /^(sqlite:.+|postgres(ql)?:\/\/.+)$/;

/** A screenshot is at most this big as PNG: the contract's upload carries at most 4 MiB of base64. */
export const MAX_SCREENSHOT_BYTES = 3 * 1024 * 1024;

export const FleetConfig = z.strictObject({
  /**
   * `sqlite:/var/lib/thinkiosk-controller/fleet.sqlite` or `postgres://user:password@host/database`
   * (also `postgresql://`). Default: `sqlite:<stateDir>/fleet.sqlite`.
   */
  database: z.string().regex(DATABASE_URL, 'must be sqlite:/path/to/fleet.sqlite or postgres://user@host/database').optional(),
  /** Connections to PostgreSQL per controller instance. */
  databasePoolSize: z.number().int().min(1).max(100).default(10),
  /** How often kiosks check in (each adds up to a tenth as jitter); decides online, late and offline. */
  checkInSeconds: z.number().int().min(10).max(86_400).default(DEFAULT_CHECK_IN_SECONDS),
  screenshotMaxBytes: z.number().int().min(1024).max(MAX_SCREENSHOT_BYTES).default(MAX_SCREENSHOT_BYTES),
  /** Repairs kept per kiosk for the admin page (their totals are counted for ever). */
  repairsPerKiosk: z.number().int().min(1).max(10_000).default(50),
  /** Answered commands kept per kiosk; pending ones are always kept. */
  commandsPerKiosk: z.number().int().min(1).max(10_000).default(100),
  /** How long one read of the fleet serves /metrics scrapes: a scrape of thousands of kiosks stays cheap. */
  metricsCacheSeconds: z.number().min(0).max(300).default(5),
});
export type FleetConfig = z.infer<typeof FleetConfig>;

/** Which database the fleet lives in, by its URL's scheme. */
export type FleetDatabase = { dialect: 'sqlite'; file: string } | { dialect: 'postgres'; url: string };

/**
 * The configured database, or the default SQLite file in stateDir. Throws (with the setting to fix)
 * when there is neither.
 */
export function fleetDatabase(config: Pick<FleetConfig, 'database'>, stateDir: string | undefined): FleetDatabase {
  const url = config.database ?? (stateDir ? `sqlite:${path.join(stateDir, 'fleet.sqlite')}` : undefined);
  if (!url) throw new Error('the fleet needs a database: set fleet.database (sqlite:/path/fleet.sqlite or postgres://...) or stateDir');
  if (url.startsWith('sqlite:')) return { dialect: 'sqlite', file: url.slice('sqlite:'.length) };
  return { dialect: 'postgres', url };
}
