/** The known test picture every local desktop shows: red, green / blue, yellow quadrants. */
import { PNG } from 'pngjs';

export const QUAD_COLOURS = {
  red: [255, 0, 0],
  green: [0, 255, 0],
  blue: [0, 0, 255],
  yellow: [255, 255, 0],
} as const;

/** Top-left, top-right, bottom-left, bottom-right. */
export const QUAD_LAYOUT = ['red', 'green', 'blue', 'yellow'] as const;

export function quadPng(width: number, height: number): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const quadrant = (y < height / 2 ? 0 : 2) + (x < width / 2 ? 0 : 1);
      const [r, g, b] = QUAD_COLOURS[QUAD_LAYOUT[quadrant]!];
      const i = (y * width + x) * 4;
      png.data[i] = r; png.data[i + 1] = g; png.data[i + 2] = b; png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}
