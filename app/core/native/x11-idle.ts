/**
 * How long the person at the kiosk has not touched keyboard or mouse, as the X server of the native
 * viewers counts it: the SYNC extension's IDLETIME system counter (milliseconds since the last input
 * the server processed; the same clock as MIT-SCREEN-SAVER's `ms_since_user_input`, which `xprintidle`
 * prints). Idle logout needs it while xfreerdp or remote-viewer has the screen: their input never
 * reaches the kiosk's page. A few dozen lines of the X11 wire protocol instead of a native module
 * or another package on the image: connect to the display's socket, look the extension up, find
 * the counter, read it, hang up.
 *
 * Why SYNC and not MIT-SCREEN-SAVER: Xwayland, the viewers' X server under the image's cage, has no
 * MIT-SCREEN-SAVER extension (Debian trixie's Xwayland 24.1; the image test asks it). Every X server
 * has SYNC with IDLETIME (Xorg, Xvfb, Xwayland), so there is one way to ask, tested where it runs.
 * Xwayland's counter is reset by input Xwayland delivers to its X clients (the viewers); Xvfb and
 * Xorg count input from every device, including XTEST (xdotool). Only local displays (`:N`,
 * `unix:N`) are supported: the kiosk's always are.
 */
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';

export class XIdleError extends Error {}

/** Milliseconds since the last user input on `display` (e.g. ":0"). Throws XIdleError when it cannot tell. */
export async function inputIdleMs(display: string | undefined, env: NodeJS.ProcessEnv = process.env, timeoutMs = 3000): Promise<number> {
  const number = localDisplayNumber(display);
  const cookie = await findCookie(number, env);
  const socket = net.connect({ path: `/tmp/.X11-unix/X${number}` });
  try {
    return await withTimeout(query(socket, cookie), timeoutMs, `display ${display} did not answer within ${timeoutMs} ms`);
  } finally {
    socket.destroy();
  }
}

/** ":0", ":0.0", "unix:0" → 0; anything else (no display, a TCP display) is refused. */
export function localDisplayNumber(display: string | undefined): number {
  const match = /^(?:unix)?:(\d+)(?:\.\d+)?$/.exec(display ?? '');
  if (!match) throw new XIdleError(display ? `display "${display}" is not a local X display` : 'no X display (DISPLAY is not set)');
  return Number(match[1]);
}

interface Cookie { name: Buffer; data: Buffer }

/**
 * The MIT-MAGIC-COOKIE-1 for a local display from the Xauthority file, or null when there is none
 * (Xvfb and Xwayland started without -auth accept local clients without one).
 */
export async function findCookie(display: number, env: NodeJS.ProcessEnv): Promise<Cookie | null> {
  const file = env.XAUTHORITY || join(env.HOME || homedir(), '.Xauthority');
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    return null;
  }
  const host = hostname();
  for (const entry of parseXauthority(bytes)) {
    const localHost = entry.family === FAMILY_LOCAL && entry.address.toString('latin1') === host;
    const forDisplay = entry.number === '' || entry.number === String(display);
    if ((localHost || entry.family === FAMILY_WILD) && forDisplay && entry.name.toString('latin1') === 'MIT-MAGIC-COOKIE-1') {
      return { name: entry.name, data: entry.data };
    }
  }
  return null;
}

const FAMILY_LOCAL = 256;
const FAMILY_WILD = 65535;

/** The Xauthority file: records of (family u16, address, number, name, data), each a u16-length-prefixed string, big-endian. */
export function parseXauthority(bytes: Buffer): { family: number; address: Buffer; number: string; name: Buffer; data: Buffer }[] {
  const entries = [];
  let at = 0;
  const field = (): Buffer => {
    if (at + 2 > bytes.length) throw new RangeError('truncated');
    const length = bytes.readUInt16BE(at);
    at += 2;
    if (at + length > bytes.length) throw new RangeError('truncated');
    const value = bytes.subarray(at, at + length);
    at += length;
    return value;
  };
  try {
    while (at < bytes.length) {
      if (at + 2 > bytes.length) break;
      const family = bytes.readUInt16BE(at);
      at += 2;
      const address = field();
      const number = field().toString('latin1');
      const name = field();
      const data = field();
      entries.push({ family, address, number, name, data });
    }
  } catch {
    // A damaged tail: the complete records before it still count.
  }
  return entries;
}

const pad4 = (n: number): number => (4 - (n % 4)) % 4;
const EXTENSION = 'SYNC';
const COUNTER = 'IDLETIME';
const X_QUERY_EXTENSION = 98;
// SYNC's minor opcodes (the X Synchronization Extension Protocol, version 3.1).
const SYNC_INITIALIZE = 0;
const SYNC_LIST_SYSTEM_COUNTERS = 1;
const SYNC_QUERY_COUNTER = 5;

