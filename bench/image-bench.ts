/**
 * The appliance image against a plain Debian built by the same recipe: image/build.sh builds (or
 * reuses, by the hash of its inputs) the arm64 kiosk image and its minimal variant (`--variant
 * minimal`: same kernel, initramfs, read-only root and disk layout, no kiosk; a login prompt on the
 * serial console). Prints their .img.xz, raw and installed sizes and build times (the build's own
 * record when it was reused), then boots each in the same QEMU (TCG, -M virt, the image's own
 * kernel and initramfs, 2 vCPUs, 1 GiB like the seed's board: image/qemu-boot.sh), BENCH_IMAGE_ROUNDS
 * times (default 1), interleaved, each twice (its first boot, then after a pulled plug the boot of every
 * day): QEMU start → THINKIOSK-KIOSK-READY (kiosk, with a preset controller so it shows its login
 * screen) vs QEMU start → "login:" (minimal), both on the serial console; the
 * memory at the kiosk's login screen (in use, and the PSS of the kiosk's processes by program) and
 * where the kiosk's boot went (when each unit on its path was up, systemd-analyze blame), all from
 * test/image/probe.sh, started the same way in both images. Issue 13's goals are printed beside.
 * Builds with --fast (xz -0, shared with test/image); BENCH_IMAGE_FULL_XZ=1 builds as `make image`
 * does (xz -6); BENCH_IMAGE_KIOSK / BENCH_IMAGE_MINIMAL=path.img boot an image already built (its
 * manifest and build record next to it) instead. Needs root (the build). Run: node dist/bench/image-bench.js
 */
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, Vm, WORK, putBootFile, readSlotFile, scratchCopy } from '../test/image/appliance.js';

type Variant = 'kiosk' | 'minimal';
const VARIANTS: readonly Variant[] = ['kiosk', 'minimal'];
const ARCH = 'arm64';
const ROUNDS = Math.max(1, Math.floor(Number(process.env.BENCH_IMAGE_ROUNDS ?? 1)) || 1);
const FULL_XZ = process.env.BENCH_IMAGE_FULL_XZ === '1';
const OUT = join(WORK, 'bench-out');
/** TCG emulation of a whole Pi booting Chromium on shared cores: minutes, not seconds. */
const BOOT_SECONDS = 1200;
const MARKER: Record<Variant, RegExp> = { kiosk: /THINKIOSK-KIOSK-READY page loaded/, minimal: /\S+ login: / };
const PROBE = join(REPO, 'test/image/probe.sh');
const MIB = 1048576;
/** The seed's thin client: a Raspberry Pi with 1 GB of RAM. */
const MEMORY_MIB = 1024;
/** Issue 13's goals for the image. */
const GOALS = { bootRatio: 1.3, initramfsBytes: 10e6, xzMiB: 300, buildSeconds: 15 * 60, kioskPssMiB: 250 };

/** A failure the person running the bench can act on: printed as it is, without a stack trace. */
class BenchError extends Error {}

interface BuiltImage {
  variant: Variant;
  img: string;
  xzBytes: number;
  imgBytes: number;
  installedBytes: number;
  /** From the build's own record: the base root file system, and the image's steps after it. */
  baseSeconds: number | null;
  imageSeconds: number | null;
  note: string;
}

function checkHost(building: boolean): void {
  if (building && process.getuid?.() !== 0) throw new BenchError('run as root: image/build.sh needs it (sudo make bench, or sudo node dist/bench/image-bench.js)');
  const tools: [string, string][] = [['qemu-system-aarch64', 'qemu-system-arm'], ['mcopy', 'mtools'], ...(building ? [['mmdebstrap', 'mmdebstrap'], ['xz', 'xz-utils']] as [string, string][] : [])];
  for (const [tool, pkg] of tools) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      throw new BenchError(`'${tool}' is missing: run scripts/install-deps.sh image (Debian package ${pkg})`);
    }
  }
}

function recordField(record: string, key: string): number | null {
  const match = new RegExp(`^${key}: (\\d+)`, 'm').exec(record);
  return match ? Number(match[1]) : null;
}

