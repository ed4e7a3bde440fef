/**
 * Starting and stopping the real daemons the system-module tests talk to (Xvfb, Xvnc, cage,
 * PipeWire, NetworkManager). Each runs in its own process group, so stopping it also ends whatever
 * it started (cage's client, Xwayland), and stop() waits until the leader has really exited.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access } from 'node:fs/promises';

export interface Daemon {
  readonly pid: number;
  /** What it printed so far (stdout and stderr), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export function startDaemon(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Daemon {
  const child: ChildProcess = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let printed = '';
  const keep = (chunk: Buffer) => {
    printed = (printed + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', () => resolve());
    child.once('error', (error) => {
      printed += `\nspawn failed: ${error.message}`;
      resolve();
    });
  });
  return {
    pid: child.pid ?? -1,
    output: () => printed,
    async stop() {
      if (child.pid === undefined) return;
      signalGroup(child.pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      // Whatever the leader left behind in its group (e.g. a client that ignored SIGTERM).
      signalGroup(child.pid, 'SIGKILL');
    },
  };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Polls `probe` until it returns a value (not undefined) or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms${last ? ` (last: ${String(last)})` : ''}`);
}

export async function exists(path: string): Promise<true | undefined> {
  try {
    await access(path);
    return true;
  } catch {
    return undefined;
  }
}
