/**
 * The boot server as one thing to start, stop and ask about: from its configuration it writes
 * dnsmasq's configuration, the TFTP tree (the netboot files linked, the boot menu and the Pi
 * command lines written) and the per-client presets into a state directory, runs dnsmasq (DHCP
 * proxy or full, TFTP) as a child and the HTTP server in this process, and keeps a status file
 * there that anyone may read (the kiosk's admin screen runs unprivileged: it reads the status and
 * writes the switch the service follows; contract/boot-server-files.ts).
 *
 *   const server = await startBootServer(config, { netbootDir, stateDir }, { source });
 *   server.status();  await server.stop();
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeBootServerStatus, type BootEvent, type BootServerStatus } from '../contract/boot-server-files.js';
import { hashClientPins, type BoxPin } from './admin-pin.js';
import { BootServerConfigError, type BootServerConfig } from './config.js';
import { renderClientPresets } from './client-preset.js';
import { MENU_FILE, renderDnsmasqConfig } from './dnsmasq-config.js';
import { BootHttpServer, type HttpRequestRecord } from './http-server.js';
import { renderIpxeMenu } from './ipxe-menu.js';
import { checkAgainstNetwork, findServedNetwork, type ServedNetwork } from './network.js';
import { inspectNetbootFiles, piFiles, type NetbootFiles } from './netboot-files.js';
import { piTftpDirectories, renderPiCommandLine } from './raspberry-pi.js';

const run = promisify(execFile);

/** On the box's settings partition (the root is read-only; that partition has the card's free space). */
export const DEFAULT_NETBOOT_DIR = '/var/lib/thinkiosk/netboot';

export interface BootServerPaths {
  /** `make netboot`'s output (netboot-files.ts). */
  netbootDir: string;
  /** Written at every start: dnsmasq.conf, tftp/, clients/, leases, status.json. */
  stateDir: string;
  dnsmasq?: string;
}

export class BootServerError extends Error {}

const MAX_EVENTS = 200;

export interface PreparedState {
  net: ServedNetwork;
  files: NetbootFiles;
  dnsmasqConf: string;
}

