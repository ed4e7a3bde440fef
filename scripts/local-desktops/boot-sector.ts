/**
 * The 512-byte boot sector QEMU boots for the SPICE desktop: VGA mode 13h (320x200), palette
 * entries 1-4 set to pure red, green, blue and yellow, the four quadrants filled, then halt with
 * interrupts off (an idle guest: no CPU spent by TCG). Machine code is written out here, with its
 * assembly alongside, so a build needs no assembler.
 */

const LOAD_ADDRESS = 0x7c00; // where the BIOS loads a boot sector
const PALETTE = [63, 0, 0, 0, 63, 0, 0, 0, 63, 63, 63, 0]; // 6-bit DAC values for entries 1..4

export function quadBootSector(): Buffer {
  const code: number[] = [];
  const emit = (...bytes: number[]) => { code.push(...bytes); };
  let paletteAddressAt = -1;

  emit(0xfa); //                 cli
  emit(0xfc); //                 cld                (rep stosb counts upwards)
  emit(0x31, 0xc0); //           xor ax, ax
  emit(0x8e, 0xd8); //           mov ds, ax
  emit(0xb8, 0x13, 0x00); //     mov ax, 0x13       (VGA 320x200, 256 colours)
  emit(0xcd, 0x10); //           int 0x10
  emit(0xba, 0xc8, 0x03); //     mov dx, 0x3c8      (DAC write index)
  emit(0xb0, 0x01); //           mov al, 1
  emit(0xee); //                 out dx, al
  emit(0xba, 0xc9, 0x03); //     mov dx, 0x3c9      (DAC data)
  emit(0xbe); paletteAddressAt = code.length; emit(0x00, 0x00); // mov si, palette
  emit(0xb9, PALETTE.length, 0x00); // mov cx, 12
  const dacLoop = code.length;
  emit(0xac); //                 lodsb
  emit(0xee); //                 out dx, al
  emit(0xe2, rel8(dacLoop, code.length + 2)); // loop dacLoop
  emit(0xb8, 0x00, 0xa0); //     mov ax, 0xa000     (framebuffer segment)
  emit(0x8e, 0xc0); //           mov es, ax
  emit(0x31, 0xff); //           xor di, di
  emit(0x31, 0xdb); //           xor bx, bx         (row)
  const row = code.length;
  emit(0xb0, 0x01); //           mov al, 1          (red, top half)
  emit(0x83, 0xfb, 100); //      cmp bx, 100
  emit(0x72, 0x02); //           jb +2
  emit(0xb0, 0x03); //           mov al, 3          (blue, bottom half)
  emit(0xb9, 160, 0x00); //      mov cx, 160
  emit(0xf3, 0xaa); //           rep stosb          (left half of the row)
  emit(0xfe, 0xc0); //           inc al             (green / yellow)
  emit(0xb9, 160, 0x00); //      mov cx, 160
  emit(0xf3, 0xaa); //           rep stosb          (right half)
  emit(0x43); //                 inc bx
  emit(0x81, 0xfb, 200, 0x00); // cmp bx, 200
  emit(0x72, rel8(row, code.length + 2)); // jb row
  const hang = code.length;
  emit(0xf4); //                 hlt
  emit(0xeb, rel8(hang, code.length + 2)); // jmp hang
  const palette = code.length;
  emit(...PALETTE);

  const address = LOAD_ADDRESS + palette;
  code[paletteAddressAt] = address & 0xff;
  code[paletteAddressAt + 1] = address >> 8;

  const sector = Buffer.alloc(512);
  Buffer.from(code).copy(sector);
  sector[510] = 0x55; // boot signature
  sector[511] = 0xaa;
  return sector;
}

/** A short jump's displacement from the end of the jump instruction, as an unsigned byte. */
function rel8(target: number, after: number): number {
  const delta = target - after;
  if (delta < -128 || delta > 127) throw new Error(`short jump out of range: ${delta}`);
  return delta & 0xff;
}
