/**
 * Files that a reader must find either old or new, never half-written: a kiosk's switch file, the
 * boot server's status, the controller's ended sessions. A pulled plug or a reader racing the
 * writer would otherwise see a truncated file and take it for "no choice" or "broken". Written to
 * a temporary name next to the file (same file system, so the rename is atomic), flushed to disk,
 * then renamed over it. The temporary name carries the process id: two writers never share one.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';

export interface AtomicWriteOptions {
  /** Permission bits of a new file; default 0o644 (readable by the other programs that share it). */
  mode?: number;
}

function temporaryName(file: string): string {
  return `${file}.${process.pid}.tmp`;
}

export function writeFileAtomic(file: string, content: string | Buffer, { mode = 0o644 }: AtomicWriteOptions = {}): void {
  const temp = temporaryName(file);
  try {
    const fd = openSync(temp, 'w', mode);
    try {
      writeSync(fd, typeof content === 'string' ? Buffer.from(content) : content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

export async function writeFileAtomicAsync(file: string, content: string | Buffer, { mode = 0o644 }: AtomicWriteOptions = {}): Promise<void> {
  const temp = temporaryName(file);
  try {
    const handle = await open(temp, 'w', mode);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** JSON as the programs that share these files write it: one value, a newline at the end. */
export function jsonText(value: unknown, { pretty = false }: { pretty?: boolean } = {}): string {
  return `${JSON.stringify(value, null, pretty ? 2 : undefined)}\n`;
}

export function writeJsonAtomic(file: string, value: unknown, options: AtomicWriteOptions & { pretty?: boolean } = {}): void {
  writeFileAtomic(file, jsonText(value, options), options);
}

export async function writeJsonAtomicAsync(file: string, value: unknown, options: AtomicWriteOptions & { pretty?: boolean } = {}): Promise<void> {
  await writeFileAtomicAsync(file, jsonText(value, options), options);
}
