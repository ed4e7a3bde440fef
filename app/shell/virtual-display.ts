/**
 * The virtual X display the browser shell makes on a machine without a screen (a server running
 * the demo, a test): Xvfb, and x11vnc so a person can look at it and use it. It becomes the kiosk
 * process's own display (DISPLAY, XAUTHORITY) before anything else starts, so Chromium and the
 * native viewers the kiosk starts (xfreerdp, remote-viewer) open their windows on the same screen.
 *
 * Only the kiosk's user gets in: the X server takes connections with a cookie from a private file
 * (no `xhost` open door for other local users to read the screen or type into it), and x11vnc asks
 * for a password given to it in a file (x11vnc deletes it after reading), never on a command line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface VirtualDisplayOptions {
  /** e.g. ":60" */
  display: string;
  width: number;
  height: number;
  /** x11vnc's port on 127.0.0.1, or null for none (also when x11vnc is not installed). */
  vncPort: number | null;
  waitMs?: number;
}

export interface VirtualDisplay {
  display: string;
  /** The cookie file every X client of this display needs (XAUTHORITY). */
  xauthority: string;
  vnc: { port: number; password: string } | null;
  stop(): Promise<void>;
}

export class VirtualDisplayError extends Error {}

/** ":60" → 60; null for anything that is not a local display number. */
export function displayNumber(display: string): number | null {
  const match = /^:(\d{1,4})$/.exec(display);
  return match ? Number(match[1]) : null;
}

export async function startVirtualDisplay(options: VirtualDisplayOptions): Promise<VirtualDisplay> {
  const number = displayNumber(options.display);
  if (number === null) throw new VirtualDisplayError(`"${options.display}" is not an X display; use the form :60.`);
  if (existsSync(`/tmp/.X${number}-lock`) || existsSync(`/tmp/.X11-unix/X${number}`)) {
    throw new VirtualDisplayError(`X display ${options.display} is already in use; choose another with --virtual-display.`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'thinkiosk-display-'));
  const xauthority = join(dir, 'Xauthority');
  writeFileSync(xauthority, xauthorityEntry(number, randomBytes(16)), { mode: 0o600 });
  const children: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(children.reverse().map((child) => stopChild(child)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (!onPath('Xvfb')) throw new VirtualDisplayError('Xvfb is missing (apt-get install xvfb): there is no screen for the kiosk here.');
    const xvfb = spawn('Xvfb', [options.display, '-screen', '0', `${options.width}x${options.height}x24`, '-nolisten', 'tcp', '-auth', xauthority], { stdio: ['ignore', 'ignore', 'pipe'] });
    xvfb.on('error', () => undefined); // seen as its exit in waitForX
    children.push(xvfb);
    await waitForX(xvfb, number, options.waitMs ?? 15_000);
    let vnc: VirtualDisplay['vnc'] = null;
    if (options.vncPort !== null && onPath('x11vnc')) {
      // VncAuth uses at most 8 characters; hex, so nothing in it looks like an option or needs quoting.
      const password = randomBytes(4).toString('hex');
      const passwordFile = join(dir, 'vnc-password');
      writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
      const x11vnc = spawn('x11vnc', ['-display', options.display, '-auth', xauthority, '-rfbport', String(options.vncPort), '-localhost', '-forever', '-shared', '-quiet', '-passwdfile', `rm:${passwordFile}`], { stdio: 'ignore' });
      x11vnc.on('error', () => undefined);
      children.push(x11vnc);
      vnc = { port: options.vncPort, password };
    }
    return { display: options.display, xauthority, vnc, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * One Xauthority entry (the format xauth writes): family, address, display number, the
 * MIT-MAGIC-COOKIE-1 name and the cookie, each 16-bit length-prefixed. FamilyWild matches any host
 * name, so clients find it whatever the machine is called.
 */
export function xauthorityEntry(display: number, cookie: Buffer): Buffer {
  const field = (data: Buffer): Buffer => {
    const length = Buffer.alloc(2);
    length.writeUInt16BE(data.length);
    return Buffer.concat([length, data]);
  };
  const family = Buffer.alloc(2);
  family.writeUInt16BE(0xffff);
  return Buffer.concat([family, field(Buffer.alloc(0)), field(Buffer.from(String(display))), field(Buffer.from('MIT-MAGIC-COOKIE-1')), field(cookie)]);
}

async function waitForX(xvfb: ChildProcess, number: number, waitMs: number): Promise<void> {
  let said = '';
  xvfb.stderr?.on('data', (chunk: Buffer) => (said = (said + chunk.toString()).slice(-2000)));
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if (xvfb.exitCode !== null || xvfb.signalCode !== null) throw new VirtualDisplayError(`Xvfb ended at once: ${said.trim().split('\n').slice(-3).join(' ')}`);
    if (existsSync(`/tmp/.X11-unix/X${number}`)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new VirtualDisplayError(`Xvfb did not open display :${number} within ${waitMs / 1000} s`);
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '/usr/bin:/bin').split(':').some((dir) => dir && existsSync(join(dir, command)));
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
