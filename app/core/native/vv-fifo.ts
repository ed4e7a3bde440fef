/**
 * Hands a connection file that holds a secret to a viewer without writing the secret to disk.
 *
 * remote-viewer only takes its SPICE ticket from the URI (argv, visible to every user in ps), from
 * a .vv file, or from a dialog. It reads a .vv file by path, and `/dev/stdin` would be our pty,
 * which echoes what is written to it into the output we log. So: a named pipe in a fresh 0700
 * directory, opened by nobody but the viewer; the file content goes into the pipe (kernel memory)
 * only once the viewer has opened it for reading, and the pipe and directory are removed right
 * after. A regular file with `delete-this-file=1` would work too, but would put the ticket on disk
 * for as long as the viewer takes to start.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface VvFifo {
  readonly path: string;
  /**
   * Waits until the viewer opens the pipe, writes `content` and closes it. Resolves false when
   * `gaveUp()` turns true first (the viewer exited or the connect time ran out).
   */
  deliver(content: string, gaveUp: () => boolean): Promise<boolean>;
  /** Removes the pipe and its directory (idempotent). */
  remove(): Promise<void>;
}

export async function createVvFifo(runtimeDir: string | undefined): Promise<VvFifo> {
  // mkdtemp makes the directory 0700, so nobody else can open the pipe in it; /tmp does as well
  // when the session's runtime directory is not there (no logind on a bare kiosk).
  const dir = await mkdtemp(join(runtimeDir ?? tmpdir(), 'thinkiosk-vv-')).catch(() => mkdtemp(join(tmpdir(), 'thinkiosk-vv-')));
  const path = join(dir, 'console.vv');
  try {
    // Node has no mkfifo(3); coreutils' mkfifo is always there on Debian.
    await run('mkfifo', ['-m', '0600', path]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    path,
    async deliver(content, gaveUp) {
      for (;;) {
        if (gaveUp()) return false;
        try {
          // Non-blocking: opening a FIFO for writing would otherwise block a libuv worker until a
          // reader comes, forever if the viewer never starts. ENXIO means "no reader yet".
          const handle = await open(path, constants.O_WRONLY | constants.O_NONBLOCK);
          try {
            // Far below the pipe's 64 KiB buffer, so one non-blocking write takes it all.
            await handle.write(content);
          } finally {
            await handle.close();
          }
          return true;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENXIO') throw error;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    },
    async remove() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}
