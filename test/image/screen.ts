/**
 * What a QEMU screendump (PPM) shows, for the image and netboot tests: its words, read by
 * tesseract, where a word is (to click it), and how much of it is not background (a blank or
 * black screen is near 0).
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

interface Pixels { width: number; height: number; rgb: Buffer }

function readPpm(file: string): Pixels {
  const data = readFileSync(file);
  const fields: string[] = [];
  let offset = 0;
  while (fields.length < 4) {
    while (/\s/.test(String.fromCharCode(data[offset]!))) offset++;
    const start = offset;
    while (!/\s/.test(String.fromCharCode(data[offset]!))) offset++;
    fields.push(data.subarray(start, offset).toString());
  }
  if (fields[0] !== 'P6') throw new Error(`${file} is not a binary PPM (P6)`);
  return { width: Number(fields[1]), height: Number(fields[2]), rgb: data.subarray(offset + 1) };
}

/** Share of pixels that are not the most common colour: a blank or black screen is near 0. */
export function screenBusyness(ppm: string): number {
  const { rgb } = readPpm(ppm);
  const counts = new Map<number, number>();
  let pixels = 0;
  for (let i = 0; i + 2 < rgb.length; i += 3 * 7) {
    const colour = (rgb[i]! << 16) | (rgb[i + 1]! << 8) | rgb[i + 2]!;
    counts.set(colour, (counts.get(colour) ?? 0) + 1);
    pixels++;
  }
  return 1 - Math.max(...counts.values()) / pixels;
}

/**
 * The words on a screendump, on one line. Tesseract reads a grey copy `scale` times larger (the
 * kiosk's small grey-on-white text and the text console's 8x16 font read much better so; a line it
 * misreads at one size it often reads at another) whose grey is each pixel's darkest channel:
 * coloured text on a tinted box (the red problem notice on pink, white on the netboot error
 * screen's blue) keeps its contrast, which a plain luminance conversion loses.
 */
export async function readScreen(ppm: string, scale = 2): Promise<string> {
  const { stdout } = await run('tesseract', [greyCopy(ppm, scale), 'stdout', '--psm', '3'], { maxBuffer: 1 << 20 });
  return stdout.replace(/\s+/g, ' ').trim();
}

/**
 * Where a word that matches `pattern` is on the screen: its centre in screen pixels, or null. Light
 * words on the dark page background (the login screen's footer links) are looked for in an
 * inverted copy too.
 */
export async function findWord(ppm: string, pattern: RegExp, scale = 2): Promise<{ x: number; y: number } | null> {
  for (const invert of [false, true]) {
    // --psm 11: sparse text, so words apart from the page's blocks (footer links) are found too.
    const { stdout } = await run('tesseract', [greyCopy(ppm, scale, invert), 'stdout', '--psm', '11', 'tsv'], { maxBuffer: 1 << 22 });
    for (const line of stdout.split('\n').slice(1)) {
      const fields = line.split('\t');
      const [left, top, width, height] = fields.slice(6, 10).map(Number) as [number, number, number, number];
      if (fields.length >= 12 && pattern.test(fields[11]!.trim())) return { x: Math.round((left + width / 2) / scale), y: Math.round((top + height / 2) / scale) };
    }
  }
  return null;
}

/** The grey copy tesseract reads (see readScreen), written next to the screendump. */
function greyCopy(ppm: string, scale: number, invert = false): string {
  const { width, height, rgb } = readPpm(ppm);
  const grey = Buffer.alloc(width * scale * height * scale);
  for (let y = 0; y < height * scale; y++) {
    for (let x = 0; x < width * scale; x++) {
      const i = (Math.floor(y / scale) * width + Math.floor(x / scale)) * 3;
      const darkest = Math.min(rgb[i]!, rgb[i + 1]!, rgb[i + 2]!);
      grey[y * width * scale + x] = invert ? 255 - darkest : darkest;
    }
  }
  const pgm = ppm.replace(/\.ppm$/, '') + (invert ? '.ocr-inverted.pgm' : '.ocr.pgm');
  writeFileSync(pgm, Buffer.concat([Buffer.from(`P5\n${width * scale} ${height * scale}\n255\n`), grey]));
  return pgm;
}
