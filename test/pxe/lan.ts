/**
 * A LAN made of network namespaces for the netboot tests, and nothing else on it:
 *
 *   tkpxe-lan   the switch: bridge br0, one tap per client (QEMU attaches to it)
 *   tkpxe-srv   the thinkiosk box: 10.88.0.2/24 on srv0, runs the real boot server (dist/pxe/main.js)
 *   tkpxe-site  the site's own router/DHCP server: 10.88.0.1/24 on site0 (a plain dnsmasq that knows
 *               nothing about PXE), started only where a test needs one
 *
 * Everything is torn down afterwards; a leftover LAN of an interrupted run is removed first.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readBootServerStatus, type BootServerStatus } from '../../contract/boot-server-files.js';

const run = promisify(execFile);

/** dist/test/pxe → repository root. */
export const REPO = process.env.THINKIOSK_REPO ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const WORK = process.env.THINKIOSK_PXE_WORK ?? '/var/tmp/thinkiosk-pxe';
/** THINKIOSK_PXE_NS: another name prefix (tkpxe2, ...), so a benchmark's LAN and a test's never meet. */
const NS_PREFIX = /^tkpxe[\w-]{0,6}$/.test(process.env.THINKIOSK_PXE_NS ?? '') ? process.env.THINKIOSK_PXE_NS! : 'tkpxe';
export const NS = { lan: `${NS_PREFIX}-lan`, server: `${NS_PREFIX}-srv`, site: `${NS_PREFIX}-site` } as const;
export const SERVER_IP = '10.88.0.2';
export const SITE_IP = '10.88.0.1';
/** A DNS server that never answers (startSiteDhcp's blackHoleDns), on the site's namespace. */
export const DEAD_DNS_IP = '10.88.0.53';
export const PREFIX = 24;

const sh = async (args: string[]): Promise<string> => (await run(args[0]!, args.slice(1))).stdout;
const inNs = (ns: string, args: string[]): Promise<string> => sh(['ip', 'netns', 'exec', ns, ...args]);

export async function removeLeftoverLan(): Promise<void> {
  const { stdout } = await run('ip', ['netns', 'list']);
  for (const line of stdout.split('\n')) {
    const name = line.split(' ')[0];
    if (name && (Object.values(NS) as string[]).includes(name)) await run('ip', ['netns', 'del', name]).catch(() => {});
  }
}

export class TestLan {
  private readonly children: ChildProcess[] = [];
  private taps = 0;

  constructor(readonly dir: string) {}

