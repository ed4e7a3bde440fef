/**
 * Checks that a screenshot shows the local desktops' known picture (scripts/local-desktops/start.ts):
 * red top-left, green top-right, blue bottom-left, yellow bottom-right. Tolerant to scaling,
 * letterboxing, colour noise and a few stray pixels; a black, blank or scrambled image fails.
 */
import { PNG } from 'pngjs';

export interface Region { x: number; y: number; width: number; height: number }

const COLOURS = { red: [255, 0, 0], green: [0, 255, 0], blue: [0, 0, 255], yellow: [255, 255, 0] } as const;
type Colour = keyof typeof COLOURS;
const LAYOUT: readonly Colour[] = ['red', 'green', 'blue', 'yellow']; // TL, TR, BL, BR
/** Per channel: VGA's 6-bit palette (252 for 255) and lossy encodings stay well inside this. */
const TOLERANCE = 60;
/** Share of a quadrant's inner area that must be its colour. */
const MIN_SHARE = 0.9;
/** The picture must fill at least this share of the region's shorter side, so a speck does not pass. */
const MIN_SIDE_SHARE = 0.25;

export function checkQuadPattern(png: Buffer, region?: Region): { ok: boolean; detail: string } {
  const image = PNG.sync.read(png);
  const area = clip(region ?? { x: 0, y: 0, width: image.width, height: image.height }, image.width, image.height);
  if (area.width < 8 || area.height < 8) return { ok: false, detail: `region ${describe(area)} is too small to check (image ${image.width}x${image.height})` };

  const colourAt = (x: number, y: number): Colour | null => {
    const i = (y * image.width + x) * 4;
    const [r, g, b] = [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
    for (const name of LAYOUT) {
      const [R, G, B] = COLOURS[name];
      if (Math.abs(r - R) <= TOLERANCE && Math.abs(g - G) <= TOLERANCE && Math.abs(b - B) <= TOLERANCE) return name;
    }
    return null;
  };

  // Where the picture is: rows and columns with a real share of pattern pixels (stray ones do not count).
  const rowCounts = new Array<number>(area.height).fill(0);
  const colCounts = new Array<number>(area.width).fill(0);
  let total = 0;
  for (let y = 0; y < area.height; y++) {
    for (let x = 0; x < area.width; x++) {
      if (colourAt(area.x + x, area.y + y)) { rowCounts[y]!++; colCounts[x]!++; total++; }
    }
  }
  if (total === 0) return { ok: false, detail: `none of the pattern's colours in ${describe(area)}: the image is blank, black or something else` };
  const rows = span(rowCounts, Math.max(3, area.width * 0.05));
  const cols = span(colCounts, Math.max(3, area.height * 0.05));
  if (!rows || !cols) return { ok: false, detail: `only scattered pattern colours (${total} pixels) in ${describe(area)}` };
  const box = { x: area.x + cols.from, y: area.y + rows.from, width: cols.to - cols.from + 1, height: rows.to - rows.from + 1 };
  if (box.width < area.width * MIN_SIDE_SHARE || box.height < area.height * MIN_SIDE_SHARE) {
    return { ok: false, detail: `the pattern covers only ${describe(box)} of ${describe(area)}` };
  }

  // Each quadrant's inner part (a 15% margin absorbs scaling blur at the seams) must be its colour.
  const shares = LAYOUT.map((expected, q) => {
    const qx = box.x + (q % 2) * box.width / 2;
    const qy = box.y + Math.floor(q / 2) * box.height / 2;
    const [x0, x1] = [Math.round(qx + box.width * 0.075), Math.round(qx + box.width * 0.425)];
    const [y0, y1] = [Math.round(qy + box.height * 0.075), Math.round(qy + box.height * 0.425)];
    const seen: Record<string, number> = {};
    let n = 0;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) { const c = colourAt(x, y) ?? 'other'; seen[c] = (seen[c] ?? 0) + 1; n++; }
    const share = n ? (seen[expected] ?? 0) / n : 0;
    const mostly = Object.entries(seen).sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'nothing';
    return { expected, share, mostly };
  });
  const bad = shares.filter((s) => s.share < MIN_SHARE);
  const where = ['top-left', 'top-right', 'bottom-left', 'bottom-right'];
  const summary = shares.map((s, i) => `${where[i]} ${s.expected} ${(s.share * 100).toFixed(0)}%`).join(', ');
  if (bad.length) {
    return { ok: false, detail: `pattern at ${describe(box)} is wrong: ${bad.map((s) => `${where[LAYOUT.indexOf(s.expected)]} should be ${s.expected} but is mostly ${s.mostly}`).join('; ')} (${summary})` };
  }
  return { ok: true, detail: `pattern at ${describe(box)}: ${summary}` };
}

function clip(r: Region, width: number, height: number): Region {
  const x = Math.max(0, Math.floor(r.x));
  const y = Math.max(0, Math.floor(r.y));
  return { x, y, width: Math.max(0, Math.min(width, Math.floor(r.x + r.width)) - x), height: Math.max(0, Math.min(height, Math.floor(r.y + r.height)) - y) };
}

/** First and last index whose count reaches `min`. */
function span(counts: number[], min: number): { from: number; to: number } | null {
  const from = counts.findIndex((c) => c >= min);
  if (from < 0) return null;
  let to = counts.length - 1;
  while (counts[to]! < min) to--;
  return { from, to };
}

function describe(r: Region): string {
  return `${r.width}x${r.height}+${r.x}+${r.y}`;
}