/** Speaks just enough X11 on `socket`: setup, QueryExtension, then SYNC's Initialize, ListSystemCounters, QueryCounter. */
async function query(socket: net.Socket, cookie: Cookie | null): Promise<number> {
  const reader = new Reader(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', (error) => reject(new XIdleError(`cannot connect to the X server: ${error.message}`)));
  });

  const authName = cookie?.name ?? Buffer.alloc(0);
  const authData = cookie?.data ?? Buffer.alloc(0);
  const setup = Buffer.alloc(12 + authName.length + pad4(authName.length) + authData.length + pad4(authData.length));
  setup.write('l', 0, 'latin1'); // little-endian from here on
  setup.writeUInt16LE(11, 2);
  setup.writeUInt16LE(0, 4);
  setup.writeUInt16LE(authName.length, 6);
  setup.writeUInt16LE(authData.length, 8);
  authName.copy(setup, 12);
  authData.copy(setup, 12 + authName.length + pad4(authName.length));
  socket.write(setup);

  const head = await reader.take(8);
  const extra = await reader.take(head.readUInt16LE(6) * 4);
  if (head[0] !== 1) {
    const reason = head[0] === 0 ? extra.subarray(0, head[1]).toString('latin1').trim() : 'the server asks for more authentication';
    throw new XIdleError(`the X server refused the connection: ${reason || 'no reason given'}`);
  }

  const name = Buffer.from(EXTENSION, 'latin1');
  const queryExtension = Buffer.alloc(8 + name.length + pad4(name.length));
  queryExtension[0] = X_QUERY_EXTENSION;
  queryExtension.writeUInt16LE(queryExtension.length / 4, 2);
  queryExtension.writeUInt16LE(name.length, 4);
  name.copy(queryExtension, 8);
  socket.write(queryExtension);
  const extension = await reader.reply();
  if (!extension[8]) throw new XIdleError(`the X server has no ${EXTENSION} extension`);
  const opcode = extension[9]!;

  // A client must initialize SYNC before its other requests.
  const initialize = Buffer.alloc(8);
  initialize[0] = opcode;
  initialize[1] = SYNC_INITIALIZE;
  initialize.writeUInt16LE(2, 2);
  initialize[4] = 3; // the protocol version this client speaks: 3.1
  initialize[5] = 1;
  socket.write(initialize);
  await reader.reply();

  const list = Buffer.alloc(4);
  list[0] = opcode;
  list[1] = SYNC_LIST_SYSTEM_COUNTERS;
  list.writeUInt16LE(1, 2);
  socket.write(list);
  const counter = findSystemCounter(await reader.reply(), COUNTER);
  if (counter === null) throw new XIdleError(`the X server's ${EXTENSION} extension has no ${COUNTER} counter`);

  const queryCounter = Buffer.alloc(8);
  queryCounter[0] = opcode;
  queryCounter[1] = SYNC_QUERY_COUNTER;
  queryCounter.writeUInt16LE(2, 2);
  queryCounter.writeUInt32LE(counter, 4);
  socket.write(queryCounter);
  const value = await reader.reply();
  // An INT64 as (hi INT32, lo CARD32); idle milliseconds fit a double for 285,000 years.
  return value.readInt32LE(8) * 2 ** 32 + value.readUInt32LE(12);
}

/**
 * The id of the system counter called `name` in a ListSystemCounters reply: after the 32-byte
 * header, each counter is (id CARD32, resolution INT64, name length CARD16, name), padded to 4 bytes.
 */
export function findSystemCounter(reply: Buffer, name: string): number | null {
  const count = reply.readUInt32LE(8);
  let at = 32;
  for (let i = 0; i < count && at + 14 <= reply.length; i++) {
    const id = reply.readUInt32LE(at);
    const length = reply.readUInt16LE(at + 12);
    if (reply.toString('latin1', at + 14, at + 14 + length) === name) return id;
    at += 14 + length + pad4(14 + length);
  }
  return null;
}

/** Reads exact byte counts from a socket; replies are 32 bytes plus their announced length. */
class Reader {
  private buffered = Buffer.alloc(0);
  private waiting: (() => void) | null = null;
  private failure: Error | null = null;

  constructor(socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.waiting?.();
    });
    const fail = (error: Error): void => {
      this.failure ??= error;
      this.waiting?.();
    };
    socket.on('error', (error) => fail(new XIdleError(`X connection failed: ${error.message}`)));
    socket.on('close', () => fail(new XIdleError('the X server closed the connection')));
  }

  async take(count: number): Promise<Buffer> {
    while (this.buffered.length < count) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
      this.waiting = null;
    }
    const value = this.buffered.subarray(0, count);
    this.buffered = this.buffered.subarray(count);
    return value;
  }

  async reply(): Promise<Buffer> {
    const head = await this.take(32);
    if (head[0] === 0) throw new XIdleError(`the X server answered with error ${head[1]}`);
    if (head[0] !== 1) return this.reply(); // an event: not what was asked for, skip it
    const more = head.readUInt32LE(4) * 4;
    return more ? Buffer.concat([head, await this.take(more)]) : head;
  }
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new XIdleError(message)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
