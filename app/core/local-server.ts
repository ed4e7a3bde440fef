/**
 * The kiosk's own web server on 127.0.0.1: it serves the page (and the noVNC / spice-html5 modules
 * it imports) with a strict CSP, relays in-app consoles, and — for the browser shell only — carries
 * the page's calls (`POST /rpc/<method>`) and pushed events (`GET /events`, server-sent events).
 * The browser shell's calls need the key of the current Chromium launch (app/core/launch-keys.ts:
 * the page trades a one-time token for it at `POST /bootstrap`), and a Host header naming this
 * server: another local program, or a web page using DNS rebinding, gets nothing.
 *
 * Any local program can send this server anything, so nothing it receives may end the kiosk:
 * every request, body, header and upgrade is answered or dropped inside a handler, half-sent
 * requests time out, and a failure is logged and answered with a status, never thrown.
 */
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { extname, join, normalize, sep } from 'node:path';
import type { KioskConsoleRelay } from './kiosk-console-relay.js';
import type { KioskBackend } from './kiosk-api.js';
import type { LaunchKeys } from './launch-keys.js';

export interface StaticRoot { prefix: string; directory: string }

export interface LocalServerOptions {
  backend: KioskBackend;
  relay: KioskConsoleRelay;
  /** URL prefix → directory, first match wins; `/` must map to the page's directory. */
  roots: StaticRoot[];
  /** Present for the browser shell; absent under Electron (calls go over IPC, and /rpc, /events and /bootstrap answer 403). */
  launchKeys?: LaunchKeys;
  /** Already listening (listenLocal): the browser shell's Chromium may be waiting on it. Otherwise `port` (0: any). */
  listening?: LocalListener;
  port?: number;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface LocalServer { url: string; origin: string; port: number; close(): Promise<void> }

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2', '.map': 'application/json',
};
const MAX_RPC_BYTES = 128 * 1024;
/** A request's head must arrive within this, its body within REQUEST_MS (a half-sent request holds nothing for long). */
const HEADERS_MS = 10_000;
const REQUEST_MS = 30_000;

export function contentSecurityPolicy(origin: string): string {
  const ws = origin.replace(/^http/, 'ws');
  return [
    "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:", "font-src 'self'",
    `connect-src 'self' ${ws}`, "media-src 'self' blob:", "worker-src 'self' blob:", "base-uri 'none'", "form-action 'none'",
    "frame-ancestors 'none'", "object-src 'none'",
  ].join('; ');
}

/**
 * The local server's socket, listening before the kiosk's service exists. The browser shell starts
 * Chromium on the page's address at once, and Chromium's first requests wait here (held, not
 * refused) until startLocalServer serves them: Chromium's start and the loading of the kiosk's own
 * modules then run side by side, where one after the other they were most of a boot under
 * emulation (about 18 s of modules, then about 20 s of Chromium, on the arm64 image in QEMU).
 */
export interface LocalListener {
  server: http.Server;
  port: number;
  origin: string;
  /** The page's address (no secret in it). */
  url: string;
  /** From now on requests and upgrades go to these; the held requests first. */
  serve(onRequest: http.RequestListener, onUpgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void): void;
}

