/**
 * Netboot against a local disk: power-on → THINKIOSK-KIOSK-READY on the serial console for the
 * same kiosk (the amd64 image, and the netboot files `pxe/build-netboot.sh` makes from it), booted
 * by the same QEMU machine (TCG, q35, OVMF, 2 vCPUs, 2 GiB, virtio-vga: test/pxe/netboot-client.ts)
 * either from the network (OVMF's PXE → snponly.efi → menu → kernel and initramfs over HTTP →
 * root file system over HTTP into RAM; proxy-DHCP next to a site DHCP server on the test LAN) or
 * from a local disk (a copy-on-write overlay of the image, its own kernel, initramfs and command
 * line). One client alone, BENCH_NETBOOT_ROUNDS times (default 1) interleaved; then four at once
 * each way (the load run the netboot tests leave to this benchmark). Prints the times, each
 * client's Chromium restarts by the kiosk's watchdog (a first start that never loaded the page) and
 * the ratios netboot / local disk: alone, and for four at once the median and the worst. The site's
 * DHCP server hands out a DNS server that never answers, as on a site whose DNS is down. Needs root
 * (network namespaces tkpxe-*, 10.88.0.0/24).
 * BENCH_NETBOOT_IMAGE_DIR: where the amd64 image is (default: built or reused with --fast, as the
 * tests do). BENCH_NETBOOT_FOUR=0: one client alone only (the four-at-once runs take most of the
 * bench's time). Run: node dist/bench/netboot-bench.js
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, TestLan, WORK } from '../test/pxe/lan.js';
import { localDiskClient, netbootClient, type QemuMachine } from '../test/pxe/netboot-client.js';

const FOUR_AT_ONCE = process.env.BENCH_NETBOOT_FOUR !== '0';
const ROUNDS = Math.max(1, Math.floor(Number(process.env.BENCH_NETBOOT_ROUNDS ?? 1)) || 1);
const OUT = join(WORK, 'bench-out');
const CLIENTS = join(OUT, 'clients');
const IMAGE_DIR = process.env.BENCH_NETBOOT_IMAGE_DIR ?? '/var/tmp/thinkiosk-image/test-out';
const READY = /THINKIOSK-KIOSK-READY page loaded/;
/** Four emulated PCs starting Chromium on two shared cores: many minutes. */
const BOOT_SECONDS = 1800;

class BenchError extends Error {}

