/**
 * The written root's file system label. A bundle's root is the build's slot A root (label
 * TKROOT-A), and the initramfs mounts `LABEL=TKROOT-<A|B>` (image/ab-slots.md): the installer
 * renames it in the held-back first MiB before writing it (ext4-label.ts), so a complete slot never
 * carries the other slot's name, not even between a power cut and a later fix-up.
 */
import type { Slot } from '../../../contract/update-status.js';
import type { SlotTarget } from './slot-target.js';

export const slotLabel = (slot: Slot): string => `TKROOT-${slot.toUpperCase()}`;

/** The slot's target with its root to be labelled for that slot. */
export function withSlotLabel(target: SlotTarget, slot: Slot): SlotTarget {
  return { ...target, partitions: { ...target.partitions, root: { ...target.partitions.root, fsLabel: slotLabel(slot) } } };
}
