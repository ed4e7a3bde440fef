/**
 * A disk's partitions as `sfdisk --json` reports them (validated here, at the edge), and the
 * SlotTarget they make: by partition number (MBR, the Pi's table) or by partition name (GPT).
 *
 * On a disk image file a partition is a byte range of the file (the tests, the build). On a block
 * device it is its own node (/dev/mmcblk0p5) at offset 0: the installer opens a block device
 * exclusively, which Linux refuses for a mounted device, and a whole disk always has a mounted
 * partition on a running kiosk (so the running slot is never written through the whole disk).
 */
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { PAYLOAD_ROLES, type PayloadRole } from '../../../contract/update-bundle.js';
import { runTool } from '../system/run-tool.js';
import type { PartitionTarget, SlotTarget } from './slot-target.js';

const SfdiskPartition = z.object({
  node: z.string().min(1),
  start: z.number().int().nonnegative(),
  size: z.number().int().positive(),
  type: z.string(),
  name: z.string().optional(),
  uuid: z.string().optional(),
  bootable: z.boolean().optional(),
});

export const SfdiskOutput = z.object({
  partitiontable: z.object({
    label: z.enum(['dos', 'gpt']),
    device: z.string(),
    unit: z.literal('sectors'),
    /** Older sfdisk versions leave it out; they always mean 512. */
    sectorsize: z.number().int().positive().default(512),
    partitions: z.array(SfdiskPartition).default([]),
  }),
});

export interface DiskPartition {
  /** The number in its node's name (sda2 → 2, mmcblk0p5 → 5, disk.img3 → 3). */
  number: number;
  node: string;
  /** GPT partition name; MBR partitions have none. */
  name: string | undefined;
  offset: number;
  size: number;
}

export interface PartitionTable {
  disk: string;
  label: 'dos' | 'gpt';
  partitions: DiskPartition[];
}

/** The table in sfdisk's JSON (text as the tool printed it). */
export function parseSfdiskJson(disk: string, text: string): PartitionTable {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`sfdisk --json ${disk} printed no JSON: ${(error as Error).message}`);
  }
  const parsed = SfdiskOutput.safeParse(raw);
  if (!parsed.success) throw new Error(`sfdisk --json ${disk}: unexpected output: ${z.prettifyError(parsed.error)}`);
  const table = parsed.data.partitiontable;
  const partitions = table.partitions.map((p) => {
    const number = /(\d+)$/.exec(p.node)?.[1];
    if (number === undefined) throw new Error(`sfdisk --json ${disk}: partition node ${p.node} has no number`);
    return { number: Number(number), node: p.node, name: p.name, offset: p.start * table.sectorsize, size: p.size * table.sectorsize };
  });
  return { disk, label: table.label, partitions };
}

export async function readPartitionTable(disk: string): Promise<PartitionTable> {
  const run = await runTool('sfdisk', ['--json', disk], { service: 'sfdisk', missing: 'sfdisk (util-linux fdisk) is not installed.', timeoutMs: 15_000 });
  if (run.code !== 0) throw new Error(`sfdisk --json ${disk} failed: ${run.stderr.trim() || `exit code ${run.code}`}`);
  return parseSfdiskJson(disk, run.stdout);
}

/** A partition by its number or its (GPT) name. */
export type PartitionSelector = number | { name: string };

export function findPartition(table: PartitionTable, selector: PartitionSelector): DiskPartition {
  const found = typeof selector === 'number'
    ? table.partitions.find((p) => p.number === selector)
    : table.partitions.find((p) => p.name === selector.name);
  if (!found) {
    const what = typeof selector === 'number' ? `partition ${selector}` : `a partition named "${selector.name}"`;
    throw new Error(`${table.disk} has no ${what} (it has ${table.partitions.map((p) => p.number + (p.name ? ` "${p.name}"` : '')).join(', ') || 'none'})`);
  }
  return found;
}

/**
 * The slot made of the chosen partitions. A disk image file is written at the partitions' offsets;
 * a block device through each partition's own node (see the comment at the top).
 */
export async function slotTargetOf(table: PartitionTable, name: string, select: Readonly<Record<PayloadRole, PartitionSelector>>): Promise<SlotTarget> {
  const diskIsFile = (await stat(table.disk)).isFile();
  const entries = PAYLOAD_ROLES.map((role): [PayloadRole, PartitionTarget] => {
    const p = findPartition(table, select[role]);
    const description = `partition ${p.number}${p.name ? ` "${p.name}"` : ''} of ${table.disk}`;
    return [role, diskIsFile
      ? { device: table.disk, offset: p.offset, size: p.size, description }
      : { device: p.node, offset: 0, size: p.size, description }];
  });
  return { name, partitions: Object.fromEntries(entries) as Record<PayloadRole, PartitionTarget> };
}
