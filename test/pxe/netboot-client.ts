/**
 * A diskless PC on the test LAN: QEMU (TCG: KVM cannot boot firmware here) with real firmware,
 * booting from the network. BIOS clients boot through QEMU's own iPXE option ROM (as a PC with an
 * iPXE ROM does); UEFI clients through OVMF's own PXE (no iPXE ROM), which loads snponly.efi as a
 * real UEFI PC does. The serial console is watched with timestamps; screendumps go through QMP.
 *
 * Also boots the same kiosk from a local disk image in the same QEMU, for the benchmark.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NS } from './lan.js';
import { envBlock, readSlotFile } from '../image/appliance.js';

const run = promisify(execFile);

export type Firmware = 'bios' | 'uefi';

/** The same machine for every boot, netbooted or not: only how it boots differs. */
const SMP = process.env.THINKIOSK_PXE_SMP ?? '2';
const MACHINE = ['-machine', 'q35', '-accel', 'tcg,thread=multi', '-cpu', 'max', '-smp', SMP, '-m', '2048',
  '-device', 'virtio-vga,xres=1280,yres=800', '-display', 'none', '-no-reboot',
  // An absolute pointer, so a test can click where it reads a word on the screen.
  '-device', 'virtio-tablet-pci'];
/** The screen's size (virtio-vga above): clicks are given in its pixels. */
export const SCREEN = { width: 1280, height: 800 };
const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

export interface ClientOptions {
  name: string;
  firmware: Firmware;
  /** Where its files go: serial log, QMP socket, screendumps. */
  dir: string;
  tap: string;
  mac: string;
  /** More QEMU arguments (diagnosis: e.g. a second serial port as a socket). */
  extraArgs?: string[];
}

export interface LocalDiskOptions {
  name: string;
  dir: string;
  /** The built image (a copy-on-write overlay is booted, so it stays pristine). */
  image: string;
  /** Attach to the test LAN too (as a box on a site network would be). */
  tap?: string;
  mac?: string;
}

export class QemuMachine {
  readonly startedAt = Date.now();
  readonly serialFile: string;
  readonly qmpSocket: string;
  private readonly child: ChildProcess;
  private exited = false;
  private stderr = '';
  /** First time (seconds since start) each watched pattern appeared on the serial console. */
  readonly milestones = new Map<string, number>();
  private readonly watched: Array<[string, RegExp]> = [];
  private readonly timer: NodeJS.Timeout;

