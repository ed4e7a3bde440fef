/**
 * The boot server's configuration: how a thinkiosk box serves the LAN's diskless machines. One
 * YAML (or JSON) file, `thinkiosk-boot-server.yaml` next to `thinkiosk.conf` on the boot
 * partition, checked in full before anything starts: unknown keys and bad values stop the boot
 * server with the path of each mistake. Everything has a default, so an empty file (or none)
 * means proxy-DHCP on eth0, which leaves the site's own DHCP server in charge of addresses.
 */
import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { checkConfig, loadConfigFile, type ConfigFileKind } from '../contract/files/config-file.js';
import { lastGoodPresetValue } from '../contract/preset/reading.js';
import { PRESET_KEYS, checkPresetValue } from '../contract/preset/keys.js';
import { isPinOrHash } from './admin-pin.js';

export class BootServerConfigError extends Error {}

const Ipv4 = z.string().refine((text) => isIPv4(text), 'must be an IPv4 address like 192.168.1.10');

/** Lower case with colons, whatever the admin typed (52-54-00-AB-CD-EF works too). */
export const MacAddress = z.string()
  .transform((text) => text.trim().toLowerCase().replace(/-/g, ':'))
  .refine((mac) => /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac), 'must be a MAC address like 52:54:00:12:34:56');

/**
 * A preset key as the YAML holds it, checked by the kiosk's own rule (contract/preset/keys.ts): a
 * value is taken here exactly when a kiosk would take it from the preset file this server writes,
 * and comes out as the kiosk would read it (language: zh becomes zh-CN). Numbers stay YAML numbers.
 */
function presetValue<Name extends 'controller' | 'language' | 'auto_connect' | 'idle_logout_minutes' | 'hostname'>(name: Name) {
  const { yaml, rule } = PRESET_KEYS[name];
  const text = yaml?.type === 'number' ? z.number().transform(String) : z.string();
  return text
    .refine((value) => checkPresetValue(name, value) !== undefined, rule)
    .transform((value) => checkPresetValue(name, value)!);
}

/**
 * What a netbooted client is preset with: the keys of the kiosk's own preset file (README, "Preset
 * file") that make sense for a machine that keeps nothing, under their YAML names. Never
 * `boot_server`: a netbooted client does not serve others.
 */
export const ClientPreset = z.strictObject({
  controller: presetValue('controller').optional(),
  language: presetValue('language').optional(),
  /** The desktop (its id or its name as listed) the kiosk opens right after login, when it is the user's. */
  autoConnect: presetValue('auto_connect').optional(),
  idleLogoutMinutes: presetValue('idle_logout_minutes').optional(),
  hostname: presetValue('hostname').optional(),
  /**
   * The admin PIN of the kiosk's settings screen: 4 to 12 digits (hashed before any client sees
   * it) or a hash the kiosk made. By default the box's own PIN (admin-pin.ts). Text, not a number:
   * YAML would read 0246 as 246.
   */
  adminPin: z.string({ error: 'must be written in quotes, like adminPin: "2468" (a number would lose leading zeros)' })
    .trim().refine(isPinOrHash, 'must be 4 to 12 digits, like "2468", or a PIN hash made by the kiosk (scrypt$...)').optional(),
});
export type ClientPreset = z.infer<typeof ClientPreset>;

const ClientEntry = ClientPreset.extend({ mac: MacAddress });
export type ClientEntry = z.infer<typeof ClientEntry>;

const FullDhcp = z.strictObject({
  /** The addresses this box hands out: a range inside the interface's subnet, not containing the box itself. */
  rangeStart: Ipv4,
  rangeEnd: Ipv4,
  /** dnsmasq lease time: seconds, or with m/h/d, or "infinite". */
  leaseTime: z.string().regex(/^(\d+[smhdw]?|infinite)$/, 'must be like 3600, 45m, 12h, 7d or infinite').default('12h'),
  /** The site's router and DNS servers: what the clients need to reach the controller (never this box, which routes nothing and answers no DNS). */
  router: Ipv4,
  dnsServers: z.array(Ipv4).min(1, 'needs at least one DNS server (the site\'s)'),
  domain: z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, 'must be a DNS domain like lab3.example.org').optional(),
});

