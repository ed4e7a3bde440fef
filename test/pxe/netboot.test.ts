/**
 * Diskless PCs netboot the real kiosk from the boot server, on a LAN of network namespaces (lan.ts):
 * real firmware (SeaBIOS with QEMU's iPXE ROM; OVMF with its own PXE), the real boot server
 * (dist/pxe/main.js serve: dnsmasq + HTTP) and the netboot files `make netboot` builds from the
 * amd64 appliance image (image/build.sh; reused when it did not change). A client counts as booted
 * when the kiosk service reports ready on its serial console and a screendump shows the kiosk.
 *
 *   1. full DHCP (an isolated lab): the client's address comes from the boot server with the
 *      site's router and DNS; the root file system is missing at first, then one of another build
 *      is served: the client shows the error screen for each and retries; once the right file is
 *      there it boots into the kiosk's setup screen.
 *   2. proxy-DHCP next to the site's own DHCP server, whose DNS server never answers: a BIOS PC
 *      shows the login screen of its preset's controller at Chromium's first start, takes the
 *      site's DNS through NetworkManager, and its admin screen opens with the box's PIN only.
 *
 * Four PCs at once are a load run: bench/netboot-bench.ts (make bench). TCG only (no KVM here): a
 * client takes minutes. Times are written to WORK/test-out/metrics.json and printed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEAD_DNS_IP, REPO, SERVER_IP, SITE_IP, TestLan, WORK } from './lan.js';
import { netbootClient, type Firmware, type QemuMachine } from './netboot-client.js';
import { findWord, readScreen, screenBusyness } from '../image/screen.js';

const run = promisify(execFile);
const OUT = join(WORK, 'test-out');
const IMAGE_DIR = process.env.THINKIOSK_PXE_IMAGE_DIR ?? '/var/tmp/thinkiosk-image/test-out';
const NETBOOT = join(OUT, 'netboot');
const READY = /THINKIOSK-KIOSK-READY page loaded \(booted from netboot from 10\.88\.0\.2\)/;
/** One emulated PC from power-on to the kiosk, on two shared cores. */
const ONE_CLIENT_SECONDS = 900;
/**
 * Chromium's first start → the page, on a client whose DNS never answers. Nothing of the page
 * needs DNS; under TCG a first start takes 15–40 s (the watchdog restarts it after 120 s).
 */
