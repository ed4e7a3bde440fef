/**
 * The screen a native viewer draws on in tests: an Xvfb of its own (like the image's Xwayland, no
 * MIT-SCREEN-SAVER), root-window screenshots
 * (ImageMagick `import`), and waiting until the local desktops' quadrant picture shows on it.
 */
import { readFile } from 'node:fs/promises';
import { ProcessGroup, requireFreeDisplay, requireProgram } from '../../scripts/local-desktops/processes.js';
import { checkQuadPattern } from './pattern.js';
import { screenshotX } from './x-screenshot.js';

export interface ViewerScreen {
  /** e.g. ":53" */
  display: string;
  screenshot(): Promise<Buffer | null>;
  /** Polls screenshots until the pattern shows or the time is up; `detail` says what was last seen. */
  waitForPattern(timeoutMs: number): Promise<{ ok: boolean; detail: string; ms: number; png: Buffer | null }>;
  stop(): Promise<void>;
}

export async function startViewerScreen(display: number, logDir: string, size = '1024x768'): Promise<ViewerScreen> {
  const xvfb = requireProgram('Xvfb', 'xvfb');
  requireProgram('import', 'imagemagick');
  requireFreeDisplay(display);
  const group = new ProcessGroup(logDir);
  // Without MIT-SCREEN-SAVER, like the image's Xwayland (which has none): the kiosk's idle time
  // on this display must come the way it comes on the image (app/core/native/x11-idle.ts).
  const server = group.start(`viewer-xvfb-${display}`, xvfb, [`:${display}`, '-screen', '0', `${size}x24`, '-nolisten', 'tcp', '-noreset', '-extension', 'MIT-SCREEN-SAVER']);
  try {
    await group.waitForX(server, display);
  } catch (error) {
    await group.stopAll();
    throw error;
  }
  const name = `:${display}`;
  const screenshot = async (): Promise<Buffer | null> => {
    try {
      return await screenshotX(name, { timeoutMs: 10_000, attempts: 1 });
    } catch {
      return null;
    }
  };
  return {
    display: name,
    screenshot,
    async waitForPattern(timeoutMs) {
      const t0 = Date.now();
      let last = { ok: false, detail: 'no screenshot taken', png: null as Buffer | null };
      while (Date.now() - t0 < timeoutMs) {
        const png = await screenshot();
        if (png) {
          const check = checkQuadPattern(png);
          last = { ...check, png };
          if (check.ok) break;
        } else {
          last = { ok: false, detail: 'screenshot failed', png: null };
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return { ...last, ms: Date.now() - t0 };
    },
    stop: () => group.stopAll(),
  };
}

/** Resident memory of a process in KiB (VmRSS), or null when it is gone. */
export async function rssKiB(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+)/.exec(status);
    return match?.[1] ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** True while a process exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
