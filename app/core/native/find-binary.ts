/**
 * Finds a viewer's executable before anything is spawned, so a missing client is reported as
 * such (with the package to install) instead of as a pty that died with exit code 1.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';

/** The absolute path of `command` (a name looked up in PATH, or a path), or null when there is none. */
export async function findBinary(command: string, path: string | undefined): Promise<string | null> {
  const candidates = isAbsolute(command) || command.includes('/')
    ? [command]
    : (path ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      // A directory is "executable" too (searchable), but no viewer.
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not here; try the next PATH entry
    }
  }
  return null;
}
