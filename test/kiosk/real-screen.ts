/**
 * A person in front of an X display, for the kiosk tests that must see what a person sees: the
 * whole screen captured (ImageMagick `import -window root`), read by tesseract (words with their
 * boxes), and a mouse and keyboard driven with xdotool. Text is typed from stdin (`xdotool type
 * --file -`), so what is typed never shows up on a command line.
 */
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { screenshotX } from '../support/x-screenshot.js';

const run = promisify(execFile);

/** Tesseract reads small UI text better from an enlarged picture; boxes are scaled back. */
const OCR_SCALE = 2;

export interface Box { left: number; top: number; width: number; height: number }
export interface Word extends Box { text: string; line: string }

export interface Shot {
  /** Where the capture was kept (the test's own directory), for failure messages. */
  file: string;
  png: PNG;
  words: Word[];
  /** Everything read, line by line. */
  text: string;
}

export class RealScreen {
  private shots = 0;

  /** `env` adds to the environment of every X client this person uses (XAUTHORITY for a display with a cookie). */
  constructor(readonly display: string, private readonly dir: string, private readonly extraEnv: NodeJS.ProcessEnv = {}) {}

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, ...this.extraEnv, DISPLAY: this.display };
  }

  /** The whole screen now as PNG, without reading it. */
  async grab(): Promise<Buffer> {
    return screenshotX(this.display, { env: this.env });
  }

  /**
   * The whole screen now, and what it says. `sparse: false` skips the second reading (buttons,
   * bubbles) where only the page's text is looked for: tesseract is most of a capture's time.
   */
  async capture(label = 'screen', { sparse = true }: { sparse?: boolean } = {}): Promise<Shot> {
    const file = path.join(this.dir, `${String(++this.shots).padStart(3, '0')}-${label}.png`);
    const stdout = await this.grab();
    writeFileSync(file, stdout);
    const png = PNG.sync.read(stdout);
    // Two readings. As it is, in page layout (keeps lines together, reads text on the dark page);
    // and with the dark page and the bare root window made white, as sparse text: tesseract skips
    // dark-on-light labels of buttons and bubbles that sit on a dark page.
    const words: Word[] = [];
    const whitened = darkBackgrounds(png).flatMap((colour) => ['-opaque', colour]);
    const readings = [['page', [], '3'], ['sparse', ['-fuzz', '10%', '-fill', 'white', ...whitened], '11']] as const;
    for (const [reading, preprocess, mode] of sparse ? readings : readings.slice(0, 1)) {
      const big = `${file}.${reading}.png`;
      await run('convert', [file, ...preprocess, '-resize', `${OCR_SCALE * 100}%`, big], { timeout: 20_000 });
      // One thread: on a busy machine tesseract's own threads only compete with each other.
      const { stdout: tsv } = await run('tesseract', [big, '-', '--psm', mode, 'tsv'], { env: { ...process.env, OMP_THREAD_LIMIT: '1' }, maxBuffer: 16 << 20, timeout: 60_000 });
      words.push(...parseTsv(tsv, reading));
    }
    const lines = new Map<string, string[]>();
    for (const word of words) lines.set(word.line, [...(lines.get(word.line) ?? []), word.text]);
    return { file, png, words, text: [...lines.values()].map((line) => line.join(' ')).join('\n') };
  }

  /** Captures until the screen's text matches (a pattern, or a phrase as findPhrase reads it), or throws with what it last read. */
  async waitFor(pattern: RegExp | string, timeoutMs: number, label = 'wait'): Promise<Shot> {
    const deadline = Date.now() + timeoutMs;
    let last: Shot | null = null;
    while (Date.now() < deadline) {
      last = await this.capture(label, { sparse: typeof pattern === 'string' });
      if (typeof pattern === 'string' ? findPhrase(last, pattern) : pattern.test(last.text)) return last;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new Error(`the screen did not show ${pattern} within ${timeoutMs} ms; it last read (${last?.file}):\n${last?.text}`);
  }

  /**
   * Like waitFor, but the screen must show it in captures at least `steadyMs` apart: a screen that
   * is about to go away (a browser being replaced) is not what a person gets to use.
   */
  async waitForSteady(pattern: RegExp, timeoutMs: number, label = 'steady', steadyMs = 2000): Promise<Shot> {
    const deadline = Date.now() + timeoutMs;
    let since: number | null = null;
    for (;;) {
      const shot = await this.waitFor(pattern, Math.max(1000, deadline - Date.now()), label);
      since ??= Date.now();
      if (Date.now() - since >= steadyMs) return shot;
      await new Promise((resolve) => setTimeout(resolve, steadyMs / 2));
      const again = await this.capture(label, { sparse: false });
      if (!pattern.test(again.text)) since = null;
      else if (Date.now() - since >= steadyMs) return again;
    }
  }

  async click(x: number, y: number): Promise<void> {
    await run('xdotool', ['mousemove', String(Math.round(x)), String(Math.round(y)), 'click', '1'], { env: this.env, timeout: 10_000 });
  }

  async clickOn(shot: Shot, phrase: string): Promise<void> {
    const box = findPhrase(shot, phrase);
    if (!box) throw new Error(`"${phrase}" is not on the screen (${shot.file}):\n${shot.text}`);
    await this.click(box.left + box.width / 2, box.top + box.height / 2);
  }

  async moveTo(x: number, y: number): Promise<void> {
    await run('xdotool', ['mousemove', String(Math.round(x)), String(Math.round(y))], { env: this.env, timeout: 10_000 });
  }

  async key(...keys: string[]): Promise<void> {
    await run('xdotool', ['key', '--delay', '60', ...keys], { env: this.env, timeout: 10_000 });
  }

  /** Types into whatever has the keyboard, a character at a time like a person. */
  async type(text: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('xdotool', ['type', '--delay', '40', '--file', '-'], { env: this.env, stdio: ['pipe', 'ignore', 'pipe'] });
      let errors = '';
      child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`xdotool type failed (${code}): ${errors}`))));
      child.stdin.end(text);
    });
  }
}