/** Writes everything dnsmasq and the HTTP server serve from; nothing is started. */
export function prepareBootServerState(config: BootServerConfig, paths: BootServerPaths, source: string, net = findServedNetwork(config)): PreparedState {
  const problems = checkAgainstNetwork(config, net);
  if (problems.length) throw new BootServerConfigError(`the boot server configuration in ${source} does not fit the network:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  const files = inspectNetbootFiles(paths.netbootDir);
  const { stateDir, netbootDir } = paths;
  const tftp = join(stateDir, 'tftp');
  const clients = join(stateDir, 'clients');
  // Written next to the live tree and swapped in, so a running TFTP transfer never sees half a tree.
  const fresh = (dir: string): string => {
    rmSync(`${dir}.new`, { recursive: true, force: true });
    mkdirSync(`${dir}.new`, { recursive: true, mode: 0o755 });
    return `${dir}.new`;
  };
  const swap = (dir: string): void => {
    rmSync(dir, { recursive: true, force: true });
    renameSync(`${dir}.new`, dir);
  };
  mkdirSync(stateDir, { recursive: true, mode: 0o755 });

  const tftpNew = fresh(tftp);
  for (const loader of files.loaders) symlinkSync(join(netbootDir, 'tftp', loader), join(tftpNew, loader));
  writeFileSync(join(tftpNew, MENU_FILE), renderIpxeMenu({
    serverAddress: net.address, httpPort: config.httpPort, timeoutSeconds: config.menu.timeoutSeconds,
    serialConsole: config.serialConsole, kernelArguments: config.kernelArguments, arches: files.arches,
  }), { mode: 0o644 });
  if (files.raspberryPi) {
    const cmdline = renderPiCommandLine({ serverAddress: net.address, httpPort: config.httpPort, serialConsole: config.serialConsole, kernelArguments: config.kernelArguments });
    for (const sub of piTftpDirectories(config)) {
      const dir = join(tftpNew, sub);
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      for (const name of piFiles(netbootDir)) symlinkSync(join(netbootDir, 'tftp', 'rpi', name), join(dir, name));
      writeFileSync(join(dir, 'cmdline.txt'), cmdline, { mode: 0o644 });
    }
  }
  swap(tftp);

  const clientsNew = fresh(clients);
  for (const [name, text] of renderClientPresets(config, net.address)) writeFileSync(join(clientsNew, name), text, { mode: 0o644 });
  swap(clients);

  const dnsmasqConf = renderDnsmasqConfig(config, net, { tftpRoot: tftp, leaseFile: join(stateDir, 'leases') }, source);
  writeFileSync(join(stateDir, 'dnsmasq.conf'), dnsmasqConf, { mode: 0o644 });
  return { net, files, dnsmasqConf };
}

export interface StartOptions {
  /** Where the configuration came from, for messages. */
  source: string;
  log?: (line: string) => void;
  /** The network to serve (default: read from the configured interface). */
  net?: ServedNetwork;
  /** How long dnsmasq may take to say it is up. */
  startSeconds?: number;
  /** Why it runs (shown in the status). */
  reason?: string;
  /** The box's own admin PIN, handed to clients that get none from the configuration (admin-pin.ts). */
  boxPin?: BoxPin | null;
}

export class BootServer {
  private dnsmasq: ChildProcess | null = null;
  private http: BootHttpServer | null = null;
  private readonly events: BootEvent[] = [];
  private current: BootServerStatus;
  private stopping = false;
  private exitListeners: Array<(error: string | null) => void> = [];

  constructor(private readonly config: BootServerConfig, private readonly paths: BootServerPaths, private readonly log: (line: string) => void) {
    this.current = {
      state: 'starting', since: new Date().toISOString(), mode: config.mode, interface: config.interface, address: null,
      httpUrl: null, arches: [], problems: [], error: null, events: [],
    };
  }

  status(): BootServerStatus {
    return { ...this.current, events: [...this.events] };
  }

  /** Called once if dnsmasq ends by itself (not through stop()): the server is then down. */
  onExit(listener: (error: string | null) => void): void {
    this.exitListeners.push(listener);
  }

  async start(options: StartOptions): Promise<void> {
    if (options.reason) this.current.reason = options.reason;
    try {
      const pins = await hashClientPins(this.config, options.boxPin ?? null);
      const prepared = prepareBootServerState(pins.config, this.paths, options.source, options.net);
      const { net, files } = prepared;
      const problems = [...files.problems, ...pins.problems];
      Object.assign(this.current, { address: net.address, httpUrl: `http://${net.address}:${this.config.httpPort}/`, arches: files.arches, problems });
      for (const problem of problems) this.log(`boot server: ${problem}`);
      if (pins.defaultSource) this.log(`boot server: netbooted kiosks get the admin PIN from ${pins.defaultSource}`);
      await this.checkDnsmasqConfig();
      await stopLeftoverDnsmasq(this.paths.stateDir);
      this.http = new BootHttpServer([
        { prefix: '/clients/', dir: join(this.paths.stateDir, 'clients') },
        { prefix: '/', dir: join(this.paths.netbootDir, 'http') },
      ], (record) => this.recordHttp(record));
      await this.http.listen(net.address, this.config.httpPort);
      await this.startDnsmasq(options.startSeconds ?? 10);
      this.current.state = 'running';
      this.current.since = new Date().toISOString();
      this.writeStatus();
      this.log(`boot server: ${this.config.mode === 'proxy' ? 'proxy-DHCP' : 'full DHCP'} on ${net.interface} (${net.address}/${net.prefixLength}), TFTP, HTTP on ${this.current.httpUrl}; kiosks for ${files.arches.join(', ') || 'nothing'}`);
    } catch (error) {
      await this.shutdown();
      this.current.state = 'failed';
      this.current.error = (error as Error).message;
      this.writeStatus();
      throw error;
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.shutdown();
    this.current.state = 'stopped';
    this.current.since = new Date().toISOString();
    this.writeStatus();
  }

  private async shutdown(): Promise<void> {
    const child = this.dnsmasq;
    this.dnsmasq = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await this.http?.close();
    this.http = null;
  }

  private async checkDnsmasqConfig(): Promise<void> {
    const conf = join(this.paths.stateDir, 'dnsmasq.conf');
    try {
      await run(this.paths.dnsmasq ?? '/usr/sbin/dnsmasq', ['--test', `--conf-file=${conf}`]);
    } catch (error) {
      const { code, stderr } = error as NodeJS.ErrnoException & { stderr?: string };
      if (code === 'ENOENT') throw new BootServerError('dnsmasq is not installed (Debian package dnsmasq-base)');
      throw new BootServerError(`dnsmasq rejects the generated configuration ${conf}: ${(stderr ?? '').trim()}`);
    }
  }

  private startDnsmasq(seconds: number): Promise<void> {
    const conf = join(this.paths.stateDir, 'dnsmasq.conf');
    const child = spawn(this.paths.dnsmasq ?? '/usr/sbin/dnsmasq', ['--keep-in-foreground', `--conf-file=${conf}`, '--log-facility=-', `--pid-file=${join(this.paths.stateDir, DNSMASQ_PID_FILE)}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.dnsmasq = child;
    // However this process ends (an uncaught error, process.exit), dnsmasq does not stay behind.
    const killOnExit = (): void => void child.kill('SIGTERM');
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));
    const lastLines: string[] = [];
    let pending = '';
    let announceUp: () => void = () => {};
    child.stderr!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        this.log(line);
        lastLines.push(line);
        if (lastLines.length > 10) lastLines.shift();
        this.recordDnsmasq(line);
        // dnsmasq reports its TFTP root last among its start-up lines.
        if (/TFTP root is/.test(line)) announceUp();
      }
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new BootServerError(`dnsmasq did not start within ${seconds} s: ${lastLines.join(' / ')}`)), seconds * 1000);
      announceUp = () => {
        clearTimeout(timer);
        resolve();
      };
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new BootServerError(`dnsmasq cannot be started: ${error.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        const why = lastLines.filter((line) => /dnsmasq: /.test(line)).pop() ?? lastLines.pop() ?? `exit ${code ?? signal}`;
        const message = /Address already in use/.test(why)
          ? `another DHCP or TFTP server is running on this box (${why.replace(/^.*dnsmasq: /, '')})`
          : `dnsmasq stopped: ${why.replace(/^.*dnsmasq: /, '')}`;
        reject(new BootServerError(message));
        if (!this.stopping && this.dnsmasq === child) {
          this.dnsmasq = null;
          this.current.state = 'failed';
          this.current.error = message;
          this.writeStatus();
          for (const listener of this.exitListeners) listener(message);
        }
      });
    });
  }

  private addEvent(event: BootEvent): void {
    this.events.push(event);
    if (this.events.length > MAX_EVENTS) this.events.shift();
  }

  private recordHttp(record: HttpRequestRecord): void {
    this.addEvent({ at: record.at, kind: 'http', client: record.client.replace(/^::ffff:/, ''), detail: `${record.method} ${record.path} ${record.status} ${record.bytes} bytes ${record.milliseconds} ms` });
    this.log(`boot server: HTTP ${record.client.replace(/^::ffff:/, '')} ${record.method} ${record.path} ${record.status} (${record.bytes} bytes, ${record.milliseconds} ms)`);
    this.writeStatus();
  }

  private recordDnsmasq(line: string): void {
    const at = new Date().toISOString();
    const tftp = /dnsmasq-tftp\[\d+\]: (sent|failed sending|error \d+ .*? received from) (\S+)(?: to (\S+))?/.exec(line);
    if (tftp) {
      this.addEvent({ at, kind: 'tftp', client: tftp[3] ?? '?', detail: `${tftp[1]} ${tftp[2]!.replace(join(this.paths.stateDir, 'tftp'), '')}` });
      this.writeStatus();
      return;
    }
    // e.g. "PXE(eth0) 52:54:00:12:34:01 proxy" or "DHCPACK(eth0) 10.88.0.120 52:54:00:12:34:01"
    const dhcp = /dnsmasq-dhcp\[\d+\]: (?:\d+ )?((?:PXE|DHCPACK|DHCPOFFER)\(\S+\)) (.*)$/.exec(line);
    if (dhcp) {
      const mac = /([0-9a-f]{2}:){5}[0-9a-f]{2}/.exec(dhcp[2]!)?.[0] ?? '?';
      this.addEvent({ at, kind: 'dhcp', client: mac, detail: `${dhcp[1]} ${dhcp[2]}` });
      this.writeStatus();
    }
  }

  private writeStatus(): void {
    try {
      writeBootServerStatus(this.paths.stateDir, this.status());
    } catch {
      // The state directory is gone (stopped and cleaned up): nothing to report to.
    }
  }
}

