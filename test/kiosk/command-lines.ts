/**
 * What every local user can read about every process: its command line (/proc/<pid>/cmdline is
 * world-readable). The kiosk tests look there for the secrets they know.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** "pid: command line" of every process whose command line holds one of `secrets`. */
export function commandLinesHolding(secrets: string[]): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let line: string;
    try {
      line = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue; // ended meanwhile
    }
    if (secrets.some((secret) => secret && line.includes(secret))) found.push(`${pid}: ${line.slice(0, 200)}`);
  }
  return found;
}