function parseTsv(tsv: string, reading: string): Word[] {
  const words: Word[] = [];
  for (const row of tsv.split('\n').slice(1)) {
    const cells = row.split('\t');
    if (cells.length < 12 || cells[0] !== '5') continue;
    const text = cells[11]!.trim();
    if (!text) continue;
    const [left, top, width, height] = cells.slice(6, 10).map((cell) => Number(cell) / OCR_SCALE) as [number, number, number, number];
    words.push({ text, left, top, width, height, line: `${reading}:${cells.slice(1, 5).join('.')}` });
  }
  return words;
}

/** Colours covering over a tenth of the screen that are dark: the page's background, the bare root. */
function darkBackgrounds(png: PNG): string[] {
  const counts = new Map<number, number>();
  for (let i = 0; i < png.data.length; i += 4 * 5) {
    const colour = (png.data[i]! << 16) | (png.data[i + 1]! << 8) | png.data[i + 2]!;
    counts.set(colour, (counts.get(colour) ?? 0) + 1);
  }
  const samples = png.data.length / (4 * 5);
  return [...counts].filter(([colour, count]) => {
    const luma = 0.299 * (colour >> 16) + 0.587 * ((colour >> 8) & 255) + 0.114 * (colour & 255);
    return count > samples / 10 && luma < 80;
  }).map(([colour]) => `#${colour.toString(16).padStart(6, '0')}`);
}

const normalise = (text: string) => text.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

/** Tesseract misreads a letter now and then ("Lag out"): one wrong, missing or extra letter passes in words of three or more. */
function sameWord(read: string, wanted: string): boolean {
  if (read === wanted) return true;
  if (wanted.length < 3 || Math.abs(read.length - wanted.length) > 1) return false;
  let i = 0;
  let j = 0;
  let edits = 0;
  while (i < read.length && j < wanted.length) {
    if (read[i] === wanted[j]) {
      i++;
      j++;
      continue;
    }
    if (++edits > 1) return false;
    if (read.length > wanted.length) i++;
    else if (read.length < wanted.length) j++;
    else {
      i++;
      j++;
    }
  }
  return edits + (read.length - i) + (wanted.length - j) <= 1;
}

/** The box around consecutive words of one line that read as `phrase` (case and punctuation ignored). */
export function findPhrase(shot: Shot, phrase: string): Box | null {
  const wanted = phrase.split(/\s+/).map(normalise);
  for (let i = 0; i < shot.words.length; i++) {
    const run = shot.words.slice(i, i + wanted.length);
    if (run.length < wanted.length || run.some((word) => word.line !== run[0]!.line)) continue;
    if (!run.every((word, k) => sameWord(normalise(word.text), wanted[k]!))) continue;
    const left = Math.min(...run.map((w) => w.left));
    const top = Math.min(...run.map((w) => w.top));
    const right = Math.max(...run.map((w) => w.left + w.width));
    const bottom = Math.max(...run.map((w) => w.top + w.height));
    return { left, top, width: right - left, height: bottom - top };
  }
  return null;
}

/**
 * The middle of the first strongly blue button on the rows of `box` or under it (within 250 px):
 * Chromium's prominent button in a bubble ("Save"), the page's primary buttons ("Connect"), whose
 * white-on-blue labels tesseract does not read.
 */
export function blueButtonBelow(png: PNG, box: Box): { x: number; y: number } | null {
  const isBlue = (x: number, y: number): boolean => {
    const i = (y * png.width + x) * 4;
    return png.data[i + 2]! > 150 && png.data[i]! < 90 && png.data[i + 1]! < 150;
  };
  for (let y = Math.round(box.top); y < Math.min(png.height, box.top + box.height + 250); y += 2) {
    let start = -1;
    for (let x = Math.max(0, Math.round(box.left - 100)); x < png.width; x++) {
      if (isBlue(x, y)) {
        if (start < 0) start = x;
      } else if (start >= 0) {
        // A run as wide as a button: aim 8 px lower, at its middle, clear of the rounded top edge.
        if (x - start >= 40) return { x: (start + x) / 2, y: y + 8 };
        start = -1;
      }
    }
  }
  return null;
}

/** How many pixels of a region are dark (text, dots, a caret): an empty white field has none. */
export function darkPixels(png: PNG, region: Box, threshold = 110): number {
  let dark = 0;
  for (let y = Math.max(0, Math.round(region.top)); y < Math.min(png.height, Math.round(region.top + region.height)); y++) {
    for (let x = Math.max(0, Math.round(region.left)); x < Math.min(png.width, Math.round(region.left + region.width)); x++) {
      const i = (y * png.width + x) * 4;
      const luma = 0.299 * png.data[i]! + 0.587 * png.data[i + 1]! + 0.114 * png.data[i + 2]!;
      if (luma < threshold) dark++;
    }
  }
  return dark;
}
