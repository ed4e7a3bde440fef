/**
 * Just enough of the RFB (VNC) and SPICE wire protocols to prove a console URL really reaches the
 * guest: over the proxy's websocket (subprotocol `binary`), as noVNC and spice-html5 connect.
 * Used by the cloud tests (Nova's proxies) and the static-backend tests (the controller's relay).
 */
import { constants, createPublicKey, publicEncrypt } from 'node:crypto';
import { PNG } from 'pngjs';
import WebSocket from 'ws';
// VncAuth's answer: one definition, the controller's (its reachability probe logs in the same way).
import { vncAuthResponse } from '../../controller/desktops/static/desktop-probe.js';

export { vncAuthResponse };

export class ByteStream {
  private buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private closed: Error | null = null;

  constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => { this.buffer = Buffer.concat([this.buffer, data]); this.wake(); });
    ws.on('close', () => { this.closed = new Error('websocket closed'); this.wake(); });
    ws.on('error', (e) => { this.closed = e; this.wake(); });
  }
  private wake() { for (const w of this.waiters.splice(0)) w(); }
  async read(n: number, timeoutMs = 20_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffer.length < n) {
      if (this.closed) throw this.closed;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} bytes`);
      await new Promise<void>((resolve) => { this.waiters.push(resolve); setTimeout(resolve, 200); });
    }
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }
}

/**
 * Opens the websocket with its reader already listening: a server that speaks first (RFB sends its
 * version at once) may have its first message in the same packet as the handshake answer.
 */
export function open(url: string): Promise<{ ws: WebSocket; s: ByteStream }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['binary'], { origin: new URL(url.replace(/^ws/, 'http')).origin });
    const s = new ByteStream(ws);
    ws.once('open', () => resolve({ ws, s }));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`websocket refused: HTTP ${res.statusCode}`)));
  });
}

export interface VncScreen {
  version: string; width: number; height: number; name: string; litPixels: number;
  /** The full frame as PNG, for checkQuadPattern. */
  png: Buffer;
  /** The websocket subprotocol the server agreed to. */
  subprotocol: string;
}

/**
 * RFB 3.8 handshake, then one full frame: security "None" (Nova's proxy authenticates by token), or
 * VncAuth when a password is given (a VNC server's own password, e.g. TigerVNC's).
 */
export async function grabVncScreen(url: string, { password }: { password?: string } = {}): Promise<VncScreen> {
  const { ws, s } = await open(url);
  try {
    const version = (await s.read(12)).toString('latin1');
    ws.send(Buffer.from('RFB 003.008\n'));
    const types = [...await s.read((await s.read(1))[0]!)];
    if (password === undefined) {
      if (!types.includes(1)) throw new Error(`no "None" security type offered: ${types}`);
      ws.send(Buffer.from([1]));
    } else {
      if (!types.includes(2)) throw new Error(`no VncAuth security type offered: ${types}`);
      ws.send(Buffer.from([2]));
      ws.send(vncAuthResponse(password, await s.read(16)));
    }
    const result = (await s.read(4)).readUInt32BE(0);
    if (result !== 0) {
      const reason = await s.read((await s.read(4)).readUInt32BE(0)).then((b) => b.toString('utf8'), () => '');
      throw new Error(`security result ${result}${reason ? `: ${reason}` : ''}`);
    }
    ws.send(Buffer.from([1])); // ClientInit: shared
    const init = await s.read(24);
    const width = init.readUInt16BE(0);
    const height = init.readUInt16BE(2);
    const name = (await s.read(init.readUInt32BE(20))).toString('utf8');
    // SetPixelFormat 32bpp true colour, SetEncodings [Raw], then a full FramebufferUpdateRequest.
    const pf = Buffer.alloc(20); pf[0] = 0; pf[4] = 32; pf[5] = 24; pf[6] = 0; pf[7] = 1;
    pf.writeUInt16BE(255, 8); pf.writeUInt16BE(255, 10); pf.writeUInt16BE(255, 12); pf[14] = 16; pf[15] = 8; pf[16] = 0;
    ws.send(pf);
    const enc = Buffer.alloc(8); enc[0] = 2; enc.writeUInt16BE(1, 2); enc.writeInt32BE(0, 4);
    ws.send(enc);
    const req = Buffer.alloc(10); req[0] = 3; req.writeUInt16BE(width, 6); req.writeUInt16BE(height, 8);
    ws.send(req);
    let litPixels = 0;
    const frame = new PNG({ width, height });
    const type = (await s.read(1))[0];
    if (type !== 0) throw new Error(`unexpected RFB message ${type}`);
    const rects = (await s.read(3)).readUInt16BE(1);
    for (let i = 0; i < rects; i++) {
      const h = await s.read(12);
      const rw = h.readUInt16BE(4); const rh = h.readUInt16BE(6); const encoding = h.readInt32BE(8);
      if (encoding !== 0) throw new Error(`unexpected encoding ${encoding}`);
      const pixels = await s.read(rw * rh * 4);
      for (let p = 0; p < pixels.length; p += 4) if (pixels[p]! | pixels[p + 1]! | pixels[p + 2]!) litPixels++;
      // Little-endian 32 bpp with red at bit 16: bytes are blue, green, red, padding.
      const [rx, ry] = [h.readUInt16BE(0), h.readUInt16BE(2)];
      for (let y = 0; y < rh; y++) {
        for (let x = 0; x < rw; x++) {
          const from = (y * rw + x) * 4;
          const to = ((ry + y) * width + rx + x) * 4;
          if (to + 3 >= frame.data.length) continue;
          frame.data[to] = pixels[from + 2]!; frame.data[to + 1] = pixels[from + 1]!; frame.data[to + 2] = pixels[from]!; frame.data[to + 3] = 255;
        }
      }
    }
    return { version: version.trim(), width, height, name, litPixels, png: PNG.sync.write(frame), subprotocol: ws.protocol };
  } finally {
    ws.close();
  }
}

/**
 * SPICE link handshake for the main channel: the server must answer "REDQ" with error 0. With a
 * password, also the ticket step: the password RSA-OAEP-encrypted under the key from the reply,
 * answered by the link result (0 = accepted, 7 = permission denied).
 */
export async function spiceLink(url: string, { password }: { password?: string } = {}): Promise<{ major: number; error: number; authResult?: number }> {
  const { ws, s } = await open(url);
  try {
    const mess = Buffer.alloc(18); // connection_id 0, channel_type 1 (main), channel_id 0, no caps
    mess[4] = 1; mess.writeUInt32LE(18, 14);
    const header = Buffer.alloc(16);
    header.write('REDQ', 0, 'latin1'); header.writeUInt32LE(2, 4); header.writeUInt32LE(2, 8); header.writeUInt32LE(mess.length, 12);
    ws.send(Buffer.concat([header, mess]));
    const reply = await s.read(16);
    if (reply.toString('latin1', 0, 4) !== 'REDQ') throw new Error('not a SPICE server');
    const body = await s.read(reply.readUInt32LE(12));
    const answer = { major: reply.readUInt32LE(4), error: body.readUInt32LE(0) };
    if (password === undefined || answer.error !== 0) return answer;
    const publicKey = body.subarray(4, 4 + 162); // SPICE_TICKET_PUBKEY_BYTES, DER SubjectPublicKeyInfo
    const key = createPublicKey({ key: publicKey, format: 'der', type: 'spki' });
    const ticket = publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(`${password}\0`, 'utf8'));
    ws.send(ticket);
    return { ...answer, authResult: (await s.read(4)).readUInt32LE(0) };
  } finally {
    ws.close();
  }
}
