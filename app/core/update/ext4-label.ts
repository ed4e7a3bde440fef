/**
 * Renames an ext4 file system inside its first bytes, in memory. A bundle's root is built as slot A
 * (label TKROOT-A); written into slot B it must say TKROOT-B, or the initramfs, which mounts
 * LABEL=TKROOT-<slot>, would find two roots named alike. The installer holds the partition's first
 * MiB back until everything else is written and verified, and renames it there, so the label is
 * right from the moment the partition is complete: no window in which two slots share a name.
 *
 * Layout (the kernel's Documentation/filesystems/ext4/super.rst): the superblock is the 1024 bytes
 * at offset 1024; s_magic 0xEF53 at 0x38, s_feature_ro_compat at 0x64 (METADATA_CSUM = 0x400),
 * s_volume_name (16 bytes, NUL-padded) at 0x78, s_checksum_type at 0x175 (1 = crc32c), and
 * s_checksum at 0x3FC: crc32c over the superblock's first 0x3FC bytes, seeded with ~0 and stored
 * without the final inversion (e2fsprogs ext2fs_superblock_csum).
 */
const SUPERBLOCK = 1024;
const MAGIC = 0x38;
const RO_COMPAT = 0x64;
const VOLUME_NAME = 0x78;
const CHECKSUM_TYPE = 0x175;
const CHECKSUM = 0x3fc;
const RO_COMPAT_METADATA_CSUM = 0x400;

export class Ext4LabelError extends Error {}

/** The label of the ext4 file system whose first bytes (≥ 2048) are `head`. */
export function ext4Label(head: Buffer): string {
  const sb = superblock(head);
  const name = sb.subarray(VOLUME_NAME, VOLUME_NAME + 16);
  const end = name.indexOf(0);
  return name.subarray(0, end < 0 ? 16 : end).toString('latin1');
}

/** Writes `label` into the superblock held in `head` (in place) and fixes its checksum. */
export function setExt4Label(head: Buffer, label: string): void {
  if (!/^[\x20-\x7e]{1,16}$/.test(label)) throw new Ext4LabelError(`"${label}" is not an ext4 label (1–16 printable ASCII characters)`);
  const sb = superblock(head);
  sb.fill(0, VOLUME_NAME, VOLUME_NAME + 16);
  sb.write(label, VOLUME_NAME, 'latin1');
  if (sb.readUInt32LE(RO_COMPAT) & RO_COMPAT_METADATA_CSUM) {
    if (sb[CHECKSUM_TYPE] !== 1) throw new Ext4LabelError(`unknown superblock checksum type ${sb[CHECKSUM_TYPE]}`);
    sb.writeUInt32LE(crc32cRaw(0xffffffff, sb.subarray(0, CHECKSUM)), CHECKSUM);
  }
}

function superblock(head: Buffer): Buffer {
  if (head.length < SUPERBLOCK * 2) throw new Ext4LabelError('too few bytes to hold an ext4 superblock');
  const sb = head.subarray(SUPERBLOCK, SUPERBLOCK * 2);
  if (sb.readUInt16LE(MAGIC) !== 0xef53) throw new Ext4LabelError('not an ext4 file system (no superblock magic)');
  return sb;
}

/** CRC-32C (Castagnoli, reflected 0x82F63B78) without the final inversion, as ext4 stores it. */
let table: Uint32Array | undefined;
function crc32cRaw(seed: number, bytes: Buffer): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = seed >>> 0;
  for (const byte of bytes) crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return crc >>> 0;
}