  /** `extraArgs` come after the first serial port (a second -serial is ttyS1). */
  constructor(readonly name: string, readonly dir: string, args: string[], extraArgs: string[] = []) {
    this.serialFile = join(dir, `${name}.serial.log`);
    this.qmpSocket = join(dir, `${name}.qmp`);
    rmSync(this.serialFile, { force: true });
    rmSync(this.qmpSocket, { force: true });
    writeFileSync(this.serialFile, '');
    this.child = spawn('nice', ['-n', '5', 'ip', 'netns', 'exec', NS.lan, 'qemu-system-x86_64', ...MACHINE, ...args,
      '-serial', `file:${this.serialFile}`, '-qmp', `unix:${this.qmpSocket},server,nowait`, ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.child.on('exit', () => (this.exited = true));
    this.timer = setInterval(() => this.poll(), 250);
  }

  /** Records when `pattern` first shows on the serial console (seconds since QEMU started). */
  watch(label: string, pattern: RegExp): void {
    this.watched.push([label, pattern]);
  }

  private poll(): void {
    if (this.watched.length === this.milestones.size) return;
    const text = this.serial();
    const now = this.secondsSinceStart();
    for (const [label, pattern] of this.watched) if (!this.milestones.has(label) && pattern.test(text)) this.milestones.set(label, now);
  }

  serial(): string {
    return existsSync(this.serialFile) ? readFileSync(this.serialFile, 'latin1') : '';
  }

  tail(lines = 30): string {
    // eslint-disable-next-line no-control-regex
    return this.serial().replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').split('\n').filter((line) => line.trim()).slice(-lines).join('\n');
  }

  secondsSinceStart(): number {
    return (Date.now() - this.startedAt) / 1000;
  }

  /** Waits for a pattern on the serial console; the error shows the console's last lines. */
  async waitFor(pattern: RegExp, timeoutSeconds: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const match = this.serial().match(pattern);
      if (match) {
        // Record the milestones now: the 250 ms poll may not have seen this line yet, and a caller
        // reads them right after (a dead-DNS run once computed "NaN s" from a missing 'ready').
        this.poll();
        return match;
      }
      if (this.exited) throw new Error(`${this.name}: QEMU ended before ${pattern} appeared on the serial console:\n${this.stderr}\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`${this.name}: ${pattern} did not appear on the serial console within ${timeoutSeconds} s:\n${this.tail()}`);
      await new Promise((done) => setTimeout(done, 500));
    }
  }

  /** A QMP command; resolves with its answer. */
  async qmp(command: string, args: Record<string, unknown> = {}): Promise<unknown> {
    const socket = connect(this.qmpSocket);
    return new Promise((resolveAnswer, reject) => {
      let buffer = '';
      // QMP: a greeting, then capabilities must be negotiated before the command; events are ignored.
      let phase: 'greeting' | 'capabilities' | 'command' = 'greeting';
      const timer = setTimeout(() => { socket.destroy(); reject(new Error(`${this.name}: QMP did not answer ${command}`)); }, 60_000);
      socket.on('data', (chunk) => {
        buffer += chunk.toString();
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const message = JSON.parse(buffer.slice(0, newline)) as { QMP?: unknown; return?: unknown; error?: { desc: string } };
          buffer = buffer.slice(newline + 1);
          const answered = message.return !== undefined || message.error !== undefined;
          if (phase === 'greeting' && message.QMP) {
            phase = 'capabilities';
            socket.write(`${JSON.stringify({ execute: 'qmp_capabilities' })}\n`);
          } else if (phase === 'capabilities' && answered) {
            phase = 'command';
            socket.write(`${JSON.stringify({ execute: command, arguments: args })}\n`);
          } else if (phase === 'command' && answered) {
            clearTimeout(timer);
            socket.end();
            if (message.error) reject(new Error(`${this.name}: QMP ${command}: ${message.error.desc}`));
            else resolveAnswer(message.return);
          }
        }
      });
      socket.on('error', (error) => { clearTimeout(timer); reject(error); });
    });
  }

  /** A left click at a point of the screen (pixels), through the tablet. */
  async click(x: number, y: number): Promise<void> {
    const abs = (axis: 'x' | 'y', pixels: number, size: number) => ({ type: 'abs', data: { axis, value: Math.round((pixels / size) * 0x7fff) } });
    await this.qmp('input-send-event', { events: [abs('x', x, SCREEN.width), abs('y', y, SCREEN.height)] });
    await this.qmp('input-send-event', { events: [{ type: 'btn', data: { down: true, button: 'left' } }] });
    await this.qmp('input-send-event', { events: [{ type: 'btn', data: { down: false, button: 'left' } }] });
  }

  /** Types digits and Enter ("\n") on the keyboard, one key at a time. */
  async typeKeys(text: string): Promise<void> {
    for (const char of text) {
      if (!/^[0-9\n]$/.test(char)) throw new Error(`typeKeys types digits and Enter only, not ${JSON.stringify(char)}`);
      await this.qmp('send-key', { keys: [{ type: 'qcode', data: char === '\n' ? 'ret' : char }] });
      await new Promise((done) => setTimeout(done, 150));
    }
  }

  /** The screen as a PPM file. */
  async screendump(file: string): Promise<string> {
    rmSync(file, { force: true });
    await this.qmp('screendump', { filename: file });
    return file;
  }

  async kill(): Promise<void> {
    clearInterval(this.timer);
    if (this.exited) return;
    const exited = new Promise((done) => this.child.once('exit', done));
    this.child.kill('SIGKILL');
    await exited;
  }
}

/** A diskless PC that boots from the network. */
export function netbootClient(options: ClientOptions): QemuMachine {
  const { name, firmware, dir, tap, mac } = options;
  const args = ['-netdev', `tap,id=n0,ifname=${tap},script=no,downscript=no`];
  if (firmware === 'uefi') {
    const vars = join(dir, `${name}.vars.fd`);
    copyFileSync(OVMF_VARS, vars);
    args.push('-drive', `if=pflash,format=raw,readonly=on,file=${OVMF_CODE}`, '-drive', `if=pflash,format=raw,file=${vars}`,
      // No iPXE option ROM: OVMF's own network stack and PXE, as on a real UEFI PC.
      '-device', `virtio-net-pci,netdev=n0,mac=${mac},romfile=`);
  } else {
    // QEMU's iPXE option ROM (SeaBIOS): a BIOS PC whose network card boots with iPXE.
    args.push('-device', `virtio-net-pci,netdev=n0,mac=${mac}`);
  }
  args.push('-boot', 'n');
  return new QemuMachine(name, dir, args, options.extraArgs);
}

/**
 * The same kiosk from a local disk: the built image (through a copy-on-write overlay) with its own
 * kernel, initramfs and command line, in the same QEMU machine with UEFI firmware.
 */
export async function localDiskClient(options: LocalDiskOptions): Promise<QemuMachine> {
  const { name, dir, image } = options;
  const overlay = join(dir, `${name}.qcow2`);
  rmSync(overlay, { force: true });
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image, '-F', 'raw', overlay]);
  // Slot A's kernel and initramfs, started directly (as iPXE starts the netbooted one), with the
  // command line the image's GRUB would give it: partition 1's cmdline.txt, the slot's bootargs.env.
  writeFileSync(join(dir, `${name}.vmlinuz`), readSlotFile(image, '/boot/vmlinuz'));
  writeFileSync(join(dir, `${name}.initrd.img`), readSlotFile(image, '/boot/initrd.img'));
  const site = envBlock(execFileSync('mtype', ['-i', `${image}@@4M`, '::/cmdline.txt'], { encoding: 'latin1' })).get('tk_cmdline') ?? '';
  const slot = envBlock(readSlotFile(image, '/boot/bootargs.env').toString('latin1')).get('tk_bootargs') ?? '';
  const cmdline = `${site} ${slot} root=LABEL=TKROOT-A thinkiosk.slot=a`.replace(/\s+/g, ' ').replace(/(^| )console=\S+/g, '').trim();
  const vars = join(dir, `${name}.vars.fd`);
  copyFileSync(OVMF_VARS, vars);
  const args = ['-drive', `if=pflash,format=raw,readonly=on,file=${OVMF_CODE}`, '-drive', `if=pflash,format=raw,file=${vars}`,
    '-kernel', join(dir, `${name}.vmlinuz`), '-initrd', join(dir, `${name}.initrd.img`),
    '-append', `${cmdline} console=tty1 console=ttyS0,115200 quiet loglevel=3 no_timer_check`,
    '-drive', `if=none,file=${overlay},format=qcow2,id=hd0,cache=writeback`, '-device', 'virtio-blk-pci,drive=hd0'];
  if (options.tap && options.mac) args.push('-netdev', `tap,id=n0,ifname=${options.tap},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=n0,mac=${options.mac},romfile=`);
  return new QemuMachine(name, dir, args);
}
