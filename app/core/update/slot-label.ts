/**
 * The written root's file system label: a bundle's root is labelled TKROOT by the build, and the
 * initramfs mounts `LABEL=TKROOT-<A|B>` (image/ab-slots.md), so the label is set once the slot is
 * written and read back (it changes the superblock, after the hashes were checked).
 */
import type { Slot } from '../../../contract/update-status.js';
import { runTool } from '../system/run-tool.js';
import type { SlotTarget } from './slot-target.js';

export const slotLabel = (slot: Slot): string => `TKROOT-${slot.toUpperCase()}`;

export async function relabelRoot(target: SlotTarget, slot: Slot): Promise<void> {
  const part = target.partitions.root;
  // A disk image file (by hand, tests): e2fsprogs opens a partition inside it by its offset.
  const device = part.offset === 0 ? part.device : `${part.device}?offset=${part.offset}`;
  const run = await runTool('tune2fs', ['-L', slotLabel(slot), device], {
    service: 'tune2fs', missing: 'tune2fs (e2fsprogs) is not installed.', timeoutMs: 60_000,
    env: { ...process.env, PATH: `/usr/sbin:/sbin:${process.env.PATH ?? ''}` },
  });
  if (run.code !== 0) throw new Error(`the new root could not be labelled ${slotLabel(slot)}: ${run.stderr.trim() || `exit code ${run.code}`}`);
}