async function runStep(command: string, args: string[]): Promise<void> {
  const child = spawn('nice', ['-n', '10', command, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await new Promise<number | null>((done) => child.on('exit', done));
  if (code !== 0) throw new BenchError(`${command} failed (exit ${code})`);
}

/** Seconds from QEMU start to the kiosk's ready line, or null when it did not come. */
async function readySeconds(machine: QemuMachine): Promise<number | null> {
  try {
    await machine.waitFor(READY, BOOT_SECONDS);
    return machine.secondsSinceStart();
  } catch (error) {
    process.stdout.write(`  ${machine.name}: ${(error as Error).message.split('\n')[0]}\n`);
    return null;
  } finally {
    await machine.kill();
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const format = (seconds: number | null): string => (seconds === null ? 'did not get ready' : `${seconds.toFixed(0)} s`);
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new BenchError('run as root: the benchmark builds network namespaces (sudo node dist/bench/netboot-bench.js)');
  mkdirSync(CLIENTS, { recursive: true });
  if (!process.env.BENCH_NETBOOT_IMAGE_DIR) await runStep(join(REPO, 'image/build.sh'), ['--arch', 'amd64', '--fast', '--out', IMAGE_DIR]);
  await runStep(join(REPO, 'pxe/build-netboot.sh'), ['--arch', 'amd64', '--image-dir', IMAGE_DIR, '--out', OUT]);
  const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  const image = join(IMAGE_DIR, `thinkiosk-${version}-amd64.img`);

  const lan = new TestLan(join(OUT, 'lan'));
  // Ctrl+C (or a kill) must not leave emulated PCs, dnsmasq and namespaces behind.
  const machines: QemuMachine[] = [];
  const interrupted = (signal: string): void => {
    process.stdout.write(`netboot bench: ${signal}, cleaning up\n`);
    void Promise.all(machines.map((m) => m.kill())).then(() => lan.down()).finally(() => process.exit(130));
  };
  process.once('SIGINT', () => interrupted('SIGINT'));
  process.once('SIGTERM', () => interrupted('SIGTERM'));
  await lan.up();
  const results: Record<string, unknown> = { rounds: ROUNDS };
  try {
    await lan.startSiteDhcp({ blackHoleDns: true });
    // no_timer_check: a starved emulated PC can fail the kernel's IO-APIC timer check and panic.
    await lan.startBootServer('bench', 'enabled: true\nmode: proxy\ninterface: srv0\nmenu: { timeoutSeconds: 2 }\nkernelArguments: [no_timer_check]\n'
      + 'defaults: { controller: "http://desktops.lab.example:8480" }\n', join(OUT, 'netboot'), { preset: 'admin_pin = 2468\n' });
    let mac = 0;
    const nextMac = (): string => `52:54:00:88:0b:${(mac++).toString(16).padStart(2, '0')}`;
    const track = (machine: QemuMachine): QemuMachine => (machines.push(machine), machine);
    const net = async (name: string): Promise<QemuMachine> => track(netbootClient({ name, firmware: 'uefi', dir: CLIENTS, tap: await lan.addTap(), mac: nextMac() }));
    const local = async (name: string): Promise<QemuMachine> => track(await localDiskClient({ name, dir: CLIENTS, image, tap: await lan.addTap(), mac: nextMac() }));

    const alone: { local: number[]; net: number[] } = { local: [], net: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const kind of ['local', 'net'] as const) {
        const seconds = await readySeconds(await (kind === 'local' ? local : net)(`${kind}-alone-${round}`));
        process.stdout.write(`netboot bench: one client, ${kind === 'net' ? 'netboot' : 'local disk'} (round ${round}): ${format(seconds)}\n`);
        if (seconds !== null) alone[kind].push(seconds);
      }
    }
    const four: { local: (number | null)[]; net: (number | null)[] } = { local: [], net: [] };
    const restartsFour: { local: number[]; net: number[] } = { local: [], net: [] };
    for (const kind of FOUR_AT_ONCE ? (['local', 'net'] as const) : []) {
      const machines = await Promise.all([1, 2, 3, 4].map((i) => (kind === 'local' ? local : net)(`${kind}-four-${i}`)));
      four[kind] = await Promise.all(machines.map(readySeconds));
      const restarts = machines.map((machine) => machine.serial().match(/has not loaded the kiosk page/g)?.length ?? 0);
      restartsFour[kind] = restarts;
      process.stdout.write(`netboot bench: four at once, ${kind === 'net' ? 'netboot' : 'local disk'}: ${four[kind].map(format).join(', ')}; `
        + `Chromium restarted by the watchdog: ${restarts.join(', ')}\n`);
    }
    Object.assign(results, { alone, four, 'watchdog-restarts-four': restartsFour });

    process.stdout.write('\nnetboot bench: power-on → kiosk ready, same QEMU (TCG, UEFI, 2 vCPUs, 2 GiB)\n');
    if (alone.local.length && alone.net.length) {
      const [l, n] = [median(alone.local), median(alone.net)];
      process.stdout.write(`  one client:   local disk ${l.toFixed(0)} s, netboot ${n.toFixed(0)} s → netboot/local ${ratio(n, l)}\n`);
      results['ratio-alone'] = n / l;
    }
    const fourLocal = four.local.filter((s): s is number => s !== null);
    const fourNet = four.net.filter((s): s is number => s !== null);
    if (fourLocal.length && fourNet.length) {
      process.stdout.write(`  four at once: local disk median ${median(fourLocal).toFixed(0)} s, worst ${Math.max(...fourLocal).toFixed(0)} s; `
        + `netboot median ${median(fourNet).toFixed(0)} s, worst ${Math.max(...fourNet).toFixed(0)} s → netboot/local median ${ratio(median(fourNet), median(fourLocal))}, worst ${ratio(Math.max(...fourNet), Math.max(...fourLocal))}\n`);
      results['ratio-four-median'] = median(fourNet) / median(fourLocal);
      results['ratio-four-worst'] = Math.max(...fourNet) / Math.max(...fourLocal);
    }
    if (alone.local.length && fourNet.length) {
      process.stdout.write(`  four netbooted at once vs one from a local disk: median ${ratio(median(fourNet), median(alone.local))}, worst ${ratio(Math.max(...fourNet), median(alone.local))}\n`);
    }
    const stuck = [...four.local, ...four.net].filter((s) => s === null).length;
    if (stuck) process.stdout.write(`  ${stuck} of 8 clients booted four at once did not get ready within ${BOOT_SECONDS} s (counted out of the ratios)\n`);
  } finally {
    await lan.down();
    writeFileSync(join(OUT, 'netboot-bench.json'), `${JSON.stringify(results, null, 2)}\n`);
  }
}

main().catch((error: Error) => {
  process.stderr.write(`netboot bench: ${error instanceof BenchError ? error.message : error.stack ?? error.message}\n`);
  process.exit(1);
});
