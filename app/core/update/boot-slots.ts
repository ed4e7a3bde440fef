/**
 * The boot loader's two state files on the shared boot partition (image/ab-slots.md, "Choosing the
 * slot at boot") and the slot this boot came from.
 *
 * - `tk-slot.txt`: written only here, always IN PLACE (the same 1024 bytes at offset 0, flushed):
 *   the FAT's allocation and directory never change, so a power cut mid-write can at worst leave the
 *   file's own sector half-old, which the boot loader reads as "no trial" or the old slot.
 * - `tk-tried.txt`: written only by the boot loader (GRUB in place, U-Boot as a short file); read here.
 *
 * Both are GRUB environment blocks: `# GRUB Environment Block`, `name=value` lines, `#` padding to
 * 1024 bytes. The partition is mounted read-only: every write remounts it read-write for the write
 * and read-only again after (as apply-preset does for the admin's PIN).
 */
import { randomBytes } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Slot } from '../../../contract/update-status.js';
import { runTool } from '../system/run-tool.js';

export const ENV_BLOCK_BYTES = 1024;
const ENV_BLOCK_HEADER = '# GRUB Environment Block\n';
export const SLOT_FILE = 'tk-slot.txt';
export const TRIED_FILE = 'tk-tried.txt';
export const BOOT_PARTITION_MOUNT = '/boot/firmware';
const TRIAL_ID = /^[0-9a-f]{16}$/;

/** What tk-slot.txt says. `trial`/`trialId` are null when no trial is requested. */
export interface SlotFile {
  slot: Slot;
  trial: Slot | null;
  trialId: string | null;
}

/** The variables of an environment block (or of U-Boot's short `name=value` file); `#` lines skipped. */
export function parseEnvBlock(bytes: Buffer | string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of bytes.toString('latin1').split('\n')) {
    if (line.startsWith('#') || !line.includes('=')) continue;
    const at = line.indexOf('=');
    vars.set(line.slice(0, at), line.slice(at + 1).replace(/\r$/, ''));
  }
  return vars;
}