/** image/build.sh for one variant; its lines go to a log file (and, shortened, to stderr). */
async function buildImage(variant: Variant): Promise<BuiltImage> {
  mkdirSync(OUT, { recursive: true });
  const logFile = join(OUT, `build-${variant}-${ARCH}.log`);
  writeFileSync(logFile, '');
  const args = [join(REPO, 'image/build.sh'), '--arch', ARCH, '--variant', variant, '--out', OUT, ...(FULL_XZ ? [] : ['--fast'])];
  const t0 = Date.now();
  const child = spawn('nice', ['-n', '10', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const take = (chunk: Buffer): void => {
    log += chunk.toString();
    appendFileSync(logFile, chunk);
    for (const line of chunk.toString().split('\n')) if (/── |ERROR|image: /.test(line)) process.stderr.write(`[build ${variant}] ${line.trim()}\n`);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const code = await new Promise<number | null>((done) => child.on('exit', done));
  if (code !== 0) {
    throw new BenchError(`the ${variant} image did not build (image/build.sh exit ${code}); log ${logFile}:\n${log.split('\n').slice(-15).join('\n')}`);
  }
  const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  const name = variant === 'minimal' ? `thinkiosk-minimal-${version}-${ARCH}` : `thinkiosk-${version}-${ARCH}`;
  const reused = /reused \(inputs unchanged\)/.test(log);
  return describeImage(variant, join(OUT, `${name}.img`), reused ? 'reused (inputs unchanged)' : `built now in ${Math.round((Date.now() - t0) / 1000)} s`);
}

/** Sizes from the image and its manifest; build times from the build's own record next to it. */
function describeImage(variant: Variant, img: string, how: string): BuiltImage {
  for (const file of [img, `${img}.xz`]) if (!existsSync(file)) throw new BenchError(`${file} is missing`);
  const manifest = readFileSync(img.replace(/\.img$/, '.manifest'), 'utf8');
  const recordFile = img.replace(/\.img$/, '.build');
  const record = existsSync(recordFile) ? readFileSync(recordFile, 'utf8') : '';
  let note = how;
  if (!record) note += '; no build record (built before builds kept one): build time unknown';
  else note += `; times from the build's record of ${/^built: (\S+)/m.exec(record)?.[1] ?? '?'}`
    + `${/^base-reused: yes/m.test(record) ? ' (its base root was reused: that time from the base\'s own record)' : ''}`;
  if (/from the file times/.test(record)) note += '; base time from its file times';
  return {
    variant, img, note,
    xzBytes: statSync(`${img}.xz`).size,
    imgBytes: statSync(img).size,
    installedBytes: Number(/^root-installed-bytes: (\d+)/m.exec(manifest)?.[1] ?? NaN),
    baseSeconds: recordField(record, 'base-seconds'),
    imageSeconds: recordField(record, 'image-steps-seconds'),
  };
}

interface Boot {
  seconds: number;
  memoryMiB: number | null;
  /** PSS of the kiosk user's processes by program: KiB and process count; "total" summed. */
  pss: Map<string, { kib: number; processes: number }>;
  /** When each unit on the kiosk's path was up, and systemd-analyze blame, as the probe printed them. */
  analyze: string[];
}

/** The first boot of a card (it grows the settings partition, checks thinkiosk.conf with the app) and the boots of every day after. */
type BootKind = 'first' | 'later';
const BOOT_KINDS: readonly BootKind[] = ['first', 'later'];

/**
 * A scratch copy booted twice: its first boot, then, after a pulled plug (how a classroom's kiosks
 * are switched off), the next one. The probe is started the same way in both images (so both
 * carry its cost); the kiosk gets a preset controller, so what it shows when ready is its login screen.
 */
async function bootTwice(image: BuiltImage, round: number): Promise<Record<BootKind, Boot>> {
  const disk = scratchCopy(image.img, `bench-${image.variant}.img`);
  try {
    await putBootFile(disk, 'thinkiosk-probe.sh', readFileSync(PROBE, 'utf8'));
    if (image.variant === 'kiosk') await putBootFile(disk, 'thinkiosk.conf', 'controller = http://bench.example:8480\n');
    const first = await boot(image, disk, round, 'first');
    // The first boot's console is kept beside the second's.
    renameSync(join(`${disk}.state`, 'console.log'), `${disk}.first-boot-console.log`);
    return { first, later: await boot(image, disk, round, 'later') };
  } finally {
    rmSync(disk, { force: true });
  }
}

async function boot(image: BuiltImage, disk: string, round: number, kind: BootKind): Promise<Boot> {
  const vm = new Vm(ARCH, disk, { memoryMiB: MEMORY_MIB });
  try {
    await vm.waitFor(MARKER[image.variant], BOOT_SECONDS).catch((error: unknown) => {
      throw new BenchError(`round ${round}: the ${image.variant} image's ${kind} boot did not reach ${MARKER[image.variant]} (console ${join(vm.state, 'console.log')}): ${String(error instanceof Error ? error.message : error)}`);
    });
    const seconds = vm.secondsSinceStart();
    let memoryMiB: number | null = null;
    const pss = new Map<string, { kib: number; processes: number }>();
    const analyze: string[] = [];
    if (image.variant === 'kiosk') {
      const report = await vm.probeReport(300);
      const used = Number(report.get('memory-used-mib')?.[0]);
      memoryMiB = Number.isFinite(used) ? used : null;
      for (const line of report.get('kiosk-pss-kib') ?? []) {
        const [program, kib, processes] = line.split(' ');
        if (program && Number.isFinite(Number(kib))) pss.set(program, { kib: Number(kib), processes: Number(processes ?? 0) });
      }
      for (const key of ['unit-up', 'blame']) for (const line of report.get(key) ?? []) analyze.push(`${key}: ${line}`);
    }
    const pssTotal = pss.get('total');
    process.stderr.write(`[boot ${round} ${image.variant} ${kind}] ${seconds.toFixed(0)} s${memoryMiB === null ? '' : `, ${memoryMiB} MiB in use`}${pssTotal ? `, kiosk PSS ${Math.round(pssTotal.kib / 1024)} MiB` : ''}\n`);
    // What the boot wrote to the settings partition reaches the card (ext4's 5 s commit interval).
    await new Promise((done) => setTimeout(done, 6000));
    return { seconds, memoryMiB, pss, analyze };
  } finally {
    await vm.kill();
  }
}

/** The size of slot A's initramfs (/boot/initrd.img in the root: image/ab-slots.md). */
function initramfsBytes(img: string): number | null {
  try {
    return readSlotFile(img, '/boot/initrd.img').length;
  } catch {
    return null;
  }
}

function median(values: number[]): number | null {
  const sorted = [...values].sort((a, b) => a - b);
  if (!sorted.length) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const mib = (bytes: number): string => `${Math.round(bytes / MIB)} MiB`;
const secs = (seconds: number | null): string => (seconds === null ? '?' : `${Math.round(seconds)} s`);
const ratio = (a: number | null, b: number | null): string => (a === null || b === null || !b ? '-' : `${(a / b).toFixed(2)}`);
const total = (image: BuiltImage): number | null => (image.baseSeconds === null || image.imageSeconds === null ? null : image.baseSeconds + image.imageSeconds);

async function main(): Promise<void> {
  const given = (variant: Variant): string | undefined => process.env[`BENCH_IMAGE_${variant.toUpperCase()}`] || undefined;
  checkHost(VARIANTS.some((variant) => !given(variant)));
  const images = {} as Record<Variant, BuiltImage>;
  for (const variant of VARIANTS) {
    const path = given(variant);
    images[variant] = path ? describeImage(variant, path, `given (${path})`) : await buildImage(variant);
  }
  const { kiosk, minimal } = images;

  const times: Record<BootKind, Record<Variant, number[]>> = { first: { kiosk: [], minimal: [] }, later: { kiosk: [], minimal: [] } };
  const memory: number[] = [];
  let lastKioskBoot: Boot | null = null;
  for (let round = 1; round <= ROUNDS; round++) {
    // Interleaved, the first of each round alternating, so neither always meets the same neighbours' load.
    const order = round % 2 ? VARIANTS : [...VARIANTS].reverse();
    for (const variant of order) {
      const result = await bootTwice(images[variant], round);
      for (const kind of BOOT_KINDS) times[kind][variant].push(result[kind].seconds);
      if (result.later.memoryMiB !== null) memory.push(result.later.memoryMiB);
      if (variant === 'kiosk') lastKioskBoot = result.later;
    }
  }
  const boots = Object.fromEntries(BOOT_KINDS.map((kind) => [kind, { kiosk: median(times[kind].kiosk), minimal: median(times[kind].minimal) }])) as Record<BootKind, Record<Variant, number | null>>;
  const kioskBoot = boots.later.kiosk;
  const minimalBoot = boots.later.minimal;
  const kioskMemory = median(memory);

  const initramfs = initramfsBytes(kiosk.img);
  const xzLabel = FULL_XZ ? '.img.xz (xz -6)' : '.img.xz (xz -0, --fast)';
  const rows: [string, string, string, string][] = [
    ['', 'kiosk', 'minimal', 'ratio'],
    [xzLabel, mib(kiosk.xzBytes), mib(minimal.xzBytes), ratio(kiosk.xzBytes, minimal.xzBytes)],
    ['raw .img', mib(kiosk.imgBytes), mib(minimal.imgBytes), ratio(kiosk.imgBytes, minimal.imgBytes)],
    ['installed (root file system)', mib(kiosk.installedBytes), mib(minimal.installedBytes), ratio(kiosk.installedBytes, minimal.installedBytes)],
    ['build: base root (mmdebstrap)', secs(kiosk.baseSeconds), secs(minimal.baseSeconds), ratio(kiosk.baseSeconds, minimal.baseSeconds)],
    ['build: image steps', secs(kiosk.imageSeconds), secs(minimal.imageSeconds), ratio(kiosk.imageSeconds, minimal.imageSeconds)],
    ['build: total', secs(total(kiosk)), secs(total(minimal)), ratio(total(kiosk), total(minimal))],
    [`first boot: QEMU start → ready / login: (median of ${ROUNDS})`, secs(boots.first.kiosk), secs(boots.first.minimal), ratio(boots.first.kiosk, boots.first.minimal)],
    [`later boots: QEMU start → ready / login: (median of ${ROUNDS})`, secs(kioskBoot), secs(minimalBoot), ratio(kioskBoot, minimalBoot)],
    ['initramfs on the boot partition', initramfs === null ? '?' : `${(initramfs / 1e6).toFixed(1)} MB`, '', ''],
  ];
  const widths = [0, 1, 2, 3].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
  console.log(`\nImage: the arm64 kiosk vs a minimal Debian from the same recipe; boots in QEMU TCG (-M virt, cortex-a72, 2 vCPUs, ${MEMORY_MIB} MiB)`);
  for (const row of rows) console.log(row.map((cell, column) => (column ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  '));
  for (const kind of BOOT_KINDS) console.log(`${kind} boot times: kiosk ${times[kind].kiosk.map((s) => s.toFixed(0)).join(', ')} s; minimal ${times[kind].minimal.map((s) => s.toFixed(0)).join(', ')} s`);
  console.log(`build: kiosk ${kiosk.note}; minimal ${minimal.note}`);
  console.log(`memory in use at the kiosk's login screen (free -m, when ready, later boots): ${kioskMemory === null ? '?' : `${Math.round(kioskMemory)} MiB`}${memory.length > 1 ? ` (${memory.join(', ')})` : ''}`);
  const pss = (lastKioskBoot as Boot | null)?.pss ?? new Map<string, { kib: number; processes: number }>();
  const pssTotalKib = pss.get('total')?.kib ?? null;
  console.log(`kiosk's processes at its login screen, PSS (QEMU with ${MEMORY_MIB} MiB, last round's later boot): ${[...pss].filter(([program]) => program !== 'total')
    .sort((a, b) => b[1].kib - a[1].kib).map(([program, { kib, processes }]) => `${program} ${Math.round(kib / 1024)} MiB (${processes})`).join(', ') || '?'}; total ${pssTotalKib === null ? '?' : `${Math.round(pssTotalKib / 1024)} MiB`}`);
  for (const line of (lastKioskBoot as Boot | null)?.analyze ?? []) console.log(`  ${line}`);
  const kioskTotal = total(kiosk);
  const goal = (name: string, value: string, target: string, met: boolean | null): void =>
    console.log(`  ${name.padEnd(38)} ${value.padStart(10)}   goal ${target.padEnd(10)} ${met === null ? '?' : met ? 'met' : 'NOT met'}`);
  console.log('\nIssue 13 goals (image):');
  for (const kind of BOOT_KINDS) {
    const { kiosk: ready, minimal: login } = boots[kind];
    goal(`${kind} boot: to ready ÷ minimal to login:`, ratio(ready, login), `≤ ${GOALS.bootRatio}`, ready === null || login === null ? null : ready / login <= GOALS.bootRatio);
  }
  goal('initramfs', initramfs === null ? '?' : `${(initramfs / 1e6).toFixed(1)} MB`, '≤ 10 MB', initramfs === null ? null : initramfs <= GOALS.initramfsBytes);
  goal(`kiosk PSS at its login screen (${MEMORY_MIB} MiB)`, pssTotalKib === null ? '?' : `${Math.round(pssTotalKib / 1024)} MiB`, `≤ ${GOALS.kioskPssMiB} MiB`, pssTotalKib === null ? null : pssTotalKib / 1024 <= GOALS.kioskPssMiB);
  goal(FULL_XZ ? '.img.xz (xz -6)' : '.img.xz (--fast: set BENCH_IMAGE_FULL_XZ=1)', mib(kiosk.xzBytes), `≤ ${GOALS.xzMiB} MiB`, FULL_XZ ? kiosk.xzBytes / MIB <= GOALS.xzMiB : null);
  goal('build from nothing (base + image steps)', secs(kioskTotal), '≤ 15 min', kioskTotal === null ? null : kioskTotal <= GOALS.buildSeconds);
  console.log(`\nimage bench: kiosk ready in ${secs(kioskBoot)} vs a login prompt in ${secs(minimalBoot)} (${ratio(kioskBoot, minimalBoot)}×; first boot ${secs(boots.first.kiosk)} vs ${secs(boots.first.minimal)}); `
    + `${xzLabel} ${mib(kiosk.xzBytes)} vs ${mib(minimal.xzBytes)}, installed ${mib(kiosk.installedBytes)} vs ${mib(minimal.installedBytes)}, `
    + `build ${secs(total(kiosk))} vs ${secs(total(minimal))}; ${kioskMemory === null ? '?' : Math.round(kioskMemory)} MiB in use at the kiosk's login screen`);
}

main().catch((error: unknown) => {
  console.error(`image bench: ${error instanceof BenchError ? error.message : error instanceof Error ? error.stack : String(error)}`);
  process.exitCode = 1;
});