const RaspberryPi = z.strictObject({
  /**
   * Serial numbers (8 hex digits, as the Pi's boot loader asks for `<serial>/start4.elf`) that get
   * their own TFTP directory. Pis not listed boot from the shared files at the TFTP root.
   */
  serials: z.array(z.string().transform((s) => s.trim().toLowerCase()).refine((s) => /^[0-9a-f]{8}$/.test(s), 'must be a Raspberry Pi serial number: 8 hex digits like 1a2b3c4d')).default([]),
  /** false: only the Pis listed in serials boot (their boot loader finds nothing at the root). */
  anySerial: z.boolean().default(true),
});

export const BootServerConfig = z.strictObject({
  /** Off by default. Also turned on by `boot_server = on` in thinkiosk.conf. */
  enabled: z.boolean().default(false),
  /** proxy: the site's DHCP server gives addresses, this box only adds the boot information. full: this box is the DHCP server (isolated labs). */
  mode: z.enum(['proxy', 'full']).default('proxy'),
  interface: z.string().regex(/^[\w.:-]{1,15}$/, 'must be a network interface name like eth0').default('eth0'),
  /** The box's address on that interface; by default the interface's first IPv4 address. */
  address: Ipv4.optional(),
  /** Port of the HTTP server that serves kernels, initramfs and root file systems. */
  httpPort: z.number().int().min(1).max(65535).default(8069),
  menu: z.strictObject({
    /** Seconds the boot menu waits before starting the kiosk (0: at once). */
    timeoutSeconds: z.number().int().min(0).max(600).default(5),
  }).default({ timeoutSeconds: 5 }),
  /** Kernel messages and the kiosk's ready line on the clients' first serial port too. */
  serialConsole: z.boolean().default(true),
  /** More kernel command-line words for every client, e.g. ["nomodeset"] for a graphics card that needs it. */
  kernelArguments: z.array(z.string().regex(/^[\w.,:=/+-]{1,200}$/, 'must be one kernel command-line word like nomodeset or i915.modeset=0')).default([]),
  /**
   * Router advertisements without a route (lifetime 0) for the interface's IPv6 prefix: iPXE then
   * stops waiting ~13 s for IPv6 before it boots. Only where that prefix may be advertised.
   */
  ipv6RouterAdvertisements: z.boolean().default(false),
  full: FullDhcp.optional(),
  /** Preset for every netbooted client (a client's own entry wins key by key). */
  defaults: ClientPreset.default({}),
  clients: z.array(ClientEntry).default([]),
  raspberryPi: RaspberryPi.default({ serials: [], anySerial: true }),
}).superRefine((config, ctx) => {
  if (config.mode === 'full' && !config.full) {
    ctx.addIssue({ code: 'custom', path: ['full'], message: 'mode "full" needs a full section: rangeStart, rangeEnd, router, dnsServers (the site\'s)' });
  }
  const seen = new Set<string>();
  config.clients.forEach((client, index) => {
    if (seen.has(client.mac)) ctx.addIssue({ code: 'custom', path: ['clients', index, 'mac'], message: `${client.mac} is listed twice` });
    seen.add(client.mac);
  });
  const serials = new Set<string>();
  config.raspberryPi.serials.forEach((serial, index) => {
    if (serials.has(serial)) ctx.addIssue({ code: 'custom', path: ['raspberryPi', 'serials', index], message: `${serial} is listed twice` });
    serials.add(serial);
  });
});
export type BootServerConfig = z.infer<typeof BootServerConfig>;

const CONFIG_FILE: ConfigFileKind<BootServerConfig> = {
  what: 'boot server configuration', syntax: 'YAML', schema: BootServerConfig, error: BootServerConfigError, whenMissing: {},
};

export function parseBootServerConfig(raw: unknown, source: string): BootServerConfig {
  return checkConfig(CONFIG_FILE, raw ?? {}, source);
}

/** Reads the YAML/JSON file; a missing file is the all-defaults configuration. */
export function loadBootServerConfig(path: string): BootServerConfig {
  return loadConfigFile(CONFIG_FILE, path);
}

/**
 * `boot_server = on` in the boot partition's thinkiosk.conf (the image's switch, applied at every
 * boot). Read by the file's one rule: the last good boot_server line wins, as in apply-preset.
 */
export function bootServerSwitchedOn(presetText: string): boolean {
  return lastGoodPresetValue(presetText, 'boot_server') ?? false;
}
