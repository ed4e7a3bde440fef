/**
 * A picture of the kiosk's real screen for the fleet's screenshot command: what the person sees,
 * native viewers (xfreerdp, remote-viewer) included. Under Wayland (cage on the appliance) with
 * `grim`, under X with ImageMagick's `import -window root`.
 *
 * Not Chromium's Page.captureScreenshot over the browser shell's debugging pipe: it would show the
 * page only, never a native viewer over it, and under the image's managed policies
 * (DeveloperToolsAvailability 2) Chromium refuses to attach to the page at all.
 */
import { execFile } from 'node:child_process';

export interface ScreenCaptureOptions {
  env?: NodeJS.ProcessEnv;
  grimCommand?: string;
  importCommand?: string;
  timeoutMs?: number;
}

/** The contract's limit is ~3 MiB of PNG (4 MiB of base64); a larger picture is taken again at half size. */
export const MAX_PNG_BYTES = 3 * 1024 * 1024;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export class ScreenCaptureError extends Error {}

export class ScreenCapture {
  constructor(private readonly options: ScreenCaptureOptions = {}) {}

  /** A PNG of the whole screen; throws ScreenCaptureError with a sentence for the fleet's admin. */
  async capture(): Promise<Buffer> {
    const full = await this.take(false);
    return full.length <= MAX_PNG_BYTES ? full : this.take(true);
  }

  private async take(half: boolean): Promise<Buffer> {
    const env = this.options.env ?? process.env;
    let command: string;
    let args: string[];
    if (env.WAYLAND_DISPLAY) {
      command = this.options.grimCommand ?? 'grim';
      args = [...(half ? ['-s', '0.5'] : []), '-t', 'png', '-'];
    } else if (env.DISPLAY) {
      command = this.options.importCommand ?? 'import';
      args = ['-window', 'root', ...(half ? ['-resize', '50%'] : []), 'png:-'];
    } else {
      throw new ScreenCaptureError('the kiosk runs on no display server (neither WAYLAND_DISPLAY nor DISPLAY is set)');
    }
    const png = await run(command, args, env, this.options.timeoutMs ?? 20_000);
    if (!png.subarray(0, 8).equals(PNG_SIGNATURE)) throw new ScreenCaptureError(`${command} did not give a PNG picture`);
    if (png.length > MAX_PNG_BYTES) throw new ScreenCaptureError(`the picture is larger than ${MAX_PNG_BYTES / 1024 / 1024} MiB even at half size`);
    return png;
  }
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, encoding: 'buffer', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return reject(new ScreenCaptureError(`${command} is not installed on this kiosk`));
      const said = stderr.toString('utf8').trim().split('\n')[0] ?? '';
      reject(new ScreenCaptureError(`${command} failed${said ? `: ${said.slice(0, 120)}` : ''}`));
    });
  });
}
