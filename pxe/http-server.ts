/**
 * The boot server's HTTP server: kernels, initramfs images and read-only root file systems for
 * netbooting clients, plus their presets. Read-only, files only (no listings), GET and HEAD.
 *
 * Why Node and not dnsmasq + a separate httpd: Node is on every thinkiosk image already (the kiosk
 * runs on it), so serving needs no extra package; and the boot server sees each request, which is
 * how its status can say which client fetched what and when, and how a test can wait for it.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, sep } from 'node:path';

export interface HttpMount {
  /** URL path prefix, starting and ending with "/". */
  prefix: string;
  dir: string;
}

export interface HttpRequestRecord {
  at: string;
  client: string;
  method: string;
  path: string;
  status: number;
  bytes: number;
  milliseconds: number;
}

const TYPES: Record<string, string> = { '.conf': 'text/plain; charset=utf-8', '.ipxe': 'text/plain; charset=utf-8', '.json': 'application/json', '.txt': 'text/plain; charset=utf-8' };

/** The file a URL path names under the mounts, or null: no "..", no hidden names, no escaping the mount. */
export function resolveRequestPath(mounts: readonly HttpMount[], urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath.split('?')[0]!);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/');
  if (segments.some((segment) => segment === '..' || segment.startsWith('.'))) return null;
  const mount = [...mounts].sort((a, b) => b.prefix.length - a.prefix.length).find((m) => decoded.startsWith(m.prefix));
  if (!mount) return null;
  const relative = decoded.slice(mount.prefix.length);
  if (!relative) return null;
  const file = normalize(join(mount.dir, relative));
  return file.startsWith(normalize(mount.dir) + sep) ? file : null;
}

export class BootHttpServer {
  private readonly server: Server;

  constructor(private readonly mounts: readonly HttpMount[], private readonly onRequest: (record: HttpRequestRecord) => void = () => {}) {
    this.server = createServer((request, response) => this.handle(request, response));
    // Slow clients (TCG emulation, old PCs) may take minutes for a root file system: no socket timeout.
    this.server.requestTimeout = 0;
    this.server.timeout = 0;
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const failed = (error: NodeJS.ErrnoException): void => {
        const why = error.code === 'EADDRINUSE' ? `port ${port} on ${host} is already in use (another boot server?)`
          : error.code === 'EADDRNOTAVAIL' ? `${host} is not an address of this box` : error.message;
        reject(new Error(`the boot server's HTTP server cannot listen: ${why}`));
      };
      this.server.once('error', failed);
      this.server.listen(port, host, () => {
        this.server.off('error', failed);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const started = Date.now();
    const client = request.socket.remoteAddress ?? '?';
    const urlPath = request.url ?? '/';
    let bytes = 0;
    const done = (status: number): void => this.onRequest({
      at: new Date(started).toISOString(), client, method: request.method ?? '?',
      path: urlPath, status, bytes, milliseconds: Date.now() - started,
    });
    const answer = (status: number, text: string, extra: Record<string, string> = {}): void => {
      response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...extra });
      response.end(request.method === 'HEAD' ? undefined : text);
      done(status);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return answer(405, 'only GET and HEAD\n', { Allow: 'GET, HEAD' });
    const file = resolveRequestPath(this.mounts, urlPath);
    let size: number;
    try {
      if (!file) throw new Error('outside');
      const stat = statSync(file);
      if (!stat.isFile()) throw new Error('not a file');
      size = stat.size;
    } catch {
      return answer(404, `not found: ${urlPath}\n`);
    }
    const type = TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream';
    response.writeHead(200, { 'Content-Type': type, 'Content-Length': size, 'Cache-Control': 'no-store' });
    if (request.method === 'HEAD') {
      response.end();
      return done(200);
    }
    const stream = createReadStream(file, { highWaterMark: 1 << 20 });
    stream.on('data', (chunk) => (bytes += chunk.length));
    stream.on('error', () => response.destroy());
    // 499 (nginx's "client closed request"): the client went away before the whole file was
    // handed to the network. (A client may close right after the last byte, before end().)
    response.on('close', () => done(bytes === size ? 200 : 499));
    stream.pipe(response);
  }
}