const DNSMASQ_PID_FILE = 'dnsmasq.pid';

/**
 * A dnsmasq left behind by a boot server that was killed outright (SIGKILL, a power cut of the
 * service manager) still holds the DHCP and TFTP ports and serves an old configuration: it is
 * stopped before a new one starts. Only a dnsmasq whose command line names this state directory's
 * configuration is touched, so a pid reused by another program is left alone.
 */
export async function stopLeftoverDnsmasq(stateDir: string): Promise<boolean> {
  const pidFile = join(stateDir, DNSMASQ_PID_FILE);
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return false;
  }
  const ours = (): boolean => {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return /dnsmasq$/.test(argv[0] ?? '') && argv.includes(`--conf-file=${join(stateDir, 'dnsmasq.conf')}`);
    } catch {
      return false;
    }
  };
  if (!Number.isInteger(pid) || pid <= 1 || !ours()) {
    rmSync(pidFile, { force: true });
    return false;
  }
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; ours() && waited < 5000; waited += 100) await sleep(100);
  if (ours()) process.kill(pid, 'SIGKILL');
  rmSync(pidFile, { force: true });
  return true;
}

function writeStandbyStatus(stateDir: string, status: BootServerStatus): void {
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o755 });
    writeBootServerStatus(stateDir, status);
  } catch {
    // No state directory to write to: the log says it.
  }
}

/** The status of a boot server that is switched off (the service waits for the switch). */
export function writeOffStatus(config: BootServerConfig, stateDir: string, reason: string): void {
  writeStandbyStatus(stateDir, {
    state: 'off', reason, since: new Date().toISOString(), mode: config.mode, interface: config.interface, address: null,
    httpUrl: null, arches: [], problems: [], error: null, events: [],
  });
}

/** The status of a boot server that cannot even read its configuration. */
export function writeFailedStatus(stateDir: string, error: string): void {
  writeStandbyStatus(stateDir, {
    state: 'failed', since: new Date().toISOString(), mode: 'proxy', interface: '', address: null,
    httpUrl: null, arches: [], problems: [], error, events: [],
  });
}

/** Starts the boot server; throws with a sentence an admin can act on when it cannot start. */
export async function startBootServer(config: BootServerConfig, paths: BootServerPaths, options: StartOptions): Promise<BootServer> {
  const server = new BootServer(config, paths, options.log ?? ((line) => process.stdout.write(`${line}\n`)));
  await server.start(options);
  return server;
}

