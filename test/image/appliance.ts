/**
 * Helpers for the appliance-image tests: build the image (image/build.sh, which reuses a cached
 * build when its inputs did not change), make a scratch copy of it, put files on its FAT boot
 * partition and read them back (mtools, no mounting), boot it in QEMU (image/qemu-boot.sh, TCG)
 * and watch its serial console, take a screendump through the QEMU monitor (screen.ts reads it).
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** dist/test/image → repository root. */
export const REPO = process.env.THINKIOSK_REPO ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const WORK = process.env.THINKIOSK_IMAGE_WORK ?? '/var/tmp/thinkiosk-image';
export const OUT = join(WORK, 'test-out');
export type Arch = 'arm64' | 'amd64';

export interface BuiltImage {
  arch: Arch;
  img: string;
  /** The build's own log (progress lines and the closing summary). */
  log: string;
  seconds: number;
}

/** Builds (or reuses) the image; the build's lines are passed on as they come (it takes long). */
export async function buildImage(arch: Arch, onLine: (line: string) => void = () => {}): Promise<BuiltImage> {
  const t0 = Date.now();
  const child = spawn('nice', ['-n', '10', join(REPO, 'image/build.sh'), '--arch', arch, '--fast', '--out', OUT], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  let pending = '';
  const take = (chunk: Buffer): void => {
    log += chunk.toString();
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    lines.forEach(onLine);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const code = await new Promise<number | null>((done) => child.on('exit', done));
  if (code !== 0) throw new Error(`image/build.sh --arch ${arch} failed (exit ${code}):\n${log.split('\n').slice(-30).join('\n')}`);
  const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  return { arch, img: join(OUT, `thinkiosk-${version}-${arch}.img`), log, seconds: (Date.now() - t0) / 1000 };
}

/** A scratch copy to boot (booting writes to it), optionally with room for the first boot to grow into. */
export function scratchCopy(img: string, name: string, extraMiB = 0): string {
  const dir = join(WORK, 'test-boot');
  mkdirSync(dir, { recursive: true });
  const copy = join(dir, name);
  rmSync(copy, { force: true });
  // Sparse: slot B and the free space of the others are holes (a plain copy would write GiBs of zeros).
  execFileSync('cp', ['--sparse=always', img, copy]);
  if (extraMiB) truncateSync(copy, statSync(copy).size + extraMiB * 1024 * 1024);
  return copy;
}

const bootPartition = (img: string): string => `${img}@@4M`;

export async function putBootFile(img: string, name: string, content: string | Buffer): Promise<void> {
  const tmp = join(WORK, 'test-boot', `.upload-${name}`);
  writeFileSync(tmp, content);
  await run('mcopy', ['-o', '-i', bootPartition(img), tmp, `::/${name}`]);
  rmSync(tmp);
}

export async function readBootFile(img: string, name: string): Promise<string> {
  const { stdout } = await run('mtype', ['-i', bootPartition(img), `::/${name}`], { maxBuffer: 1 << 20 });
  return stdout;
}

/** Where partition N (1-based) of a disk image starts, in bytes (sfdisk -J). */
export function partitionOffset(img: string, n: number): number {
  const table = JSON.parse(execFileSync('sfdisk', ['-J', img], { encoding: 'utf8' })) as { partitiontable: { partitions: { start: number }[] } };
  const partition = table.partitiontable.partitions[n - 1];
  if (!partition) throw new Error(`${img} has no partition ${n}`);
  return partition.start * 512;
}

/** A file of a slot's root (partition 2 = slot A, 3 = B), read with debugfs (no mounting). */
export function readSlotFile(img: string, path: string, slot: 'a' | 'b' = 'a'): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'tk-slot-file-'));
  try {
    const out = join(dir, 'file');
    execFileSync('debugfs', ['-R', `dump ${path} ${out}`, `${img}?offset=${partitionOffset(img, slot === 'a' ? 2 : 3)}`], { stdio: 'ignore' });
    if (!existsSync(out)) throw new Error(`${path} is not in slot ${slot} of ${img}`);
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Renames a slot's ext4 file system (debugfs, no mounting). */
export function setSlotLabel(img: string, slot: 'a' | 'b', label: string): void {
  execFileSync('debugfs', ['-w', '-R', `set_super_value volume_name ${label}`, `${img}?offset=${partitionOffset(img, slot === 'a' ? 2 : 3)}`], { stdio: 'ignore' });
}

/** name=value lines of a GRUB environment block (the slot files, bootargs.env; image/ab-slots.md). */
export function envBlock(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (line.startsWith('#') || at < 1) continue;
    values.set(line.slice(0, at), line.slice(at + 1).replace(/\0+$/, ''));
  }
  return values;
}