/** Exactly ENV_BLOCK_BYTES: the header, one line a variable, `#` padding. */
export function formatEnvBlock(vars: ReadonlyArray<readonly [string, string]>): Buffer {
  const body = ENV_BLOCK_HEADER + vars.map(([name, value]) => {
    if (!/^[a-z_]+$/.test(name) || /[\n\\#=]/.test(value)) throw new Error(`not an environment block variable: ${name}=${value}`);
    return `${name}=${value}\n`;
  }).join('');
  if (body.length > ENV_BLOCK_BYTES) throw new Error(`environment block of ${body.length} bytes: at most ${ENV_BLOCK_BYTES}`);
  return Buffer.from(body.padEnd(ENV_BLOCK_BYTES, '#'), 'latin1');
}

/**
 * tk-slot.txt as the boot scripts read it: a missing or unreadable file, or any committed slot but
 * `b`, is slot A; a trial counts only with a slot other than the committed one and a well-formed id.
 */
export function parseSlotFile(bytes: Buffer | null): SlotFile {
  const vars = bytes ? parseEnvBlock(bytes) : new Map<string, string>();
  const slot: Slot = vars.get('tk_slot') === 'b' ? 'b' : 'a';
  const trial = Slot.safeParse(vars.get('tk_trial')).data ?? null;
  const trialId = vars.get('tk_trial_id') ?? '';
  return trial && trial !== slot && TRIAL_ID.test(trialId) ? { slot, trial, trialId } : { slot, trial: null, trialId: null };
}

export function formatSlotFile(state: SlotFile): Buffer {
  return formatEnvBlock([['tk_slot', state.slot], ['tk_trial', state.trial ?? ''], ['tk_trial_id', state.trialId ?? '']]);
}

/** The trial id the boot loader last started (tk-tried.txt), or null. */
export function parseTriedFile(bytes: Buffer | null): string | null {
  const id = bytes ? parseEnvBlock(bytes).get('tk_tried') ?? '' : '';
  return TRIAL_ID.test(id) ? id : null;
}

/** `thinkiosk.slot=a|b` of the kernel command line; null outside an A/B image. */
export function bootedSlotOf(cmdline: string): Slot | null {
  const word = cmdline.trim().split(/\s+/).find((w) => w.startsWith('thinkiosk.slot='));
  return Slot.safeParse(word?.slice('thinkiosk.slot='.length)).data ?? null;
}

export function newTrialId(): string {
  return randomBytes(8).toString('hex');
}

export interface SlotView {
  /** The slot this boot came from; null outside an A/B image (no thinkiosk.slot). */
  booted: Slot | null;
  file: SlotFile;
  /** The trial id the boot loader last started. */
  tried: string | null;
}

export interface BootSlotsOptions {
  /** Where tk-slot.txt and tk-tried.txt are (default /boot/firmware). */
  dir?: string;
  /** Default /proc/cmdline. */
  cmdlineFile?: string;
  /** Makes `dir` writable ('rw') and read-only again ('ro'); by default `mount -o remount,…` of /boot/firmware. */
  remount?: (mode: 'rw' | 'ro') => Promise<void>;
}

export class BootSlots {
  readonly dir: string;
  private readonly cmdlineFile: string;
  private readonly remount: (mode: 'rw' | 'ro') => Promise<void>;

  constructor(options: BootSlotsOptions = {}) {
    this.dir = options.dir ?? BOOT_PARTITION_MOUNT;
    this.cmdlineFile = options.cmdlineFile ?? '/proc/cmdline';
    this.remount = options.remount ?? ((mode) => remountBootPartition(this.dir, mode));
  }

  async read(): Promise<SlotView> {
    const cmdline = await readFile(this.cmdlineFile, 'utf8').catch(() => '');
    return {
      booted: bootedSlotOf(cmdline),
      file: parseSlotFile(await readOrNull(join(this.dir, SLOT_FILE))),
      tried: parseTriedFile(await readOrNull(join(this.dir, TRIED_FILE))),
    };
  }

  /** Asks the boot loader to start `slot` once, at the next boot; returns the new trial's id. */
  async requestTrial(slot: Slot): Promise<string> {
    const { file } = await this.read();
    if (slot === file.slot) throw new Error(`slot ${slot} is already the committed slot: there is nothing to try`);
    const trialId = newTrialId();
    await this.write({ slot: file.slot, trial: slot, trialId });
    return trialId;
  }

  /** Makes `slot` the one that boots from now on; any trial is over. */
  async commit(slot: Slot): Promise<void> {
    await this.write({ slot, trial: null, trialId: null });
  }

  /** Drops a requested trial: the committed slot boots. */
  async cancelTrial(): Promise<void> {
    const { file } = await this.read();
    await this.write({ slot: file.slot, trial: null, trialId: null });
  }

  /** Rewrites tk-slot.txt in place (never a new file: see the top), flushed, then reads it back. */
  private async write(state: SlotFile): Promise<void> {
    const file = join(this.dir, SLOT_FILE);
    const block = formatSlotFile(state);
    await this.remount('rw');
    try {
      const handle = await open(file, 'r+').catch((error: NodeJS.ErrnoException) => {
        throw new Error(`${file} cannot be opened for writing (${error.code ?? error.message}): the boot partition is not the A/B image's`);
      });
      try {
        const { size } = await handle.stat();
        if (size !== ENV_BLOCK_BYTES) throw new Error(`${file} has ${size} bytes, not the ${ENV_BLOCK_BYTES} of an environment block: it was not made by the image (rewrite it from the image's copy)`);
        const { bytesWritten } = await handle.write(block, 0, block.length, 0);
        if (bytesWritten !== block.length) throw new Error(`${file}: wrote ${bytesWritten} of ${block.length} bytes`);
        await handle.sync();
      } finally {
        await handle.close();
      }
    } finally {
      await this.remount('ro');
    }
    const back = parseSlotFile(await readOrNull(file));
    if (back.slot !== state.slot || back.trial !== state.trial || back.trialId !== state.trialId) {
      throw new Error(`${file} reads back differently from what was written`);
    }
  }
}

async function readOrNull(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch {
    return null;
  }
}

async function remountBootPartition(dir: string, mode: 'rw' | 'ro'): Promise<void> {
  const run = await runTool('mount', ['-o', `remount,${mode}`, dir], { service: 'mount', missing: 'mount (util-linux) is not installed.', timeoutMs: 30_000 });
  if (run.code !== 0) throw new Error(`mount -o remount,${mode} ${dir} failed: ${run.stderr.trim() || `exit code ${run.code}`}`);
}
