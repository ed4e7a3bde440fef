/**
 * The fleet's inventory readers (app/core/fleet/inventory.ts, throttling.ts), against fixture trees
 * this test lays out as the kernel and the firmware present them — a Raspberry Pi 4 under Debian's
 * kernel and under the Pi's own, a PC with DMI — and against this very machine, whose answer must
 * fit the contract whatever it has. The vcgencmd stand-in, named as such, is a script printing what
 * the Pi's firmware tool prints.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Inventory } from '../../contract/fleet.js';
import { readAddresses, readBoard, readDisplays, readImageVersion, readInventory, readMacs, readTemperatureC, readUptimeSeconds, readUsbDevices, systemInventorySources } from '../../app/core/fleet/inventory.js';
import { decodeThrottled, parseVcgencmdThrottled, readThrottling } from '../../app/core/fleet/throttling.js';
import { Displays } from '../../app/core/system/display.js';
import { parseXrandr } from '../../app/core/system/xrandr.js';
import { fixture } from './fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'thinkiosk-fleet-inventory-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A directory tree with these files (paths relative to it). */
function tree(name: string, files: Record<string, string>, links: Record<string, string> = {}): string {
  const root = join(work, name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  for (const [path, target] of Object.entries(links)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    symlinkSync(target, join(root, path));
  }
  return root;
}

/** A Raspberry Pi 4 as Debian's kernel shows it: device-tree model (NUL-terminated), two thermal zones, a keyboard and a card reader behind the root hubs. */
const pi4 = tree('pi4', {
  'proc/device-tree/model': 'Raspberry Pi 4 Model B Rev 1.4\0',
  'proc/uptime': '5123.45 18000.10\n',
  'etc/thinkiosk-release': 'thinkiosk 0.1.0 arm64 (3f2a9c0d1e4b5a6c)\n',
  'sys/class/thermal/thermal_zone0/type': 'cpu-thermal\n',
  'sys/class/thermal/thermal_zone0/temp': '51121\n',
  'sys/class/thermal/thermal_zone1/temp': '47000\n',
  'sys/class/hwmon/hwmon0/name': 'rpi_volt\n',
  'sys/class/hwmon/hwmon0/in0_lcrit_alarm': '1\n',
  'sys/bus/usb/devices/usb1/idVendor': '1d6b\n',
  'sys/bus/usb/devices/usb1/idProduct': '0002\n',
  'sys/bus/usb/devices/usb1/product': 'xHCI Host Controller\n',
  'sys/bus/usb/devices/1-1.3/idVendor': '046d\n',
  'sys/bus/usb/devices/1-1.3/idProduct': 'c31c\n',
  'sys/bus/usb/devices/1-1.3/product': 'USB Keyboard\n',
  'sys/bus/usb/devices/1-1.4/idVendor': '0bda\n',
  'sys/bus/usb/devices/1-1.4/idProduct': '0129\n',
  'sys/bus/usb/devices/1-1.4/manufacturer': 'Generic\n',
  'sys/bus/usb/devices/1-1.3:1.0/bInterfaceClass': '03\n',
  'sys/class/net/eth0/address': 'DC:A6:32:01:02:03\n',
  'sys/class/net/wlan0/address': 'dc:a6:32:01:02:04\n',
  'sys/class/net/docker0/address': '02:42:ac:11:00:01\n',
  'sys/class/net/lo/address': '00:00:00:00:00:00\n',
  'sys/devices/eth0/.keep': '',
  'sys/devices/wlan0/.keep': '',
}, { 'sys/class/net/eth0/device': '../../../devices/eth0', 'sys/class/net/wlan0/device': '../../../devices/wlan0' });

/** A Pi under the Pi's own kernel: its firmware driver's throttled word (hexadecimal, no 0x). */
const piOwnKernel = tree('pi-own-kernel', { 'sys/devices/platform/soc/soc:firmware/get_throttled': '50005\n' });

/** A PC: no device tree, DMI names. */
const pc = tree('pc', {
  'sys/class/dmi/id/sys_vendor': 'LENOVO\n',
  'sys/class/dmi/id/product_name': '10FLS0QA00\n',
  'proc/uptime': '42.00 80.00\n',
});
const empty = tree('empty', { '.keep': '' });

test('[kiosk] fleet inventory: a Pi 4 under Debian\'s kernel — board, image, uptime, hottest zone, USB devices without root hubs, MACs of real cards only', async () => {
  assert.equal(await readBoard(pi4), 'Raspberry Pi 4 Model B Rev 1.4');
  assert.equal(await readImageVersion(pi4), 'thinkiosk 0.1.0 arm64 (3f2a9c0d1e4b5a6c)');
  assert.equal(await readUptimeSeconds(pi4), 5123.45);
  assert.equal(await readTemperatureC(pi4), 51.1);
  assert.deepEqual(await readUsbDevices(pi4), [
    { vendorId: '046d', productId: 'c31c', name: 'USB Keyboard' },
    { vendorId: '0bda', productId: '0129', name: 'Generic' },
  ]);
  // docker0 has no device behind it; the MACs are the box's own cards', in lower case, also without addresses.
  assert.deepEqual(await readMacs(pi4, {}), ['dc:a6:32:01:02:03', 'dc:a6:32:01:02:04']);
});

test('[kiosk] fleet inventory: a PC names its maker and product from DMI; a tree with nothing says so instead of failing', async () => {
  assert.equal(await readBoard(pc), 'LENOVO 10FLS0QA00');
  assert.equal(await readBoard(empty), 'unknown');
  assert.equal(await readImageVersion(empty), 'development');
  assert.equal(await readUptimeSeconds(empty), null);
  assert.equal(await readTemperatureC(empty), null);
  assert.deepEqual(await readUsbDevices(empty), []);
  assert.equal(await readThrottling({ root: empty, vcgencmd: null }), null, 'off a Pi: no throttling flags at all');
});

test('[kiosk] fleet inventory: addresses of every card but the loopback; MACs from the addresses when /sys names no card', async () => {
  const interfaces: ReturnType<typeof networkInterfaces> = {
    lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
    eth0: [
      { address: '10.0.3.27', netmask: '255.255.255.0', family: 'IPv4', mac: '52:54:00:12:34:56', internal: false, cidr: '10.0.3.27/24' },
      { address: 'fe80::5054:ff:fe12:3456', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '52:54:00:12:34:56', internal: false, cidr: 'fe80::5054:ff:fe12:3456/64', scopeid: 2 },
    ],
  };
  assert.deepEqual(readAddresses(interfaces), {
    macs: ['52:54:00:12:34:56'],
    addresses: [{ iface: 'eth0', address: '10.0.3.27' }, { iface: 'eth0', address: 'fe80::5054:ff:fe12:3456' }],
  });
  assert.deepEqual(await readMacs(empty, interfaces), ['52:54:00:12:34:56']);
});

test('[kiosk] fleet throttling: the firmware\'s bits decoded (0 under-voltage, 1 capped, 2 throttled, 3 soft limit; 16 and 18 since boot)', () => {
  assert.deepEqual(decodeThrottled(0), { underVoltage: false, frequencyCapped: false, throttled: false, softTemperatureLimit: false, underVoltageSinceBoot: false, throttledSinceBoot: false });
  // 0x50005: under-voltage and throttled now, and both since boot (the documentation's example of a weak supply).
  assert.deepEqual(decodeThrottled(0x50005), { underVoltage: true, frequencyCapped: false, throttled: true, softTemperatureLimit: false, underVoltageSinceBoot: true, throttledSinceBoot: true });
  assert.deepEqual(decodeThrottled(0x2), { underVoltage: false, frequencyCapped: true, throttled: false, softTemperatureLimit: false, underVoltageSinceBoot: false, throttledSinceBoot: false });
  assert.deepEqual(decodeThrottled(0x8), { underVoltage: false, frequencyCapped: false, throttled: false, softTemperatureLimit: true, underVoltageSinceBoot: false, throttledSinceBoot: false });
  // Bits 17 and 19 (capping and soft limit since boot) have no field of their own.
  assert.deepEqual(decodeThrottled(0xa0000), decodeThrottled(0));
  assert.equal(parseVcgencmdThrottled('throttled=0x50005\n'), 0x50005);
  assert.equal(parseVcgencmdThrottled('VCHI initialization failed\n'), null);
});

test('[kiosk] fleet throttling: vcgencmd first (stand-in script), else the Pi kernel\'s firmware driver, else Debian\'s rpi_volt monitor (under-voltage only)', async () => {
  const vcgencmd = join(work, 'vcgencmd-stand-in');
  writeFileSync(vcgencmd, '#!/bin/sh\n[ "$1" = get_throttled ] && echo "throttled=0x4" && exit 0\nexit 1\n');
  chmodSync(vcgencmd, 0o755);
  assert.deepEqual(await readThrottling({ root: pi4, vcgencmd }), decodeThrottled(0x4));
  assert.deepEqual(await readThrottling({ root: piOwnKernel, vcgencmd: join(work, 'no-such-vcgencmd') }), decodeThrottled(0x50005));
  assert.deepEqual(await readThrottling({ root: pi4, vcgencmd: null }), { underVoltage: true, frequencyCapped: false, throttled: false, softTemperatureLimit: false, underVoltageSinceBoot: true, throttledSinceBoot: false });
});

test('[kiosk] fleet inventory: screens with their current mode from the display tool; none when there is no display server', async () => {
  const outputs = parseXrandr(fixture('system/xrandr-1.5.1-query.xvnc-1.12.txt'));
  assert.deepEqual(await readDisplays(async () => outputs), [{ name: 'VNC-0', width: 1280, height: 800 }]);
  assert.deepEqual(await readDisplays(() => new Displays({ env: {} }).outputs()), []);
});

test('[kiosk] fleet inventory: the whole inventory of a Pi fixture fits the contract', async () => {
  const inventory = await readInventory({
    root: pi4, hostname: () => 'lab3-kiosk-07', networkInterfaces: () => ({}), vcgencmd: null,
    displays: async () => [{ name: 'HDMI-A-1', modes: ['1920x1080'], current: '1920x1080' }],
  }, 21.5);
  assert.deepEqual(Inventory.parse(inventory), inventory);
  assert.equal(inventory.bootSeconds, 21.5);
  assert.equal(inventory.slot, null);
  assert.deepEqual(inventory.displays, [{ name: 'HDMI-A-1', width: 1920, height: 1080 }]);
});

test('[kiosk] fleet inventory: this machine, as the kiosk would read it, fits the contract', async () => {
  const inventory = await readInventory(systemInventorySources(() => new Displays().outputs()), null);
  assert.deepEqual(Inventory.parse(inventory), inventory);
  assert.equal(inventory.hostname, hostname());
  assert.ok(inventory.uptimeSeconds > 0, 'the kernel\'s uptime');
  assert.ok(!inventory.addresses.some((a) => a.address === '127.0.0.1'), 'no loopback address');
  const cards = Object.entries(networkInterfaces()).filter(([name, entries]) => name !== 'lo' && entries?.some((e) => !e.internal));
  if (cards.length) assert.ok(inventory.macs.length > 0, 'a machine with a network card has a MAC to enrol with');
  assert.ok(inventory.board.length > 0 && inventory.imageVersion.length > 0);
});
