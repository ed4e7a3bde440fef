/**
 * The kiosk's own web server on 127.0.0.1: it serves the page (and the noVNC / spice-html5 modules
 * it imports) with a strict CSP, relays in-app consoles, and — for the browser shell only — carries
 * the page's calls (`POST /rpc/<method>`) and pushed events (`GET /events`, server-sent events).
 * The browser shell's calls need the launch key, which only the Chromium it started knows, and a
 * Host header naming this server: another local program, or a web page using DNS rebinding, gets
 * nothing.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import type { ConsoleRelay } from './console-relay.js';
import type { KioskBackend } from './kiosk-api.js';

export interface StaticRoot { prefix: string; directory: string }

export interface LocalServerOptions {
  backend: KioskBackend;
  relay: ConsoleRelay;
  /** URL prefix → directory, first match wins; `/` must map to the page's directory. */
  roots: StaticRoot[];
  /** Present for the browser shell; absent under Electron (calls go over IPC). */
  launchKey?: string;
  port?: number;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface LocalServer { url: string; origin: string; port: number; close(): Promise<void> }

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2', '.map': 'application/json',
};
const MAX_RPC_BYTES = 128 * 1024;

export function contentSecurityPolicy(origin: string): string {
  const ws = origin.replace(/^http/, 'ws');
  return [
    "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:", "font-src 'self'",
    `connect-src 'self' ${ws}`, "media-src 'self' blob:", "worker-src 'self' blob:", "base-uri 'none'", "form-action 'none'",
    "frame-ancestors 'none'", "object-src 'none'",
  ].join('; ');
}

export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  const csp = contentSecurityPolicy(origin);
  const eventStreams = new Set<http.ServerResponse>();

  const hostIsUs = (req: http.IncomingMessage): boolean => req.headers.host === `127.0.0.1:${port}`;
  const keyMatches = (given: string | undefined): boolean => {
    if (!options.launchKey || !given) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(options.launchKey);
    return a.length === b.length && timingSafeEqual(a, b);
  };

  server.on('request', (req, res) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    if (!hostIsUs(req)) return send(res, 421, 'text/plain', 'wrong host');
    const url = new URL(req.url ?? '/', origin);

    if (url.pathname.startsWith('/rpc/')) {
      // Only the browser shell carries calls over HTTP, and only with its key (a custom header, so
      // a cross-site form or fetch cannot send it without a CORS preflight we never grant).
      if (req.method !== 'POST' || !keyMatches(String(req.headers['x-thinkiosk-key'] ?? ''))) return send(res, 403, 'text/plain', 'forbidden');
      void readJson(req).then(
        async (args) => {
          const result = await options.backend.call(decodeURIComponent(url.pathname.slice(5)), args);
          send(res, 200, 'application/json', JSON.stringify(result));
        },
        () => send(res, 413, 'text/plain', 'request too large or not JSON'),
      );
      return;
    }
    if (url.pathname === '/events') {
      if (!keyMatches(url.searchParams.get('key') ?? undefined)) return send(res, 403, 'text/plain', 'forbidden');
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
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed');
    const file = resolveStatic(options.roots, url.pathname === '/' ? '/index.html' : url.pathname);
    if (!file) return send(res, 404, 'text/plain', 'not found');
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    const headers: Record<string, string | number> = { 'Content-Type': type, 'Content-Length': statSync(file).size };
    if (type.startsWith('text/html')) headers['Content-Security-Policy'] = csp;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  });

  server.on('upgrade', (req, socket, head) => {
    if (!hostIsUs(req) || !options.relay.handleUpgrade(req, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  });

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

/** Maps a URL path into one of the roots, refusing anything that climbs out of it. */
function resolveStatic(roots: StaticRoot[], pathname: string): string | null {
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
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RPC_BYTES) {
        reject(new Error('too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        resolve(size ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {});
      } catch (error) {
        reject(error as Error);
      }
    });
    req.on('error', reject);
  });
}