  async up(): Promise<void> {
    await removeLeftoverLan();
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    for (const ns of Object.values(NS)) {
      await sh(['ip', 'netns', 'add', ns]);
      await inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
    }
    await inNs(NS.lan, ['ip', 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
    await inNs(NS.lan, ['ip', 'link', 'set', 'br0', 'up']);
    for (const [ns, dev, ip] of [[NS.server, 'srv0', SERVER_IP], [NS.site, 'site0', SITE_IP]] as const) {
      await sh(['ip', 'link', 'add', dev, 'netns', ns, 'type', 'veth', 'peer', 'name', `${dev}p`, 'netns', NS.lan]);
      await inNs(NS.lan, ['ip', 'link', 'set', `${dev}p`, 'master', 'br0', 'up']);
      await inNs(ns, ['ip', 'addr', 'add', `${ip}/${PREFIX}`, 'dev', dev]);
      await inNs(ns, ['ip', 'link', 'set', dev, 'up']);
    }
    // A ULA prefix on the box, for the tests that let it send router advertisements.
    await inNs(NS.server, ['ip', '-6', 'addr', 'add', 'fd88::2/64', 'dev', 'srv0', 'nodad']);
  }

  /** A tap on the switch for one QEMU client. */
  async addTap(): Promise<string> {
    const tap = `tap${this.taps++}`;
    await inNs(NS.lan, ['ip', 'tuntap', 'add', tap, 'mode', 'tap']);
    await inNs(NS.lan, ['ip', 'link', 'set', tap, 'master', 'br0', 'up']);
    return tap;
  }

  /**
   * The site's DHCP server: addresses 10.88.0.150-199, itself as router and DNS (nothing listens on
   * port 53 there, so lookups are refused at once). No PXE. `blackHoleDns`: the DNS server it hands
   * out is DEAD_DNS_IP instead, which takes every query and never answers (a DNS server behind a
   * firewall that drops, or one that hangs): each lookup then waits for its time-outs.
   */
  async startSiteDhcp(options: { blackHoleDns?: boolean } = {}): Promise<ChildProcess> {
    const dns = options.blackHoleDns ? DEAD_DNS_IP : SITE_IP;
    if (options.blackHoleDns) {
      await inNs(NS.site, ['ip', 'addr', 'add', `${DEAD_DNS_IP}/${PREFIX}`, 'dev', 'site0']);
      for (const protocol of ['udp', 'tcp']) await inNs(NS.site, ['iptables', '-A', 'INPUT', '-d', DEAD_DNS_IP, '-p', protocol, '--dport', '53', '-j', 'DROP']);
    }
    const conf = join(this.dir, 'site-dnsmasq.conf');
    writeFileSync(conf, [
      '# the site\'s ordinary DHCP server (a router), which knows nothing about PXE',
      'port=0', 'interface=site0', 'bind-interfaces', 'log-dhcp',
      `dhcp-leasefile=${join(this.dir, 'site.leases')}`,
      'dhcp-range=10.88.0.150,10.88.0.199,255.255.255.0,1h',
      `dhcp-option=option:router,${SITE_IP}`, `dhcp-option=option:dns-server,${dns}`, '',
    ].join('\n'));
    return this.spawnLogged('site-dhcp', NS.site, ['/usr/sbin/dnsmasq', '--keep-in-foreground', `--conf-file=${conf}`, '--log-facility=-', '--pid-file='], /DHCP, IP range/);
  }

  /**
   * The real boot server (the command the image's unit runs) with a configuration written from
   * `yaml`; `preset`: the box's own thinkiosk.conf (its admin PIN is the clients' default). Never
   * this machine's /boot/firmware or kiosk settings.
   */
  async startBootServer(name: string, yaml: string, netbootDir: string, options: { preset?: string } = {}): Promise<RunningServer> {
    const config = join(this.dir, `${name}.yaml`);
    const state = join(this.dir, `${name}-state`);
    const preset = join(this.dir, `${name}-thinkiosk.conf`);
    writeFileSync(config, yaml);
    rmSync(preset, { force: true });
    if (options.preset !== undefined) writeFileSync(preset, options.preset);
    const child = await this.spawnLogged(name, NS.server, [process.execPath, join(REPO, 'dist/pxe/main.js'), 'serve', '--config', config, '--netboot', netbootDir, '--state', state,
      '--preset', preset, '--kiosk-settings', join(this.dir, `${name}-no-kiosk-settings.json`)],
    /boot server: (proxy-DHCP|full DHCP) on/);
    return new RunningServer(child, state, join(this.dir, `${name}.log`));
  }

  /** Starts a program in a namespace, its output in DIR/NAME.log; resolves once `ready` appears in it. */
  async spawnLogged(name: string, ns: string, args: string[], ready: RegExp, seconds = 20): Promise<ChildProcess> {
    const logFile = join(this.dir, `${name}.log`);
    const log = createWriteStream(logFile);
    const child = spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    let text = '';
    return new Promise((resolveStart, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within ${seconds} s:\n${text}`)), seconds * 1000);
      const take = (chunk: Buffer): void => {
        log.write(chunk);
        text += chunk.toString();
        if (ready.test(text)) {
          clearTimeout(timer);
          resolveStart(child);
        }
      };
      child.stdout!.on('data', take);
      child.stderr!.on('data', take);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name} ended (exit ${code}) before it was ready:\n${text}`));
      });
    });
  }

  async stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  async down(): Promise<void> {
    for (const child of this.children.reverse()) await this.stop(child);
    await removeLeftoverLan();
  }
}

export class RunningServer {
  constructor(readonly child: ChildProcess, readonly stateDir: string, readonly logFile: string) {}

  status(): BootServerStatus {
    const reading = readBootServerStatus(this.stateDir);
    if (reading.kind !== 'ok') throw new Error(`the boot server wrote no readable status in ${this.stateDir}: ${JSON.stringify(reading)}`);
    return reading.status;
  }

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }
}
