/** Counts what a screen shows, for tests that check a remote desktop really reached the page. */
import { PNG } from 'pngjs';

/** Pixels noticeably brighter than black: text on a console, or any drawn desktop. */
export function litPixels(png: Buffer): number {
  const image = PNG.sync.read(png);
  let lit = 0;
  for (let i = 0; i < image.data.length; i += 4) {
    if (image.data[i]! + image.data[i + 1]! + image.data[i + 2]! > 200) lit += 1;
  }
  return lit;
}
