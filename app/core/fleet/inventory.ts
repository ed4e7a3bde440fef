/**
 * What the kiosk tells its fleet about the box at each check-in (contract/fleet.ts Inventory): its
 * name, network cards and addresses, board, image version, uptime, how long the last boot took,
 * temperature, a Raspberry Pi's power flags, screens and USB devices. Each reader takes where it
 * looks (a root directory, a command, the display tool) so tests point it at a fixture tree; each
 * answers "unknown" (null, [], "unknown") rather than failing, and none of them waits long: a
 * check-in must never hold up the person at the kiosk.
 */
import { networkInterfaces as osNetworkInterfaces, hostname as osHostname } from 'node:os';
import { access, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Inventory } from '../../../contract/fleet.js';
import type { DisplayOutput } from '../system/xrandr.js';
import { readThrottling } from './throttling.js';

export interface InventorySources {
  /** Where /proc, /sys and /etc are read (default /; a fixture tree in tests). */
  root: string;
  hostname: () => string;
  networkInterfaces: () => ReturnType<typeof osNetworkInterfaces>;
  /** vcgencmd (Raspberry Pi firmware), or null to not ask it. */
  vcgencmd: string | null;
  /** The screens as the admin screen's display tool sees them (xrandr / wlr-randr). */
  displays: () => Promise<DisplayOutput[]>;
}

export function systemInventorySources(displays: () => Promise<DisplayOutput[]>): InventorySources {
  return { root: '/', hostname: osHostname, networkInterfaces: osNetworkInterfaces, vcgencmd: 'vcgencmd', displays };
}

/** The image's version file (rootfs-overlay has none: image/steps/40-configure.sh writes it). */
export const IMAGE_RELEASE_FILE = 'etc/thinkiosk-release';
const MAX_USB = 64;
/** The Linux Foundation's vendor id: the root hubs of the USB controllers, not devices anyone plugged in. */
const ROOT_HUB_VENDOR = '1d6b';

/** Fits the contract's short text: one line, no control characters, at most 200 characters. */
export function shortText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
}

