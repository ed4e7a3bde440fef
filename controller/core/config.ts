/**
 * The shim's configuration: one JSON file (THINKIOSK_CONTROLLER_CONFIG or --config), validated at
 * start-up so a typo stops the shim with a clear message instead of failing on the first login.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { isIP } from 'node:net';
import { Protocol } from '../../contract/api.js';
import { checkConfig, loadConfigFile, type ConfigFileKind } from '../../contract/files/config-file.js';
import { FleetConfig } from '../fleet/config.js';

/** Settings every backend shares. */
const Common = {
  name: z.string().default('thinkiosk controller'),
  listen: z.object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8480) }).default({ host: '127.0.0.1', port: 8480 }),
  /** PEM files; when set the shim serves HTTPS only. */
  tls: z.object({ certFile: z.string(), keyFile: z.string() }).optional(),
  /**
   * base64 32-byte keys; the first seals sessions. All instances behind one load balancer need the
   * same keys. Also read from THINKIOSK_SESSION_KEYS (comma-separated).
   */
  sessionKeys: z.array(z.string()).default([]),
  /** Sessions end at the Keystone token's expiry or after this long, whichever is first. */
  sessionMaxSeconds: z.number().int().positive().default(8 * 3600),
  /**
   * Addresses (or CIDR ranges) of reverse proxies in front of the shim. X-Forwarded-For and
   * X-Forwarded-Host/Proto are believed only from these, and the client is the last address in the
   * chain that is not one of them: a client cannot choose its own address by sending the header.
   */
  trustedProxies: z.array(z.string().refine(isAddressOrRange, 'must be an IP address or a CIDR range like 10.0.0.0/24')).default([]),
  /** Replaced by trustedProxies, which says whom to trust. */
  trustProxy: z.literal(false, { error: 'is replaced by trustedProxies: list the addresses of your proxies, e.g. ["10.0.0.5"]' }).optional(),
  /**
   * A directory for what must outlive the process: the list of ended sessions (logouts). Every
   * instance behind one load balancer should share it (a shared or replicated directory); without
   * it, logouts are remembered in memory only (the shim warns at start-up).
   */
  stateDir: z.string().min(1).optional(),
  /**
   * The fleet (controller/fleet): kiosks enrol and check in, administrators steer them from the
   * admin page. On by default, in SQLite in stateDir; "fleet": false turns it off.
   */
  fleet: z.union([z.literal(false), FleetConfig]).optional(),
  loginGuard: z.object({
    maxFailuresPerUser: z.number().int().positive().default(5),
    maxFailuresPerAddress: z.number().int().positive().default(50),
    windowSeconds: z.number().int().positive().default(900),
    lockoutSeconds: z.number().int().positive().default(30),
  }).default({ maxFailuresPerUser: 5, maxFailuresPerAddress: 50, windowSeconds: 900, lockoutSeconds: 30 }),
};

/** backend "openstack": desktops are the user's Nova servers, logins go to Keystone. */
const OpenStackSettings = z.object({
  authUrl: z.string().url(),
  interface: z.enum(['public', 'internal', 'admin']).default('public'),
  region: z.string().optional(),
  defaultDomain: z.string().default('Default'),
  defaultProject: z.string().optional(),
  caFile: z.string().optional(),
  timeoutSeconds: z.number().positive().default(15),
  /** false: users see only servers they own (Nova user_id filter); true: their whole project. */
  showWholeProject: z.boolean().default(false),
  /** Console types enabled in this cloud's nova.conf ([vnc]/[spice] enabled). */
  consoleProtocols: z.array(Protocol.exclude(['rdp'])).default(['vnc', 'spice']),
  /** External network name to take floating IPs from for RDP; unset = never touch floating IPs. */
  floatingIpPool: z.string().optional(),
  imageCacheSeconds: z.number().int().nonnegative().default(600),
  /**
   * Calls this instance sends at once to Keystone for logins (password hashing is CPU-bound:
   * about Keystone's worker count) and to Nova for desktop lists; how many more may wait, and
   * for how long, before the shim answers "try again in N seconds".
   */
  loginConcurrency: z.number().int().positive().default(4),
  listConcurrency: z.number().int().positive().default(4),
  queueLength: z.number().int().nonnegative().default(1000),
  queueSeconds: z.number().positive().default(45),
  rdpPort: z.number().int().min(1).max(65535).default(3389),
  /**
   * How long Keystone's "this token is valid" is believed before it is asked again: a user
   * disabled (or whose password changed) in Keystone loses access within this time. Nova's own
   * token cache keeps accepting such a token for minutes, so the shim asks Keystone itself.
   */
  sessionCheckSeconds: z.number().int().min(1).max(30).default(20),
  /** Keystone roles (in the project logged into) that make a person an administrator of this site's kiosks. */
  adminRoles: z.array(z.string().min(1)).default(['admin']),
});

