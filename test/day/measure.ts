/**
 * What a long day costs a process: resident and proportional memory (VmRSS; Pss from
 * /proc/<pid>/smaps_rollup), open file descriptors, threads and the processes it started (its
 * descendants: viewers, relays, terminals), read from /proc. A group (Chromium's browser and its
 * renderers) is summed over the tree. Plus the least-squares slope per person that says whether
 * any of these grows.
 */
import { readFileSync, readdirSync } from 'node:fs';

export interface Usage {
  rssKiB: number;
  pssKiB: number;
  fds: number;
  threads: number;
  /** Descendant processes (not counting the process itself). */
  descendants: number;
  /** Their names, for messages ("xfreerdp", "bash"). */
  descendantNames: string[];
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** pid → parent pid, for every process on this machine now. */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readText(`/proc/${name}/stat`);
    if (!stat) continue;
    // comm may hold spaces and parentheses: the fields after the last ")" are fixed.
    const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    map.set(Number(name), Number(after[1]));
  }
  return map;
}

export function descendantsOf(pid: number, parentMap = parents()): number[] {
  const children = new Map<number, number[]>();
  for (const [child, parent] of parentMap) children.set(parent, [...(children.get(parent) ?? []), child]);
  const found: number[] = [];
  const queue = [...(children.get(pid) ?? [])];
  while (queue.length) {
    const next = queue.shift()!;
    found.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return found;
}

export function processName(pid: number): string {
  return readText(`/proc/${pid}/comm`)?.trim() ?? '?';
}

function one(pid: number): { rssKiB: number; pssKiB: number; fds: number; threads: number } | null {
  const status = readText(`/proc/${pid}/status`);
  if (!status) return null;
  const rollup = readText(`/proc/${pid}/smaps_rollup`) ?? '';
  let fds = 0;
  try {
    fds = readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
  return {
    rssKiB: Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0),
    pssKiB: Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0),
    fds,
    threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 0),
  };
}

/** One process's own usage and its descendants (counted, named, not summed). Null when it is gone. */
export function usageOf(pid: number): Usage | null {
  const own = one(pid);
  if (!own) return null;
  const below = descendantsOf(pid);
  return { ...own, descendants: below.length, descendantNames: below.map(processName) };
}

/** A process tree summed (Chromium: browser, GPU, renderers, utilities). */
export function treeUsage(rootPid: number): Usage | null {
  const root = one(rootPid);
  if (!root) return null;
  const below = descendantsOf(rootPid);
  const total = { ...root };
  for (const pid of below) {
    const u = one(pid);
    if (!u) continue;
    total.rssKiB += u.rssKiB;
    total.pssKiB += u.pssKiB;
    total.fds += u.fds;
    total.threads += u.threads;
  }
  return { ...total, descendants: below.length, descendantNames: below.map(processName) };
}

/** Least-squares slope of y over x; 0 for fewer than two distinct x. */
export function slope(points: { x: number; y: number }[]): number {
  if (points.length < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / points.length;
  const my = points.reduce((s, p) => s + p.y, 0) / points.length;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Processes whose command line contains `marker` (e.g. a unique Chromium flag). */
export function pidsWithArgument(marker: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = readText(`/proc/${name}/cmdline`);
    if (cmdline?.split('\0').includes(marker)) found.push(Number(name));
  }
  return found;
}

/**
 * Every process whose environment holds `entry` (e.g. the kiosk's own HOME=...): the kiosk's
 * viewers and shells inherit it, so one that escaped the kiosk (reparented to init) still shows.
 */
export function processesWithEnvironment(entry: string, except: readonly number[] = []): { pid: number; name: string }[] {
  const found: { pid: number; name: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || except.includes(Number(name))) continue;
    const environ = readText(`/proc/${name}/environ`);
    if (environ?.split('\0').includes(entry)) found.push({ pid: Number(name), name: processName(Number(name)) });
  }
  return found;
}
