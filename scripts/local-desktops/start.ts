/**
 * Real remote-desktop servers on 127.0.0.1, each showing the same known picture (red, green / blue,
 * yellow quadrants), for tests and the demo:
 *   VNC   — TigerVNC Xvnc on X display `displayBase`, VncAuth password;
 *   SPICE — QEMU (TCG) booting a 512-byte boot sector that paints the picture, SPICE password;
 *   RDP   — freerdp-shadow-cli sharing an Xvfb on display `displayBase + 1`, NLA against a SAM file.
 *
 * As a program (stays in the foreground until SIGTERM or Ctrl+C, prints one JSON line when ready):
 *   node dist/scripts/local-desktops/start.js --work-dir DIR --vnc-port P --spice-port P --rdp-port P
 *        --display-base N --vnc-password PW --spice-password PW --rdp-user U --rdp-password PW
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { quadBootSector } from './boot-sector.js';
import { ntHash } from './nt-hash.js';
import { LocalDesktopsError, ProcessGroup, requireFreeDisplay, requireFreePort, requireProgram } from './processes.js';
import { quadPng } from './quad-image.js';

export { LocalDesktopsError } from './processes.js';

export interface LocalDesktopsOptions {
  workDir: string;
  vncPort: number;
  spicePort: number;
  rdpPort: number;
  /** Uses X displays displayBase (VNC) and displayBase + 1 (RDP). */
  displayBase: number;
  vncPassword: string;
  spicePassword: string;
  rdpUser: string;
  rdpPassword: string;
}

