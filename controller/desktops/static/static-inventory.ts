/**
 * The static backend's inventory: who may log in (name + scrypt hash) and which desktops exist,
 * where their remote-desktop servers listen and who sees them. One YAML or JSON file (YAML is a
 * superset of JSON, so one parser reads both), checked in full at start-up: unknown keys, bad
 * values and broken references stop the controller with the path of each mistake.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { OsFamily, Protocol } from '../../../contract/api.js';
import { loadConfigFile, parseConfigText, type ConfigFileKind } from '../../../contract/files/config-file.js';
import { ConfigError } from '../../core/config.js';
import { parsePasswordHash, type ParsedHash } from '../../core/password-hash.js';

export class InventoryError extends ConfigError {}

/** Numbers are welcome where text is meant (`version: 11` in YAML). */
const Text = z.union([z.string().min(1), z.number().transform(String)]);

const Endpoint = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  /** VNC password or SPICE ticket the viewer presents; never for RDP (that uses the user's own login). */
  password: z.string().min(1).optional(),
});
export type Endpoint = z.infer<typeof Endpoint>;

const InventoryAddress = z.strictObject({
  ip: z.string().refine((ip) => isIP(ip) !== 0, 'must be an IPv4 or IPv6 address'),
  mac: z.string().regex(/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/, 'must look like 52:54:00:12:34:56').nullable().default(null),
  network: z.string().min(1),
  kind: z.enum(['fixed', 'floating']).default('fixed'),
});

const InventoryDesktop = z.strictObject({
  id: z.string().regex(/^[\w-]{1,64}$/, 'must be 1 to 64 letters, digits, "-" or "_"'),
  name: z.string().min(1),
  guestOs: z.strictObject({ family: OsFamily, distro: Text.nullable().default(null), version: Text.nullable().default(null) }),
  addresses: z.array(InventoryAddress).default([]),
  endpoints: z.strictObject({ vnc: Endpoint.optional(), spice: Endpoint.optional(), rdp: Endpoint.optional() })
    .refine((e) => e.vnc || e.spice || e.rdp, 'needs at least one of vnc, spice, rdp')
    .refine((e) => !e.rdp?.password, { message: 'an RDP endpoint takes no password: the kiosk signs in with the user\'s own login', path: ['rdp', 'password'] }),
  /** Wins over the guest-OS table (contract/protocol.ts). */
  protocolOverride: Protocol.nullable().default(null),
  usbRedirection: z.boolean().default(true),
  /** Names of the users who see this desktop. */
  users: z.array(z.string().min(1)).min(1),
});
export type InventoryDesktop = z.infer<typeof InventoryDesktop>;

const InventoryUser = z.strictObject({
  name: z.string().min(1).max(255),
  password: z.string().transform((text, ctx): ParsedHash => {
    const parsed = parsePasswordHash(text);
    if (typeof parsed === 'string') {
      ctx.addIssue({ code: 'custom', message: parsed });
      return z.NEVER;
    }
    return parsed;
  }),
  /** An administrator of this site: may set the admin PIN of a kiosk that has none. */
  admin: z.boolean().default(false),
});

const InventoryFile = z.strictObject({
  users: z.array(InventoryUser),
  desktops: z.array(InventoryDesktop),
}).superRefine((inv, ctx) => {
  const names = new Set<string>();
  inv.users.forEach((u, i) => {
    if (names.has(u.name)) ctx.addIssue({ code: 'custom', path: ['users', i, 'name'], message: `user "${u.name}" is listed twice` });
    names.add(u.name);
  });
  const ids = new Set<string>();
  inv.desktops.forEach((d, i) => {
    if (ids.has(d.id)) ctx.addIssue({ code: 'custom', path: ['desktops', i, 'id'], message: `desktop id "${d.id}" is used twice` });
    ids.add(d.id);
    d.users.forEach((name, j) => {
      if (!names.has(name)) ctx.addIssue({ code: 'custom', path: ['desktops', i, 'users', j], message: `no user "${name}" in users` });
    });
    if (d.protocolOverride && !d.endpoints[d.protocolOverride]) {
      ctx.addIssue({ code: 'custom', path: ['desktops', i, 'protocolOverride'], message: `is ${d.protocolOverride}, but endpoints has no ${d.protocolOverride}` });
    }
  });
});

export interface Inventory {
  users: Map<string, ParsedHash>;
  /** Names of the users marked `admin: true`. */
  admins: Set<string>;
  desktops: InventoryDesktop[];
}

const INVENTORY_FILE: ConfigFileKind<z.infer<typeof InventoryFile>> = {
  what: 'desktop inventory', syntax: 'YAML', schema: InventoryFile, error: InventoryError, describePath: pathText, readHint: 'static.inventoryFile',
};

function toInventory(file: z.infer<typeof InventoryFile>): Inventory {
  return {
    users: new Map(file.users.map((u) => [u.name, u.password])),
    admins: new Set(file.users.filter((u) => u.admin).map((u) => u.name)),
    desktops: file.desktops,
  };
}

/** Parses inventory text (YAML or JSON); `source` names the file in error messages. */
export function parseInventory(text: string, source: string): Inventory {
  return toInventory(parseConfigText(INVENTORY_FILE, text, source));
}

export function loadInventory(path: string): Inventory {
  return toInventory(loadConfigFile(INVENTORY_FILE, path));
}

/** `desktops[1].endpoints.vnc.port (desktop "lab-2")`: the path, and which entry it is in words. */
function pathText(path: readonly PropertyKey[], raw: unknown): string {
  if (path.length === 0) return '(top)';
  const text = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
  const [list, index] = path;
  if (typeof index !== 'number' || (list !== 'desktops' && list !== 'users')) return text;
  const entry = (raw as Record<string, unknown[]>)[list]?.[index] as Record<string, unknown> | undefined;
  const label = list === 'desktops' ? entry?.id : entry?.name;
  return typeof label === 'string' ? `${text} (${list === 'desktops' ? 'desktop' : 'user'} "${label}")` : text;
}