async function readText(file: string): Promise<string | null> {
  try {
    return (await readFile(file, 'utf8')).replace(/\0/g, '').trim();
  } catch {
    return null;
  }
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** The addresses of every card but the loopback, and the MACs of the cards that have them. */
export function readAddresses(interfaces: ReturnType<typeof osNetworkInterfaces>): Pick<Inventory, 'macs' | 'addresses'> {
  const macs: string[] = [];
  const addresses: Inventory['addresses'] = [];
  for (const [iface, entries] of Object.entries(interfaces)) {
    if (iface === 'lo') continue;
    for (const entry of entries ?? []) {
      if (entry.internal) continue;
      const mac = entry.mac.toLowerCase();
      if (MAC.test(mac) && mac !== '00:00:00:00:00:00' && !macs.includes(mac)) macs.push(mac);
      addresses.push({ iface: shortText(iface), address: entry.address });
    }
  }
  return { macs: macs.slice(0, 16), addresses: addresses.slice(0, 32) };
}

/**
 * The MACs of the box's own network cards (those with a device behind them in /sys/class/net: not
 * bridges, veths or tunnels), also before they have an address (a cable in, no DHCP answer yet);
 * else those of the cards with addresses.
 */
export async function readMacs(root: string, interfaces: ReturnType<typeof osNetworkInterfaces>): Promise<string[]> {
  const base = join(root, 'sys/class/net');
  const macs: string[] = [];
  for (const iface of (await readdir(base).catch(() => [] as string[])).sort()) {
    if (iface === 'lo') continue;
    const hasDevice = await access(join(base, iface, 'device')).then(() => true, () => false);
    const mac = (await readText(join(base, iface, 'address')))?.toLowerCase();
    if (hasDevice && mac && MAC.test(mac) && mac !== '00:00:00:00:00:00' && !macs.includes(mac)) macs.push(mac);
  }
  return (macs.length ? macs : readAddresses(interfaces).macs).slice(0, 16);
}

/** A Pi's (or any device-tree board's) model, else the PC's maker and product from DMI. */
export async function readBoard(root: string): Promise<string> {
  const model = await readText(join(root, 'proc/device-tree/model'));
  if (model) return shortText(model);
  const [vendor, product] = await Promise.all([readText(join(root, 'sys/class/dmi/id/sys_vendor')), readText(join(root, 'sys/class/dmi/id/product_name'))]);
  const board = [vendor, product].filter((part): part is string => Boolean(part)).join(' ');
  return board ? shortText(board) : 'unknown';
}

export async function readImageVersion(root: string): Promise<string> {
  const text = await readText(join(root, IMAGE_RELEASE_FILE));
  const first = text?.split('\n')[0]?.trim();
  return first ? shortText(first) : 'development';
}

/** Seconds since the kernel started (/proc/uptime's first number). */
export async function readUptimeSeconds(root: string): Promise<number | null> {
  const text = await readText(join(root, 'proc/uptime'));
  const seconds = Number(text?.split(/\s+/)[0]);
  return text && Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
}

/** The hottest thermal zone, in °C (the kernel gives millidegrees). */
export async function readTemperatureC(root: string): Promise<number | null> {
  const base = join(root, 'sys/class/thermal');
  const zones = (await readdir(base).catch(() => [] as string[])).filter((name) => name.startsWith('thermal_zone'));
  const readings = await Promise.all(zones.map((zone) => readText(join(base, zone, 'temp'))));
  const celsius = readings.map((text) => Number(text) / 1000).filter((value) => Number.isFinite(value) && value >= -50 && value <= 200);
  return celsius.length ? Math.round(Math.max(...celsius) * 10) / 10 : null;
}

export async function readUsbDevices(root: string): Promise<Inventory['usb']> {
  const base = join(root, 'sys/bus/usb/devices');
  const devices: Inventory['usb'] = [];
  for (const entry of (await readdir(base).catch(() => [] as string[])).sort()) {
    const [vendorId, productId] = await Promise.all([readText(join(base, entry, 'idVendor')), readText(join(base, entry, 'idProduct'))]);
    if (!vendorId || !productId || !/^[0-9a-f]{4}$/.test(vendorId) || !/^[0-9a-f]{4}$/.test(productId) || vendorId === ROOT_HUB_VENDOR) continue;
    const [product, manufacturer] = await Promise.all([readText(join(base, entry, 'product')), readText(join(base, entry, 'manufacturer'))]);
    devices.push({ vendorId, productId, name: shortText(product ?? manufacturer ?? '') });
    if (devices.length >= MAX_USB) break;
  }
  return devices;
}

/** The screens with their current mode; none when there is no display server to ask. */
export async function readDisplays(displays: () => Promise<DisplayOutput[]>): Promise<Inventory['displays']> {
  let outputs: DisplayOutput[];
  try {
    outputs = await displays();
  } catch {
    return [];
  }
  return outputs.slice(0, 16).map((output) => {
    const size = /^(\d+)x(\d+)/.exec(output.current ?? '');
    return { name: shortText(output.name), width: size ? Number(size[1]) : 0, height: size ? Number(size[2]) : 0 };
  });
}

export async function readInventory(sources: InventorySources, bootSeconds: number | null): Promise<Inventory> {
  const interfaces = sources.networkInterfaces();
  const [macs, board, imageVersion, uptime, temperatureC, throttling, displays, usb] = await Promise.all([
    readMacs(sources.root, interfaces), readBoard(sources.root), readImageVersion(sources.root), readUptimeSeconds(sources.root), readTemperatureC(sources.root),
    readThrottling({ root: sources.root, vcgencmd: sources.vcgencmd }), readDisplays(sources.displays), readUsbDevices(sources.root),
  ]);
  return {
    hostname: shortText(sources.hostname()),
    macs,
    addresses: readAddresses(interfaces).addresses,
    board,
    imageVersion,
    slot: null,
    uptimeSeconds: uptime ?? 0,
    bootSeconds,
    temperatureC,
    throttling,
    displays,
    usb,
  };
}
