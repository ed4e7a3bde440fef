/**
 * The box's block devices as `lsblk --json --list --paths` reports them (validated here, at the
 * edge): which disk holds the A/B layout (the one with the TKBOOT partition), and which file
 * systems may be a USB stick with a bundle on it.
 */
import { z } from 'zod';
import { runTool } from '../system/run-tool.js';

const LsblkDevice = z.object({
  name: z.string(),
  type: z.string(),
  rm: z.union([z.boolean(), z.string()]).nullable().optional(),
  tran: z.string().nullable().optional(),
  fstype: z.string().nullable().optional(),
  label: z.string().nullable().optional(),
  partlabel: z.string().nullable().optional(),
  mountpoint: z.string().nullable().optional(),
  pkname: z.string().nullable().optional(),
});
export type LsblkDevice = z.infer<typeof LsblkDevice>;
const LsblkOutput = z.object({ blockdevices: z.array(LsblkDevice) });

export const LSBLK_COLUMNS = 'NAME,TYPE,RM,TRAN,FSTYPE,LABEL,PARTLABEL,MOUNTPOINT,PKNAME';
/** The labels of the A/B layout (image/ab-slots.md): a disk with one of them is the kiosk's own. */
export const LAYOUT_LABELS = ['TKBOOT', 'TKROOT-A', 'TKROOT-B', 'TKDATA'];
/** File systems a bundle may be read from (what an admin's PC writes to a stick). */
const STICK_FILESYSTEMS = new Set(['vfat', 'exfat', 'ntfs', 'ntfs3', 'ext2', 'ext3', 'ext4', 'iso9660', 'udf', 'btrfs', 'xfs']);

export function parseLsblk(text: string): LsblkDevice[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`lsblk printed no JSON: ${(error as Error).message}`);
  }
  const parsed = LsblkOutput.safeParse(raw);
  if (!parsed.success) throw new Error(`lsblk: unexpected output: ${z.prettifyError(parsed.error)}`);
  return parsed.data.blockdevices;
}

export async function listBlockDevices(): Promise<LsblkDevice[]> {
  const run = await runTool('lsblk', ['--json', '--list', '--paths', '-o', LSBLK_COLUMNS], { service: 'lsblk', missing: 'lsblk (util-linux) is not installed.', timeoutMs: 15_000 });
  if (run.code !== 0) throw new Error(`lsblk failed: ${run.stderr.trim() || `exit code ${run.code}`}`);
  return parseLsblk(run.stdout);
}

const hasLayoutLabel = (d: LsblkDevice): boolean => LAYOUT_LABELS.includes(d.label ?? '') || LAYOUT_LABELS.includes(d.partlabel ?? '');

/** The disk of the A/B layout: the parent of its TKBOOT partition. */
export function layoutDisk(devices: readonly LsblkDevice[]): string {
  const boot = devices.find((d) => d.type === 'part' && (d.label === 'TKBOOT' || d.partlabel === 'TKBOOT') && d.pkname);
  if (!boot?.pkname) throw new Error('no partition labelled TKBOOT: this kiosk does not run the A/B image');
  return boot.pkname;
}

/**
 * File systems that may hold a bundle: on a disk other than the kiosk's own (none of whose
 * partitions carries a layout label), of a file system a PC writes. Removable (RM) or USB (TRAN)
 * disks are not required: in QEMU the stick is a second virtio disk, and a USB card reader's
 * disk may say neither.
 */
export function stickFileSystems(devices: readonly LsblkDevice[]): LsblkDevice[] {
  const own = new Set<string>();
  for (const d of devices) if (hasLayoutLabel(d)) own.add(d.type === 'disk' ? d.name : d.pkname ?? d.name);
  return devices.filter((d) => (d.type === 'part' || d.type === 'disk') && STICK_FILESYSTEMS.has(d.fstype ?? '')
    && !own.has(d.name) && !own.has(d.pkname ?? '') && !hasLayoutLabel(d));
}
