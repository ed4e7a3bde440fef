/**
 * The classroom's desktops: the local desktops (scripts/local-desktops/start.ts: TigerVNC, QEMU SPICE and
 * an Xvfb shared over RDP, all showing the known picture) plus an RDP server that knows every person
 * of the day. RDP signs in with the person's own login, and local-desktops' RDP server knows one
 * user only, so a second freerdp-shadow shares the same RDP screen with a SAM file of everyone.
 *
 * The controller sits behind the classroom's link (network.ts), so the desktops are offered on the
 * host's end of it: VNC and SPICE through forwarders (their servers listen on 127.0.0.1 only), RDP
 * bound there directly. down() and up() take the whole desktop host down and up again, forwarders
 * included, so while it is down every port refuses, as a rebooting machine's would.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startLocalDesktops, type LocalDesktops } from '../../scripts/local-desktops/start.js';
import { ntHash } from '../../scripts/local-desktops/nt-hash.js';
import { ProcessGroup, requireProgram } from '../../scripts/local-desktops/processes.js';
import { startForwarder, type Forwarder } from './network.js';

export interface DesktopPorts {
  /** 127.0.0.1 ports of the local desktops (local-desktops' own RDP server is not used). */
  localVnc: number;
  localSpice: number;
  localRdp: number;
  /** Ports on the host's end of the link. */
  vnc: number;
  spice: number;
  rdp: number;
}

export interface ClassroomDesktopsOptions {
  workDir: string;
  /** Host's end of the classroom link (network.ts). */
  host: string;
  ports: DesktopPorts;
  /** X displays displayBase (VNC) and displayBase + 1 (the RDP screen). */
  displayBase: number;
  vncPassword: string;
  spicePassword: string;
  /** Everyone who may sign in over RDP. */
  people: { name: string; password: string }[];
}

export interface ClassroomDesktops {
  vnc: { host: string; port: number; password: string };
  spice: { host: string; port: number; password: string };
  rdp: { host: string; port: number };
  /** The 127.0.0.1 ports the servers themselves listen on (for counting connections to them). */
  serverPorts: number[];
  /** Connections the VNC and SPICE forwarders carry right now. */
  forwarded(): number;
  /** The desktop host goes down: every server and forwarder stops, so every port refuses. */
  down(): Promise<void>;
  /** ... and comes back; resolves once every server accepts connections. */
  up(): Promise<void>;
  /** Lines of the VNC server's log (of its current run) that match. */
  vncLog(match: RegExp): string[];
  /** True while the servers run. */
  readonly running: boolean;
  stop(): Promise<void>;
}

export async function startClassroomDesktops(o: ClassroomDesktopsOptions): Promise<ClassroomDesktops> {
  const shadowProgram = requireProgram('freerdp-shadow-cli', 'freerdp2-shadow-x11');
  const rdpHome = path.join(o.workDir, 'rdp-everyone-home'); // its TLS key stays across restarts: same certificate
  const logDir = path.join(o.workDir, 'rdp-everyone-log');
  mkdirSync(rdpHome, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  const sam = path.join(o.workDir, 'everyone.sam');
  writeFileSync(sam, o.people.map((p) => `${p.name}:::${ntHash(p.password)}:::\n`).join(''), { mode: 0o600 });

  let local: LocalDesktops | null = null;
  let shadow: ProcessGroup | null = null;
  let forwarders: Forwarder[] = [];

  const up = async (): Promise<void> => {
    local = await startLocalDesktops({
      workDir: path.join(o.workDir, 'local'), vncPort: o.ports.localVnc, spicePort: o.ports.localSpice, rdpPort: o.ports.localRdp,
      displayBase: o.displayBase, vncPassword: o.vncPassword, spicePassword: o.spicePassword,
      rdpUser: o.people[0]!.name, rdpPassword: o.people[0]!.password,
    });
    shadow = new ProcessGroup(logDir);
    const server = shadow.start('freerdp-shadow-everyone', shadowProgram, [
      `/bind-address:${o.host}`, `/port:${o.ports.rdp}`, '+auth', '/sec:nla', `/sam-file:${sam}`,
    ], { DISPLAY: `:${o.displayBase + 1}`, HOME: rdpHome });
    await waitForTcpOn(shadow, server, o.host, o.ports.rdp);
    forwarders = [
      await startForwarder({ host: o.host, port: o.ports.vnc }, { host: '127.0.0.1', port: o.ports.localVnc }),
      await startForwarder({ host: o.host, port: o.ports.spice }, { host: '127.0.0.1', port: o.ports.localSpice }),
    ];
  };
  const down = async (): Promise<void> => {
    for (const forwarder of forwarders.splice(0)) await forwarder.close();
    await (shadow as ProcessGroup | null)?.stopAll();
    shadow = null;
    await (local as LocalDesktops | null)?.stop();
    local = null;
  };

  try {
    await up();
  } catch (error) {
    await down();
    throw error;
  }
  return {
    vnc: { host: o.host, port: o.ports.vnc, password: o.vncPassword },
    spice: { host: o.host, port: o.ports.spice, password: o.spicePassword },
    rdp: { host: o.host, port: o.ports.rdp },
    serverPorts: [o.ports.localVnc, o.ports.localSpice, o.ports.rdp],
    forwarded: () => forwarders.reduce((sum, f) => sum + f.open, 0),
    down,
    up: async () => {
      if (local) return;
      try {
        await up();
      } catch (error) {
        await down();
        throw error;
      }
    },
    get running() { return local !== null; },
    vncLog: (match) => {
      try {
        return readFileSync(path.join(o.workDir, 'local', 'log', 'xvnc.log'), 'utf8').split('\n').filter((l) => match.test(l)).map((l) => l.trim());
      } catch {
        return [];
      }
    },
    stop: down,
  };
}

/** ProcessGroup.waitForTcp asks 127.0.0.1; this server listens on the link's address only. */
async function waitForTcpOn(group: ProcessGroup, entry: ReturnType<ProcessGroup['start']>, host: string, port: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port });
      socket.setTimeout(1000);
      const done = (value: boolean): void => { socket.destroy(); resolve(value); };
      socket.once('connect', () => done(true)).once('error', () => done(false)).once('timeout', () => done(false));
    });
    if (ok) return;
    if (entry.child.exitCode !== null || entry.child.signalCode !== null) {
      await group.stopAll();
      throw new Error(`freerdp-shadow-cli for everyone stopped before it listened on ${host}:${port}; see its log in ${path.dirname(entry.log)}`);
    }
    if (Date.now() > deadline) {
      await group.stopAll();
      throw new Error(`freerdp-shadow-cli for everyone did not listen on ${host}:${port} within 30 s; see ${entry.log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
