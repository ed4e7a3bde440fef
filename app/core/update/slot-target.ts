/**
 * Where a bundle is installed: the partitions of the slot that is NOT running, each a byte range
 * of a file or block device (a disk image file and a partition's offset in tests; /dev/mmcblk0 and
 * its partition's offset, or /dev/mmcblk0p5 at offset 0, on a kiosk).
 */
import type { PayloadRole } from '../../../contract/update-bundle.js';

export interface PartitionTarget {
  /** A file or block device. */
  device: string;
  /** Where the partition starts in `device`, in bytes. */
  offset: number;
  /** The partition's size in bytes: a payload larger than this is refused. */
  size: number;
  /** How the admin screen and the log name it, e.g. "partition 5 of /dev/mmcblk0". */
  description: string;
  /**
   * The label an ext4 payload must carry in this partition (TKROOT-B): set in the held-back first
   * MiB before it is written, so the slot never holds a complete root under another slot's name.
   */
  fsLabel?: string;
}

export interface SlotTarget {
  /** The slot's name as the slot tools know it ("B"). */
  name: string;
  partitions: Readonly<Record<PayloadRole, PartitionTarget>>;
}
