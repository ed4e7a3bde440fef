/**
 * The whole of an X display as PNG (ImageMagick `import -window root`), for tests that look at
 * the real screen. One capture can fail on its own: `import` walks the window tree, and a window
 * that goes away during the walk (Chromium replaced between two people, a viewer closing) makes
 * it give up with an X error; on a loaded machine it can also run past its time. The screen is
 * still there, so a few attempts are made; the error of the last one says why, in full.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ScreenshotOptions {
  env?: NodeJS.ProcessEnv;
  /** Per attempt. */
  timeoutMs?: number;
  attempts?: number;
}

export async function screenshotX(display: string, { env = process.env, timeoutMs = 20_000, attempts = 3 }: ScreenshotOptions = {}): Promise<Buffer> {
  let reason = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const { stdout } = await run('import', ['-display', display, '-window', 'root', 'png:-'], { env, encoding: 'buffer', maxBuffer: 64 << 20, timeout: timeoutMs });
      return stdout;
    } catch (error) {
      const failed = error as NodeJS.ErrnoException & { stderr?: Buffer; killed?: boolean; signal?: string };
      const stderr = failed.stderr?.toString().trim();
      reason = failed.killed ? `no picture within ${timeoutMs} ms (${failed.signal ?? 'killed'})` : stderr || failed.message;
      if (failed.code === 'ENOENT') break;
      await new Promise((resolve) => setTimeout(resolve, 300 * attempt));
    }
  }
  throw new Error(`no screenshot of X display ${display} after ${attempts} attempts: ${reason}`);
}
