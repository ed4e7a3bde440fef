/**
 * Hands a secret to a tool that reads it from a file path, without a file: a named pipe (FIFO) in a
 * fresh directory only this user can enter. The secret goes from memory into the kernel's pipe
 * buffer and out to the reader; it is never on disk and never on a command line (where `ps` shows
 * it to every local user).
 *
 * A pipe and not /dev/stdin: Node gives a child's stdin as a socket, and opening /dev/stdin on a
 * socket fails (ENXIO), so a tool that opens the path it is given cannot read it there.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SystemError } from './system-error.js';

const run = promisify(execFile);

export async function withSecretPipe<T>(secret: string, use: (path: string) => Promise<T>): Promise<T> {
  // The user's runtime directory is RAM-backed and private; the temp directory is the fallback.
  const base = (await isDirectory(process.env.XDG_RUNTIME_DIR)) ? process.env.XDG_RUNTIME_DIR! : tmpdir();
  const dir = await mkdtemp(join(base, 'thinkiosk-secret-')); // mode 0700
  const path = join(dir, 'secret');
  try {
    try {
      await run('mkfifo', ['-m', '600', path], { timeout: 5000 });
    } catch (error) {
      throw new SystemError('system', 'The kiosk could not prepare to pass the password on. Try again; if it keeps failing, restart the kiosk.', `mkfifo ${path}: ${String(error)}`);
    }
    // Opening a pipe for writing waits until the tool opens it for reading.
    const writer = (async () => {
      const handle = await open(path, 'w');
      try {
        await handle.writeFile(secret);
      } finally {
        await handle.close();
      }
    })();
    writer.catch(() => undefined); // a tool that never reads is its own failure, reported by `use`
    try {
      return await use(path);
    } finally {
      // If the tool ended without opening the pipe, the writer still waits: be its reader, once.
      const unblock = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch(() => null);
      await writer.catch(() => undefined);
      await unblock?.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function isDirectory(path: string | undefined): Promise<boolean> {
  if (!path) return false;
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