export async function listenLocal(port = 0): Promise<LocalListener> {
  const server = http.createServer({ headersTimeout: HEADERS_MS, requestTimeout: REQUEST_MS, connectionsCheckingInterval: 1000, keepAliveTimeout: 5000 });
  server.maxHeadersCount = 100;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  // After listening, errors (accept failing for want of file descriptors...) must not end the
  // kiosk; startLocalServer logs them.
  server.on('error', () => undefined);
  const held: [http.IncomingMessage, http.ServerResponse][] = [];
  let onRequest: http.RequestListener | null = null;
  let onUpgrade: ((req: http.IncomingMessage, socket: Duplex, head: Buffer) => void) | null = null;
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (onRequest) onRequest(req, res);
    else held.push([req, res]);
  });
  // Nothing upgrades before the page is served (its consoles come after a login).
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (onUpgrade) onUpgrade(req, socket, head);
    else socket.destroy();
  });
  const bound = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${bound}`;
  return {
    server, port: bound, origin, url: `${origin}/`,
    serve(request, upgrade) {
      onRequest = request;
      onUpgrade = upgrade;
      for (const [req, res] of held.splice(0)) if (!res.destroyed) request(req, res);
    },
  };
}

export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const listening = options.listening ?? (await listenLocal(options.port ?? 0));
  const { server, port, origin } = listening;
  server.on('error', (error) => options.log('warn', `local server: ${error.message}`));
  const csp = contentSecurityPolicy(origin);
  const eventStreams = new Set<http.ServerResponse>();
  const keys = options.launchKeys;

  const hostIsUs = (req: http.IncomingMessage): boolean => req.headers.host === `127.0.0.1:${port}`;
  const header = (req: http.IncomingMessage, name: string): string | undefined => {
    const value = req.headers[name];
    return typeof value === 'string' ? value : undefined;
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    if (!hostIsUs(req)) return send(res, 421, 'text/plain', 'wrong host');
    const url = parseTarget(req.url, origin);
    if (!url) return send(res, 400, 'text/plain', 'bad request target');

    if (url.pathname === '/bootstrap') {
      // The page's one-time token for this launch's key (see launch-keys.ts); a custom header, so
      // no cross-site form or simple fetch can send it.
      const token = header(req, 'x-thinkiosk-bootstrap');
      const key = req.method === 'POST' && keys && token ? keys.exchange(token) : null;
      if (!key) return send(res, 403, 'text/plain', 'forbidden');
      req.resume();
      return send(res, 200, 'application/json', JSON.stringify({ key }));
    }
    if (url.pathname.startsWith('/rpc/')) {
      // Only the browser shell carries calls over HTTP, and only with its key (a custom header, so
      // a cross-site form or fetch cannot send it without a CORS preflight we never grant).
      if (req.method !== 'POST' || !keys?.accepts(header(req, 'x-thinkiosk-key'))) return send(res, 403, 'text/plain', 'forbidden');
      // Method names are plain words: taken as they are (undecoded), anything else is an unknown method.
      const method = url.pathname.slice('/rpc/'.length);
      readJson(req).then(
        async (body) => {
          if (!body.ok) {
            if (body.status === 413) {
              res.setHeader('Connection', 'close');
              res.once('finish', () => req.destroy());
            }
            return send(res, body.status, 'text/plain', body.message);
          }
          const result = await options.backend.call(method, body.value).catch((error: unknown) => {
            options.log('error', `local server: ${method} threw: ${error instanceof Error ? error.message : String(error)}`);
            return { ok: false, error: { kind: 'internal', message: 'Something went wrong in the kiosk. Try again; if it keeps happening, tell your administrator.' } };
          });
          send(res, 200, 'application/json', JSON.stringify(result));
        },
      ).catch((error: unknown) => fail(res, error));
      return;
    }
    if (url.pathname === '/events') {
      if (req.method !== 'GET' || !keys?.accepts(url.searchParams.get('key') ?? undefined)) return send(res, 403, 'text/plain', 'forbidden');
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
      res.write(': connected\n\n');
      eventStreams.add(res);
      const unsubscribe = options.backend.subscribe((event) => res.write(`data: ${JSON.stringify(event)}\n\n`));
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      req.on('close', () => {
        clearInterval(keepAlive);
        unsubscribe();
        eventStreams.delete(res);
      });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'text/plain', 'method not allowed');
    }
    const file = resolveStatic(options.roots, url.pathname === '/' ? '/index.html' : url.pathname);
    if (!file) return send(res, 404, 'text/plain', 'not found');
    const type = TYPES[extname(file.path)] ?? 'application/octet-stream';
    const headers: Record<string, string | number> = { 'Content-Type': type, 'Content-Length': file.size };
    if (type.startsWith('text/html')) headers['Content-Security-Policy'] = csp;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file.path).on('error', () => res.destroy()).pipe(res);
  };

  const fail = (res: http.ServerResponse, error: unknown): void => {
    options.log('error', `local server: ${error instanceof Error ? error.message : String(error)}`);
    if (!res.headersSent) send(res, 500, 'text/plain', 'internal error');
    else res.destroy();
  };

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    // A request or response stream that errors (the peer resets it) must not become an uncaught error.
    req.on('error', () => res.destroy());
    res.on('error', () => undefined);
    try {
      handle(req, res);
    } catch (error) {
      fail(res, error);
    }
  };

  // What Node's parser refuses (bad request lines, oversized or malformed headers, unknown methods).
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (socket.writable && error.code !== 'ECONNRESET') {
      const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    } else {
      socket.destroy();
    }
  });

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    try {
      if (!hostIsUs(req) || !options.relay.handleUpgrade(req, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
    } catch (error) {
      options.log('warn', `local server: upgrade refused: ${error instanceof Error ? error.message : String(error)}`);
      socket.destroy();
    }
  };
  listening.serve(onRequest, onUpgrade);

  return {
    url: `${origin}/`,
    origin,
    port,
    close: async () => {
      for (const stream of eventStreams) stream.end();
      options.relay.closeAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The request's target as a URL on our origin; null for what no URL parser makes sense of. */
function parseTarget(target: string | undefined, origin: string): URL | null {
  try {
    return new URL(target ?? '/', origin);
  } catch {
    return null;
  }
}

/** Maps a URL path into one of the roots, refusing anything that climbs out of it. */
function resolveStatic(roots: StaticRoot[], pathname: string): { path: string; size: number } | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  for (const root of roots) {
    if (!decoded.startsWith(root.prefix)) continue;
    const directory = normalize(root.directory).replace(/\/+$/, '');
    const candidate = normalize(join(directory, decoded.slice(root.prefix.length)));
    if (!candidate.startsWith(directory + sep)) return null;
    try {
      const stat = statSync(candidate);
      if (stat.isFile()) return { path: candidate, size: stat.size };
    } catch {
      // Not there (or not readable): the next root may have it.
    }
  }
  return null;
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

type Body = { ok: true; value: unknown } | { ok: false; status: number; message: string };

/** The request's JSON body: a 413 past MAX_RPC_BYTES, a 400 when it is not JSON, never a throw. */
function readJson(req: http.IncomingMessage): Promise<Body> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (body: Body): void => {
      if (done) return;
      done = true;
      resolve(body);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > MAX_RPC_BYTES) {
        finish({ ok: false, status: 413, message: 'request too large' });
        req.pause(); // read no more of it; the answer closes the connection
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      if (!size) return finish({ ok: true, value: {} });
      try {
        finish({ ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
      } catch {
        finish({ ok: false, status: 400, message: 'the request is not JSON' });
      }
    });
    req.on('error', () => finish({ ok: false, status: 400, message: 'the request broke off' }));
    req.on('close', () => finish({ ok: false, status: 400, message: 'the request broke off' }));
  });
}
