/**
 * The server processes behind the local desktops: started with their output in a log file, waited
 * for until they accept connections, and stopped again (all of them, in reverse order) whatever
 * happened in between. A failure names the program and quotes the end of its log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export class LocalDesktopsError extends Error {
  override name = 'LocalDesktopsError';
}

interface Started { name: string; child: ChildProcess; log: string; exited: string | null }

export class ProcessGroup {
  private readonly started: Started[] = [];

  constructor(private readonly logDir: string) {}

  start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Started {
    const log = path.join(this.logDir, `${name}.log`);
    const fd = openSync(log, 'w');
    let child: ChildProcess;
    try {
      child = spawn(command, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
    } finally {
      closeSync(fd);
    }
    const entry: Started = { name, child, log, exited: null };
    child.on('error', (error) => { entry.exited = error.message; });
    child.on('exit', (code, signal) => { entry.exited = signal ? `killed by ${signal}` : `exit code ${code}`; });
    this.started.push(entry);
    return entry;
  }

  /** Runs a short helper to completion (e.g. painting the pattern); stdin is given when set. */
  async run(name: string, command: string, args: string[], { env = {}, input, timeoutMs = 20_000, okCodes = [0] }: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; okCodes?: number[] } = {}): Promise<Buffer> {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.stdin.end(input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    try {
      const code = await new Promise<number | null>((resolve, reject) => {
        child.on('error', reject);
        child.on('close', (c) => resolve(c));
      });
      const stderr = Buffer.concat(err).toString().trim();
      if (code === null || !okCodes.includes(code) || (code !== 0 && stderr)) throw new LocalDesktopsError(`${name} (${command}) failed with ${code ?? 'a timeout'}: ${stderr.slice(-400) || '(no message)'}`);
      return Buffer.concat(out);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once something accepts TCP on 127.0.0.1:port; fails early when the server died. */
  async waitForTcp(entry: Started, port: number, timeoutMs = 30_000): Promise<void> {
    await this.waitFor(entry, `accept connections on 127.0.0.1:${port}`, () => canConnect({ host: '127.0.0.1', port }), timeoutMs);
  }

  /** Resolves once the X server of `display` accepts clients on its unix socket. */
  async waitForX(entry: Started, display: number, timeoutMs = 20_000): Promise<void> {
    await this.waitFor(entry, `open X display :${display}`, () => canConnect({ path: `/tmp/.X11-unix/X${display}` }), timeoutMs);
  }

  private async waitFor(entry: Started, what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (entry.exited) throw new LocalDesktopsError(`${entry.name} stopped (${entry.exited}) before it could ${what}. ${logTail(entry.log)}`);
      if (await probe()) return;
      if (Date.now() > deadline) throw new LocalDesktopsError(`${entry.name} did not ${what} within ${timeoutMs / 1000} s. ${logTail(entry.log)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** SIGTERM to everything still running, newest first; SIGKILL whatever ignores it for 3 s. */
  async stopAll(): Promise<void> {
    const running = this.started.splice(0).reverse();
    for (const { child, exited } of running) {
      if (!exited && child.exitCode === null && child.signalCode === null) {
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await gone;
        clearTimeout(timer);
      }
    }
  }
}

export function requireProgram(program: string, debianPackage: string): string {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const candidate = path.join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new LocalDesktopsError(`${program} is not installed (Debian package ${debianPackage}). Run scripts/install-deps.sh as root.`);
}

export async function requireFreePort(port: number, what: string): Promise<void> {
  const server = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new LocalDesktopsError(code === 'EADDRINUSE'
      ? `Port ${port} on 127.0.0.1 (wanted for ${what}) is already in use. Stop what uses it or choose another port.`
      : `Cannot use port ${port} on 127.0.0.1 for ${what}: ${code ?? String(error)}.`);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** An X display is taken when its lock file names a live process (a stale lock the X server clears itself). */
export function requireFreeDisplay(display: number): void {
  let pid: number;
  try {
    pid = Number(readFileSync(`/tmp/.X${display}-lock`, 'utf8').trim());
  } catch {
    return;
  }
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return;
  }
  throw new LocalDesktopsError(`X display :${display} is already in use (by process ${pid}, see /tmp/.X${display}-lock). Choose another display.`);
}

function canConnect(target: { host: string; port: number } | { path: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(target as net.NetConnectOpts);
    socket.setTimeout(1000);
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

function logTail(log: string): string {
  try {
    const lines = readFileSync(log, 'utf8').trim().split('\n').slice(-5).join(' | ');
    return lines ? `Its log (${log}) ends: ${lines.slice(-600)}` : `Its log ${log} is empty.`;
  } catch {
    return '';
  }
}
