/**
 * A controller as it runs on a site: `node dist/controller/main.js --config FILE` in a process of its
 * own (optionally inside the classroom's network namespace), restartable, with its JSON log kept and
 * the relay's opened/closed events counted from it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

export interface ControllerProcessOptions {
  /** What people and logs call it. */
  label: string;
  configFile: string;
  config: Record<string, unknown>;
  /** Wraps the command, e.g. into `ip netns exec` (network.ts). */
  wrap?: (command: string, args: string[]) => { command: string; args: string[] };
  /** How the test reaches it (http://host:port). */
  url: string;
  /** Node's own options, e.g. --inspect for the measurements (inspector.ts). */
  nodeArgs?: string[];
}

export interface ControllerProcess {
  readonly label: string;
  readonly url: string;
  /** The running controller's process id (changes with every restart). */
  readonly pid: number;
  /** How many processes it has been (1 + restarts). */
  readonly generation: number;
  /**
   * The relay's `relay-opened` / `relay-closed` log events: in all, and of the running process (a
   * stopped process's last lines may never reach its log, and its connections ended with it).
   */
  relayEvents(): { opened: number; closed: number; current: { opened: number; closed: number } };
  /** The end of its log, for failure messages. */
  logTail(lines?: number): string;
  /** SIGTERM, as systemd would; resolves once it has exited. */
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  metrics(): Promise<string>;
}

export async function startControllerProcess(o: ControllerProcessOptions): Promise<ControllerProcess> {
  writeFileSync(o.configFile, JSON.stringify(o.config, null, 2));
  let child: ChildProcess | null = null;
  let generation = 0;
  let log: string[] = [];
  const events = { opened: 0, closed: 0 };
  let current = { opened: 0, closed: 0 };

  const start = async (): Promise<void> => {
    const { command, args } = (o.wrap ?? ((c, a) => ({ command: c, args: a })))(process.execPath, [...(o.nodeArgs ?? []), 'dist/controller/main.js', '--config', o.configFile]);
    const started = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    generation += 1;
    const mine = { opened: 0, closed: 0 };
    current = mine;
    let partial = '';
    const take = (chunk: Buffer): void => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.includes('"relay-opened"')) { events.opened += 1; mine.opened += 1; }
        if (line.includes('"relay-closed"')) { events.closed += 1; mine.closed += 1; }
        log.push(line);
      }
      if (log.length > 2000) log = log.slice(-1000);
    };
    started.stdout!.on('data', take);
    started.stderr!.on('data', take);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${o.label} did not start listening within 20 s:\n${log.slice(-20).join('\n')}`)), 20_000);
      const look = (): void => {
        if (log.some((line) => line.includes('"listening"'))) {
          clearTimeout(timer);
          started.stderr!.off('data', look);
          resolve();
        }
      };
      started.stderr!.on('data', look);
      started.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${o.label} exited (${signal ?? code}) while starting:\n${log.slice(-20).join('\n')}`));
      });
    });
    // `ip netns exec` replaces itself with the command: the pid is the controller's own.
    const comm = readFileSync(`/proc/${started.pid}/comm`, 'utf8').trim();
    if (comm !== 'node' && comm !== 'MainThread') throw new Error(`${o.label}: pid ${started.pid} is "${comm}", not the controller`);
  };

  const stop = async (): Promise<void> => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  };

  await start();
  return {
    label: o.label,
    url: o.url,
    get pid() { return child?.pid ?? -1; },
    get generation() { return generation; },
    relayEvents: () => ({ ...events, current: { ...current } }),
    logTail: (lines = 20) => log.slice(-lines).join('\n'),
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    metrics: async () => {
      const response = await fetch(`${o.url}/metrics`, { signal: AbortSignal.timeout(10_000) });
      return response.text();
    },
  };
}