/** backend "static": users and desktops listed in an inventory file (static-inventory.ts). */
const StaticSettings = z.object({
  /** YAML or JSON; see README "Static inventory". Read at start-up. */
  inventoryFile: z.string().min(1),
  /** How long a desktop's remote-desktop port may take to accept before it counts as down. */
  probeTimeoutMs: z.number().int().min(50).max(10_000).default(1500),
  /** A desktop's server is asked "are you up?" at most this often, however many kiosks look (README "Static backend"). */
  probeIntervalSeconds: z.number().int().min(5).max(3600).default(60),
  /** Console connections one person may have through the relay at once (a SPICE console uses up to about six). */
  relayMaxPerUser: z.number().int().min(1).max(1000).default(16),
  /** How long a console address (relay ticket) stays good for new connections. */
  relayTicketSeconds: z.number().int().min(5).max(600).default(60),
});

export const ControllerConfig = z.preprocess(
  // Configurations written before the static backend existed have no "backend": they are OpenStack.
  (raw) => (raw && typeof raw === 'object' && !Array.isArray(raw) && !('backend' in raw) ? { ...raw, backend: 'openstack' } : raw),
  z.discriminatedUnion('backend', [
    z.object({ ...Common, backend: z.literal('openstack'), openstack: OpenStackSettings }),
    z.object({ ...Common, backend: z.literal('static'), static: StaticSettings }),
  ], { error: 'must be "openstack" or "static"' }),
);
export type ControllerConfig = z.infer<typeof ControllerConfig>;
export type OpenStackConfig = z.infer<typeof OpenStackSettings>;
export type StaticConfig = z.infer<typeof StaticSettings>;

export class ConfigError extends Error {}

function isAddressOrRange(text: string): boolean {
  const [address, bits, ...rest] = text.split('/');
  if (rest.length || !address || !isIP(address)) return false;
  if (bits === undefined) return true;
  const max = isIP(address) === 6 ? 128 : 32;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= max;
}

const CONFIG_FILE: ConfigFileKind<ControllerConfig> = { what: 'controller configuration', syntax: 'JSON', schema: ControllerConfig, error: ConfigError };

export function parseConfig(raw: unknown, source: string): ControllerConfig {
  return checkConfig(CONFIG_FILE, raw, source);
}

export function loadConfig(path: string): ControllerConfig {
  return loadConfigFile(CONFIG_FILE, path);
}

/** The session keys as bytes; without any, a random key (sessions then die with this process). */
export function sessionKeyBytes(config: ControllerConfig, env = process.env): { keys: Buffer[]; ephemeral: boolean } {
  const texts = [...(env.THINKIOSK_SESSION_KEYS?.split(',').filter(Boolean) ?? []), ...config.sessionKeys];
  if (texts.length === 0) return { keys: [randomBytes(32)], ephemeral: true };
  const keys = texts.map((t, i) => {
    const key = Buffer.from(t.trim(), 'base64');
    if (key.length !== 32) throw new ConfigError(`session key #${i + 1} is not 32 bytes of base64 (generate one with: openssl rand -base64 32)`);
    return key;
  });
  return { keys, ephemeral: false };
}