export interface LocalDesktops {
  vnc: { host: string; port: number; password: string };
  spice: { host: string; port: number; password: string };
  rdp: { host: string; port: number; username: string; password: string };
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const WIDTH = 800;
const HEIGHT = 600;

/** Resolves once every server accepts TCP connections; on any failure stops what it started and throws. */
export async function startLocalDesktops(o: LocalDesktopsOptions): Promise<LocalDesktops> {
  const programs = {
    xvnc: requireProgram('Xvnc', 'tigervnc-standalone-server'),
    vncpasswd: requireProgram('vncpasswd', 'tigervnc-tools'),
    xvfb: requireProgram('Xvfb', 'xvfb'),
    display: requireProgram('display', 'imagemagick'),
    qemu: requireProgram('qemu-system-x86_64', 'qemu-system-x86'),
    shadow: requireProgram('freerdp-shadow-cli', 'freerdp2-shadow-x11'),
  };
  if (o.vncPassword.length > 8) {
    // VncAuth only ever uses the first 8 characters; a longer one would silently mean something else.
    throw new LocalDesktopsError('The VNC password must be at most 8 characters (VncAuth ignores the rest).');
  }
  const vncDisplay = o.displayBase;
  const rdpDisplay = o.displayBase + 1;
  await requireFreePort(o.vncPort, 'the VNC desktop');
  await requireFreePort(o.spicePort, 'the SPICE desktop');
  await requireFreePort(o.rdpPort, 'the RDP desktop');
  requireFreeDisplay(vncDisplay);
  requireFreeDisplay(rdpDisplay);

  const dir = path.resolve(o.workDir);
  const logDir = path.join(dir, 'log');
  mkdirSync(logDir, { recursive: true });
  // Secrets go into files readable by root only, never onto command lines (`ps` shows those).
  const secret = (name: string, content: string | Buffer) => {
    const file = path.join(dir, name);
    writeFileSync(file, content, { mode: 0o600 });
    return file;
  };
  const pattern = secret('quad.png', quadPng(WIDTH, HEIGHT));
  const bootImage = secret('boot.img', quadBootSector());
  const group = new ProcessGroup(logDir);
  // ImageMagick's `display -window root` exits with 1 after painting the root window successfully;
  // a real failure also prints a message, so only a silent 1 counts as success.
  const paint = (display: number) => group.run('painting the pattern', programs.display, ['-window', 'root', pattern], { env: { DISPLAY: `:${display}` }, okCodes: [0, 1] });

  try {
    // VNC: Xvnc is the X server and the VNC server in one.
    const vncPasswordFile = secret('vncpasswd', await group.run('vncpasswd', programs.vncpasswd, ['-f'], { input: `${o.vncPassword}\n` }));
    const xvnc = group.start('xvnc', programs.xvnc, [
      `:${vncDisplay}`, '-geometry', `${WIDTH}x${HEIGHT}`, '-depth', '24', '-rfbport', String(o.vncPort), '-localhost', '-interface', HOST,
      '-SecurityTypes', 'VncAuth', '-PasswordFile', vncPasswordFile, '-nolisten', 'tcp', '-noreset', '-desktop', 'thinkiosk-vnc',
    ]);

    // SPICE: an idle guest (cli; hlt) so TCG costs next to no CPU once the picture is drawn.
    const spiceSecret = secret('spice-password', o.spicePassword);
    const qemu = group.start('qemu-spice', programs.qemu, [
      '-name', 'thinkiosk-spice', '-machine', 'pc,accel=tcg', '-m', '32', '-nodefaults', '-no-user-config', '-vga', 'qxl',
      '-drive', `file=${bootImage},format=raw,if=ide,snapshot=on`,
      '-object', `secret,id=spicepw,file=${spiceSecret}`,
      '-spice', `port=${o.spicePort},addr=${HOST},password-secret=spicepw`,
      '-display', 'none', '-monitor', 'none', '-serial', 'none', '-parallel', 'none',
    ]);

    // RDP: the shadow server shares an Xvfb; NLA checks the user against a winpr SAM file.
    const xvfb = group.start('xvfb', programs.xvfb, [`:${rdpDisplay}`, '-screen', '0', `${WIDTH}x${HEIGHT}x24`, '-nolisten', 'tcp', '-noreset']);
    const sam = secret('sam.txt', `${o.rdpUser}:::${ntHash(o.rdpPassword)}:::\n`);
    const home = path.join(dir, 'rdp-home'); // the shadow server keeps its generated TLS key under $HOME
    mkdirSync(home, { recursive: true });

    await group.waitForX(xvnc, vncDisplay);
    await paint(vncDisplay);
    await group.waitForX(xvfb, rdpDisplay);
    await paint(rdpDisplay);
    const shadow = group.start('freerdp-shadow', programs.shadow, [
      `/bind-address:${HOST}`, `/port:${o.rdpPort}`, '+auth', '/sec:nla', `/sam-file:${sam}`,
    ], { DISPLAY: `:${rdpDisplay}`, HOME: home });

    await group.waitForTcp(xvnc, o.vncPort);
    await group.waitForTcp(qemu, o.spicePort);
    await group.waitForTcp(shadow, o.rdpPort);
  } catch (error) {
    await group.stopAll();
    throw error;
  }

  return {
    vnc: { host: HOST, port: o.vncPort, password: o.vncPassword },
    spice: { host: HOST, port: o.spicePort, password: o.spicePassword },
    rdp: { host: HOST, port: o.rdpPort, username: o.rdpUser, password: o.rdpPassword },
    stop: () => group.stopAll(),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'work-dir': { type: 'string' }, 'vnc-port': { type: 'string' }, 'spice-port': { type: 'string' }, 'rdp-port': { type: 'string' },
      'display-base': { type: 'string' }, 'vnc-password': { type: 'string' }, 'spice-password': { type: 'string' },
      'rdp-user': { type: 'string' }, 'rdp-password': { type: 'string' },
    },
  });
  const missing = Object.keys(USAGE_DEFAULTS).filter((k) => values[k as keyof typeof values] === undefined);
  if (missing.length) {
    console.error(`local-desktops: missing ${missing.map((m) => `--${m}`).join(', ')}\nusage: node dist/scripts/local-desktops/start.js ${Object.entries(USAGE_DEFAULTS).map(([k, v]) => `--${k} ${v}`).join(' ')}`);
    process.exit(2);
  }
  const port = (name: 'vnc-port' | 'spice-port' | 'rdp-port' | 'display-base') => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 0 || n > 65535) { console.error(`local-desktops: --${name} must be a number`); process.exit(2); }
    return n;
  };
  let desktops: LocalDesktops;
  try {
    desktops = await startLocalDesktops({
      workDir: values['work-dir']!, vncPort: port('vnc-port'), spicePort: port('spice-port'), rdpPort: port('rdp-port'),
      displayBase: port('display-base'), vncPassword: values['vnc-password']!, spicePassword: values['spice-password']!,
      rdpUser: values['rdp-user']!, rdpPassword: values['rdp-password']!,
    });
  } catch (error) {
    console.error(`local-desktops: ${error instanceof LocalDesktopsError ? error.message : String(error)}`);
    process.exit(1);
  }
  const { vnc, spice, rdp } = desktops;
  console.log(JSON.stringify({ ready: true, vnc: { host: vnc.host, port: vnc.port }, spice: { host: spice.host, port: spice.port }, rdp: { host: rdp.host, port: rdp.port, username: rdp.username } }));
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void desktops.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

const USAGE_DEFAULTS = {
  'work-dir': 'DIR', 'vnc-port': '15901', 'spice-port': '15902', 'rdp-port': '13389', 'display-base': '41',
  'vnc-password': 'PW', 'spice-password': 'PW', 'rdp-user': 'USER', 'rdp-password': 'PW',
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