export async function bootFiles(img: string): Promise<string[]> {
  const { stdout } = await run('mdir', ['-b', '-i', bootPartition(img), '::/']);
  return stdout.split('\n').map((line) => line.replace(/^::\//, '').trim()).filter(Boolean).sort();
}

export async function partitionTable(img: string): Promise<unknown> {
  const { stdout } = await run('sfdisk', ['-J', img]);
  return JSON.parse(stdout);
}

export interface BootOptions {
  /** Extra kernel command line words (the probe is added by default). */
  cmdline?: string[];
  /** Start test/image/probe.sh through systemd.run= (default true). */
  probe?: boolean;
  /** The machine's memory in MiB (qemu-boot.sh's default, 2048, when not given). */
  memoryMiB?: number;
  /** Ports of 127.0.0.1 here the guest reaches at 10.0.2.100 (qemu-boot.sh --serve). */
  serve?: number[];
}

/** The probe as a unit of its own: once the boot partition is mounted; its lines go to the console. */
const PROBE_UNIT = [
  '[Unit]', 'Description=thinkiosk image test probe (test/image/probe.sh)', 'RequiresMountsFor=/boot/firmware',
  '[Service]', 'Type=oneshot', 'ExecStart=/bin/sh /boot/firmware/thinkiosk-probe.sh', 'StandardOutput=journal+console', '',
].join('\n');

export class Vm {
  readonly state: string;
  private readonly child: ChildProcess;
  private exited = false;
  readonly startedAt = Date.now();

  constructor(readonly arch: Arch, readonly disk: string, options: BootOptions = {}) {
    this.state = `${disk}.state`;
    rmSync(this.state, { recursive: true, force: true });
    mkdirSync(this.state, { recursive: true });
    const extra = [...(options.cmdline ?? [])];
    if (options.probe !== false) {
      // The probe's unit comes as a systemd credential on the kernel command line (base64: no
      // spaces, no quotes), which systemd's debug generator turns into a unit (systemd ≥ 256).
      // Quotes cannot be used: GRUB puts a backslash before every quote it hands the kernel, and
      // U-Boot's shell drops them when it builds the command line.
      extra.push(`systemd.set_credential_binary=systemd.extra-unit.thinkiosk-probe.service:${Buffer.from(PROBE_UNIT).toString('base64')}`,
        'systemd.wants=thinkiosk-probe.service');
    }
    const memory = options.memoryMiB ? ['--mem', String(options.memoryMiB)] : [];
    this.child = spawn(join(REPO, 'image/qemu-boot.sh'), [disk, '--arch', arch, '--state', this.state, ...memory, '--cmdline-extra', extra.join(' '),
      ...(options.serve ?? []).flatMap((port) => ['--serve', String(port)])], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    this.child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    this.child.on('exit', (code) => {
      this.exited = true;
      if (code) writeFileSync(join(this.state, 'qemu-stderr.txt'), stderr);
    });
  }

  console(): string {
    const file = join(this.state, 'console.log');
    return existsSync(file) ? readFileSync(file, 'latin1') : '';
  }

  /** Waits for a line on the serial console; the error shows the console's last lines. */
  async waitFor(pattern: RegExp, timeoutSeconds: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const match = this.console().match(pattern);
      if (match) return match;
      if (this.exited) throw new Error(`QEMU ended before ${pattern} appeared on the console:\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`${pattern} did not appear on the console within ${timeoutSeconds} s:\n${this.tail()}`);
      await new Promise((done) => setTimeout(done, 1000));
    }
  }

  tail(lines = 40): string {
    return this.console().split('\n').slice(-lines).join('\n');
  }

  /** The probe's report: "probe: key value" lines between its markers, as a multimap. */
  async probeReport(timeoutSeconds: number): Promise<Map<string, string[]>> {
    await this.waitFor(/===PROBE-END===/, timeoutSeconds);
    const text = this.console();
    const block = text.slice(text.indexOf('===PROBE-BEGIN==='), text.indexOf('===PROBE-END==='));
    const report = new Map<string, string[]>();
    for (const line of block.split('\n')) {
      const match = /probe: (\S+) ?(.*?)\r?$/.exec(line);
      if (!match) continue;
      report.set(match[1]!, [...(report.get(match[1]!) ?? []), match[2]!]);
    }
    return report;
  }

  async monitor(command: string): Promise<string> {
    const socket = connect(join(this.state, 'monitor.sock'));
    return new Promise((done, fail) => {
      let answer = '';
      socket.on('data', (chunk) => {
        answer += chunk.toString();
        // The monitor greets with a prompt, then answers the command with another prompt.
        if ((answer.match(/\(qemu\) /g) ?? []).length >= 2) { socket.end(); done(answer); }
      });
      socket.on('error', fail);
      socket.write(`${command}\n`);
      setTimeout(() => { socket.destroy(); fail(new Error(`QEMU monitor did not answer "${command}"`)); }, 30_000);
    });
  }

  /** A screendump as PPM (what the kiosk's display shows). */
  async screendump(file: string): Promise<string> {
    rmSync(file, { force: true });
    await this.monitor(`screendump ${file}`);
    for (let i = 0; i < 50 && !existsSync(file); i++) await new Promise((done) => setTimeout(done, 200));
    await new Promise((done) => setTimeout(done, 500));
    return file;
  }

  /** Pulled plug: SIGKILL to QEMU (qemu-boot.sh execs it), nothing flushed. */
  async kill(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGKILL');
    await new Promise((done) => this.child.once('exit', done));
  }

  async powerOff(): Promise<void> {
    if (this.exited) return;
    await this.monitor('system_powerdown').catch(() => {});
    const deadline = Date.now() + 120_000;
    while (!this.exited && Date.now() < deadline) await new Promise((done) => setTimeout(done, 1000));
    await this.kill();
  }

  /** Waits for QEMU to end by itself (the guest rebooted or powered off: qemu-boot.sh runs -no-reboot). */
  async waitExit(timeoutSeconds: number): Promise<void> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    while (!this.exited) {
      if (Date.now() > deadline) throw new Error(`the machine did not restart within ${timeoutSeconds} s:\n${this.tail()}`);
      await new Promise((done) => setTimeout(done, 1000));
    }
  }

  secondsSinceStart(): number {
    return (Date.now() - this.startedAt) / 1000;
  }
}