const FIRST_START_SECONDS = 90;
/** A starved emulated PC can fail the kernel's IO-APIC timer check and panic: not a real PC's problem. */
const TEST_KERNEL_ARGUMENTS = 'kernelArguments: [no_timer_check]';
const lan = new TestLan(join(OUT, 'lan'));
const metrics: Record<string, unknown> = {};
const saveMetrics = (): void => writeFileSync(join(OUT, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);

/** Runs a build script, passing its lines on (it can take minutes). */
async function build(command: string, args: string[]): Promise<void> {
  const child = spawn('nice', ['-n', '10', command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const take = (chunk: Buffer): void => {
    log += chunk.toString();
    process.stderr.write(chunk);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const code = await new Promise<number | null>((done) => child.on('exit', done));
  if (code !== 0) throw new Error(`${command} failed (exit ${code}):\n${log.split('\n').slice(-25).join('\n')}`);
}

before(async () => {
  mkdirSync(OUT, { recursive: true });
  const t0 = Date.now();
  if (process.env.THINKIOSK_PXE_IMAGE_DIR === undefined) {
    // The image test builds the same image with the same flags: this is then a cache hit.
    await build(join(REPO, 'image/build.sh'), ['--arch', 'amd64', '--fast', '--out', IMAGE_DIR]);
  }
  const t1 = Date.now();
  await build(join(REPO, 'pxe/build-netboot.sh'), ['--arch', 'amd64', '--image-dir', IMAGE_DIR, '--out', OUT]);
  metrics['image-seconds'] = (t1 - t0) / 1000;
  metrics['netboot-build-seconds'] = (Date.now() - t1) / 1000;
  await lan.up();
});

after(async () => {
  await lan.down();
  saveMetrics();
});

interface Client {
  machine: QemuMachine;
  firmware: Firmware;
  mac: string;
}

function startClient(name: string, firmware: Firmware, tap: string, mac: string): Client {
  mkdirSync(join(OUT, 'clients'), { recursive: true });
  const machine = netbootClient({ name, firmware, dir: join(OUT, 'clients'), tap, mac });
  machine.watch('kernel', /thinkiosk-netboot: starting/);
  machine.watch('network', /thinkiosk-netboot: network:/);
  machine.watch('root-loaded', /thinkiosk-netboot: kiosk's system loaded/);
  machine.watch('system', /thinkiosk-netboot: starting the kiosk's system/);
  machine.watch('error', /thinkiosk-netboot: ERROR/);
  machine.watch('chromium', /\[shell\] chromium started/);
  machine.watch('ready', READY);
  return { machine, firmware, mac };
}

/**
 * The screen's words once it shows `expected`. Chromium paints a moment after the page reports
 * loaded (first its bare "thinkiosk" splash), so the screen is read again for up to a minute.
 * `minBusyness`: share of non-background pixels (text on a plain screen is little).
 */
async function screenText(client: Client, label: string, expected: RegExp, minBusyness = 0.02): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (let attempt = 0; ; attempt++) {
    const ppm = await client.machine.screendump(join(OUT, 'clients', `${client.machine.name}-${label}.ppm`));
    const busy = screenBusyness(ppm) > minBusyness;
    const text = busy ? await readScreen(ppm, attempt % 2 ? 3 : 2) : '';
    if (busy && expected.test(text)) return text;
    if (Date.now() > deadline) {
      assert.ok(busy, `${client.machine.name}: the screen is not blank (${label})`);
      return text;
    }
    await new Promise((done) => setTimeout(done, 3000));
  }
}

/** The lease the initramfs reported: "network: eth0 <mac> address A/24 router R dns D from DHCP server S". */
function lease(client: Client): { address: string; router: string; dns: string; server: string } {
  const match = /thinkiosk-netboot: network: \S+ (\S+) address ([\d.]+)\/\d+ router (\S+) dns (.+?) from DHCP server ([\d.]+)/.exec(client.machine.serial());
  assert.ok(match, `${client.machine.name}: the initramfs reported its network set-up:\n${client.machine.tail()}`);
  assert.equal(match[1], client.mac, 'on the card it booted from');
  return { address: match[2]!, router: match[3]!, dns: match[4]!.trim(), server: match[5]! };
}

function timings(client: Client): Record<string, number> {
  return Object.fromEntries([...client.machine.milestones].map(([label, seconds]) => [label, Math.round(seconds * 10) / 10]));
}

/** A netboot tree like the real one, but without the amd64 root file system (links, no copies). */
function netbootWithoutRoot(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'tftp'), { recursive: true });
  mkdirSync(join(dir, 'http', 'amd64'), { recursive: true });
  for (const name of readdirSync(join(NETBOOT, 'tftp'))) symlinkSync(join(NETBOOT, 'tftp', name), join(dir, 'tftp', name));
  for (const name of ['vmlinuz', 'initrd.img']) symlinkSync(join(NETBOOT, 'http', 'amd64', name), join(dir, 'http', 'amd64', name));
  return dir;
}

test('the netboot files: kernel, initramfs and root file system from the amd64 image, iPXE loaders, checksums that match', async () => {
  for (const file of ['http/amd64/vmlinuz', 'http/amd64/initrd.img', 'http/amd64/root.squashfs', 'tftp/undionly.kpxe', 'tftp/snponly.efi', 'tftp/ipxe-arm64.efi', 'SHA256SUMS', 'manifest.txt']) {
    assert.ok(existsSync(join(NETBOOT, file)), `${file} was built`);
  }
  await run('sha256sum', ['--quiet', '-c', 'SHA256SUMS'], { cwd: NETBOOT });
  const manifest = readFileSync(join(NETBOOT, 'manifest.txt'), 'utf8');
  assert.match(manifest, /^amd64-kernel: \S+-amd64$/m);
  assert.match(manifest, /^amd64-image: [0-9a-f]{64} {2}thinkiosk-[\d.]+-amd64\.img\.xz$/m, 'made from the image with this checksum');
  assert.equal(readFileSync(join(NETBOOT, 'http/amd64/root.squashfs')).subarray(0, 4).toString(), 'hsqs', 'the root is a squashfs');
  const { stdout: pinned } = await run('sh', ['-c', `zstd -dc '${join(NETBOOT, 'http/amd64/initrd.img')}' | cpio -i --quiet --to-stdout etc/root.sha256`]);
  const rootSum = /^([0-9a-f]{64}) {2}http\/amd64\/root\.squashfs$/m.exec(readFileSync(join(NETBOOT, 'SHA256SUMS'), 'utf8'))?.[1];
  assert.equal(pinned.trim(), rootSum, 'the initramfs accepts exactly this root (its SHA256)');
  metrics['amd64-root-mib'] = Math.round(Number(/^amd64-root-bytes: (\d+)/m.exec(manifest)?.[1]) / 1048576);
  metrics['amd64-initrd-kib'] = Math.round(Number(/^amd64-initrd-bytes: (\d+)/m.exec(manifest)?.[1]) / 1024);
});

test('full DHCP: the boot server gives the address with the site\'s router and DNS; without the root file system, and with one of another build, the client shows the error screen and retries, and boots into the kiosk once the right one is there', { timeout: (ONE_CLIENT_SECONDS + 300) * 1000 }, async () => {
  const view = netbootWithoutRoot(join(OUT, 'netboot-without-root'));
  const server = await lan.startBootServer('full', `enabled: true
mode: full
interface: srv0
menu: { timeoutSeconds: 2 }
${TEST_KERNEL_ARGUMENTS}
ipv6RouterAdvertisements: true
full: { rangeStart: 10.88.0.100, rangeEnd: 10.88.0.149, router: ${SITE_IP}, dnsServers: [${SITE_IP}] }
`, view);
  let client: Client | null = null;
  try {
    client = startClient('full-uefi', 'uefi', await lan.addTap(), '52:54:00:88:01:01');
    await client.machine.waitFor(/thinkiosk-netboot: ERROR thinkiosk cannot start: The boot server 10\.88\.0\.2 answers, but it does not have the kiosk's system/, 300);
    const got = lease(client);
    assert.equal(got.server, SERVER_IP, 'the address came from the boot server (full DHCP)');
    assert.match(got.address, /^10\.88\.0\.(1[0-4]\d)$/, 'from the configured range');
    assert.equal(got.router, SITE_IP, 'the site\'s router, not the boot server');
    assert.equal(got.dns, SITE_IP, 'the site\'s DNS, not the boot server');
    const text = await screenText(client, 'error', /Trying again in \d+ seconds/i, 0.002);
    assert.match(text, /thinkiosk cannot start/i, `the error screen, the screen reads: ${text}`);
    assert.match(text, /does not have the kiosk.s system/i, `what is wrong, the screen reads: ${text}`);
    assert.match(text, /Trying again in \d+ seconds/i, `that it retries, the screen reads: ${text}`);
    await client.machine.waitFor(/attempt 2\)/, 120);

    // A root of another build (or one altered on the way): a squashfs that is not the one this
    // initramfs was built with is refused, however whole it looks.
    const other = Buffer.concat([Buffer.from('hsqs'), Buffer.alloc(2 * 1048576 - 4, 1)]);
    writeFileSync(join(view, 'http/amd64/root.squashfs'), other);
    await client.machine.waitFor(/thinkiosk-netboot: ERROR thinkiosk cannot start: The kiosk's system from the boot server 10\.88\.0\.2 is not the one this computer's boot files were built with/, 300);
    assert.match(client.machine.serial(), new RegExp(`root\\.squashfs SHA256 ${createHash('sha256').update(other).digest('hex')}, expected [0-9a-f]{64}`));
    const refused = await screenText(client, 'wrong-root', /checksum differs/i, 0.002);
    assert.match(refused, /not the one this computer.s boot files were built with/i, `the error screen, the screen reads: ${refused}`);

    rmSync(join(view, 'http/amd64/root.squashfs'));
    symlinkSync(join(NETBOOT, 'http/amd64/root.squashfs'), join(view, 'http/amd64/root.squashfs'));
    await client.machine.waitFor(READY, ONE_CLIENT_SECONDS);
    const setup = await screenText(client, 'setup', /Connect this kiosk to your desktop controller/i);
    assert.match(setup, /Connect this kiosk to your desktop controller/i, `the kiosk's setup screen (no preset), the screen reads: ${setup}`);
    assert.ok(server.status().events.some((e) => e.kind === 'tftp' && /snponly\.efi/.test(e.detail)), 'the UEFI client loaded snponly.efi over TFTP');
    assert.doesNotMatch(client.machine.serial(), /has not loaded the kiosk page/, 'the page loaded at Chromium\'s first start');
    metrics['full-dhcp-uefi'] = timings(client);
  } finally {
    await client?.machine.kill();
    await lan.stop(server.child);
  }
});

/** Clicks the first word on the screen that matches `word`; fails with what the screen reads. */
async function clickWord(client: Client, label: string, word: RegExp): Promise<void> {
  const ppm = await client.machine.screendump(join(OUT, 'clients', `${client.machine.name}-${label}.ppm`));
  const at = await findWord(ppm, word);
  assert.ok(at, `${client.machine.name}: "${word.source}" on the screen, which reads: ${await readScreen(ppm)}`);
  await client.machine.click(at.x, at.y);
}

test('proxy-DHCP, the site\'s DNS server never answers: a BIOS PC shows its preset\'s login screen at Chromium\'s first start, takes the site\'s DNS through NetworkManager, and its admin screen opens only with the box\'s PIN', { timeout: (ONE_CLIENT_SECONDS + 300) * 1000 }, async () => {
  const site = await lan.startSiteDhcp({ blackHoleDns: true });
  const server = await lan.startBootServer('proxy', `enabled: true
mode: proxy
interface: srv0
menu: { timeoutSeconds: 2 }
${TEST_KERNEL_ARGUMENTS}
defaults: { controller: "http://desktops.lab.example:8480" }
clients:
  - { mac: "52:54:00:88:02:01", controller: "http://lab3-controller.example:8480" }
`, NETBOOT, { preset: 'controller = http://box.example:8480\nadmin_pin = 2468\n' });
  let client: Client | null = null;
  try {
    client = startClient('proxy-bios', 'bios', await lan.addTap(), '52:54:00:88:02:01');
    await client.machine.waitFor(READY, ONE_CLIENT_SECONDS);
    const name = client.machine.name;
    const serial = client.machine.serial();
    const got = lease(client);
    assert.equal(got.server, SITE_IP, 'the address came from the site\'s DHCP server (the boot server is only a proxy)');
    assert.match(got.address, /^10\.88\.0\.1[5-9]\d$/, 'from the site\'s range');
    assert.equal(got.dns, DEAD_DNS_IP, 'the site hands out its DNS server that never answers');
    const status = server.status();
    assert.ok(status.events.some((e) => e.kind === 'tftp' && e.client === got.address && /menu\.ipxe/.test(e.detail)), 'got the boot menu over TFTP');
    assert.ok(status.events.some((e) => e.kind === 'http' && e.client === got.address && /root\.squashfs 200/.test(e.detail)), 'loaded the root file system over HTTP');
    assert.match(serial, /preset: \d+ setting\(s\), admin PIN hash among them/, 'the preset carried the admin PIN hash');

    // The page loads at Chromium's first start, with nothing to resolve on the way.
    assert.equal(serial.match(/\[shell\] chromium started/g)?.length, 1, `one Chromium start, no watchdog restart:\n${client.machine.tail()}`);
    assert.doesNotMatch(serial, /has not loaded the kiosk page/);
    const firstStart = client.machine.milestones.get('ready')! - client.machine.milestones.get('chromium')!;
    metrics['dead-dns-first-start-to-page-seconds'] = Math.round(firstStart * 10) / 10;
    assert.ok(firstStart < FIRST_START_SECONDS, `the page ${firstStart.toFixed(0)} s after Chromium's first start`);
    // NetworkManager asked the site's DHCP server again (it sends the host name; the initramfs does not):
    // so it holds the lease and wrote the site's DNS server where the system resolves names.
    assert.match(readFileSync(join(OUT, 'lan', 'site-dhcp.log'), 'utf8'), /client provides name: thinkiosk/, 'NetworkManager took the card over with DHCP');

    const login = await screenText(client, 'login', /lab3-controller\.example/);
    assert.match(login, /Log ?in/i, `${name}: the login screen, the screen reads: ${login}`);
    assert.match(login, /lab3-controller\.example/, `${name}: its own preset's controller, the screen reads: ${login}`);

    // The admin screen: the box's PIN is this kiosk's PIN too.
    await clickWord(client, 'login-settings', /^Settings$/);
    const askPin = await screenText(client, 'admin-pin', /Admin PIN/i);
    assert.match(askPin, /Admin PIN/i, `${name}: the admin screen asks for the PIN, the screen reads: ${askPin}`);
    await client.machine.typeKeys('1111\n');
    const wrong = await screenText(client, 'admin-wrong-pin', /Wrong PIN/i);
    assert.match(wrong, /Wrong PIN/i, `${name}: a wrong PIN is refused, the screen reads: ${wrong}`);
    await client.machine.typeKeys('2468\n');
    // The panel's heading and its controller tab's first field: OCR has missed the small "Lock and
    // leave" button in the corner while reading the rest of the screen.
    const panel = await screenText(client, 'admin-panel', /Administrator settings[\s\S]*Controller address/i);
    assert.match(panel, /Administrator settings[\s\S]*Controller address/i, `${name}: the box's PIN opens the admin screen, the screen reads: ${panel}`);
    assert.match(panel, /lab3-controller\.example:8480/, `${name}: the whole controller address is shown, the screen reads: ${panel}`);
    assert.doesNotMatch(panel, /No admin PIN is set/i);
    metrics['proxy-bios-dead-dns'] = timings(client);
    process.stderr.write(`[netboot] BIOS client, dead DNS: power-on to kiosk ready ${client.machine.milestones.get('ready')!.toFixed(0)} s, Chromium's first start to the page ${firstStart.toFixed(0)} s\n`);
  } finally {
    await client?.machine.kill();
    await lan.stop(server.child);
    await lan.stop(site);
    saveMetrics();
  }
});
