/**
 * Just enough of the RFB (VNC) and SPICE wire protocols to prove a console URL really reaches the
 * guest: over the proxy's websocket (subprotocol `binary`), as noVNC and spice-html5 connect.
 */
import WebSocket from 'ws';

class ByteStream {
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

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['binary'], { origin: new URL(url.replace(/^ws/, 'http')).origin });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`websocket refused: HTTP ${res.statusCode}`)));
  });
}

export interface VncScreen { version: string; width: number; height: number; name: string; litPixels: number }

/** RFB 3.8 handshake with security "None" (Nova's proxy authenticates by token), then one full frame. */
export async function grabVncScreen(url: string): Promise<VncScreen> {
  const ws = await open(url);
  const s = new ByteStream(ws);
  try {
    const version = (await s.read(12)).toString('latin1');
    ws.send(Buffer.from('RFB 003.008\n'));
    const types = [...await s.read((await s.read(1))[0]!)];
    if (!types.includes(1)) throw new Error(`no "None" security type offered: ${types}`);
    ws.send(Buffer.from([1]));
    const result = (await s.read(4)).readUInt32BE(0);
    if (result !== 0) throw new Error(`security result ${result}`);
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
    const type = (await s.read(1))[0];
    if (type !== 0) throw new Error(`unexpected RFB message ${type}`);
    const rects = (await s.read(3)).readUInt16BE(1);
    for (let i = 0; i < rects; i++) {
      const h = await s.read(12);
      const rw = h.readUInt16BE(4); const rh = h.readUInt16BE(6); const encoding = h.readInt32BE(8);
      if (encoding !== 0) throw new Error(`unexpected encoding ${encoding}`);
      const pixels = await s.read(rw * rh * 4);
      for (let p = 0; p < pixels.length; p += 4) if (pixels[p]! | pixels[p + 1]! | pixels[p + 2]!) litPixels++;
    }
    return { version: version.trim(), width, height, name, litPixels };
  } finally {
    ws.close();
  }
}

/** SPICE link handshake for the main channel: the server must answer "REDQ" with error 0. */
export async function spiceLink(url: string): Promise<{ major: number; error: number }> {
  const ws = await open(url);
  const s = new ByteStream(ws);
  try {
    const mess = Buffer.alloc(18); // connection_id 0, channel_type 1 (main), channel_id 0, no caps
    mess[4] = 1; mess.writeUInt32LE(18, 14);
    const header = Buffer.alloc(16);
    header.write('REDQ', 0, 'latin1'); header.writeUInt32LE(2, 4); header.writeUInt32LE(2, 8); header.writeUInt32LE(mess.length, 12);
    ws.send(Buffer.concat([header, mess]));
    const reply = await s.read(16);
    if (reply.toString('latin1', 0, 4) !== 'REDQ') throw new Error('not a SPICE server');
    const body = await s.read(reply.readUInt32LE(12));
    return { major: reply.readUInt32LE(4), error: body.readUInt32LE(0) };
  } finally {
    ws.close();
  }
}
