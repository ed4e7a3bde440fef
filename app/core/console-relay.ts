/**
 * Relays an in-app console (noVNC / spice-html5 in the page) to the console websocket the
 * controller handed out. The page only ever connects to its own origin, which keeps the page's
 * CSP at `connect-src 'self'`, and the relay can present what the upstream proxy checks (Nova's
 * novncproxy compares the Origin header with its own host) and trust the site's CA.
 * Each relay path is short-lived, like the console URL behind it, and single-use for VNC; SPICE
 * opens one websocket per channel (main, display, inputs, cursor, playback) on the same URL, so a
 * SPICE path stays usable until it expires.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';

const TICKET_SECONDS = 60;
const PATH_PREFIX = '/relay/';

interface Ticket { upstream: string; expiresAt: number; reusable: boolean }

export interface RelayStats { open: number; opened: number; bytesToPage: number; bytesToServer: number }

export class ConsoleRelay {
  private readonly tickets = new Map<string, Ticket>();
  private readonly sockets = new Set<WebSocket>();
  private readonly server = new WebSocketServer({ noServer: true, handleProtocols: (offered) => (offered.has('binary') ? 'binary' : false) });
  private readonly ca: Buffer | undefined;
  readonly stats: RelayStats = { open: 0, opened: 0, bytesToPage: 0, bytesToServer: 0 };

  constructor(options: { caFile?: string | null; onLog?: (message: string) => void } = {}) {
    this.ca = options.caFile ? readFileSync(options.caFile) : undefined;
    this.log = options.onLog ?? (() => undefined);
  }

  private readonly log: (message: string) => void;

  /** Registers an upstream console websocket; returns the same-origin path the page connects to. */
  open(upstreamWebsocketUrl: string, options: { reusable: boolean }): string {
    const now = Date.now();
    for (const [id, ticket] of this.tickets) if (ticket.expiresAt < now) this.tickets.delete(id);
    const id = randomBytes(18).toString('base64url');
    this.tickets.set(id, { upstream: upstreamWebsocketUrl, expiresAt: now + TICKET_SECONDS * 1000, reusable: options.reusable });
    return PATH_PREFIX + id;
  }

  /** For the local server's `upgrade` event: returns false when the path is not a relay path. */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (!path.startsWith(PATH_PREFIX)) return false;
    const id = path.slice(PATH_PREFIX.length);
    const ticket = this.tickets.get(id);
    if (!ticket?.reusable) this.tickets.delete(id);
    if (!ticket || ticket.expiresAt < Date.now()) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return true;
    }
    this.server.handleUpgrade(req, socket, head, (page) => this.pipe(page, ticket.upstream));
    return true;
  }

  private pipe(page: WebSocket, upstreamUrl: string): void {
    const url = new URL(upstreamUrl);
    const origin = `${url.protocol === 'wss:' ? 'https:' : 'http:'}//${url.host}`;
    const upstream = new WebSocket(upstreamUrl, ['binary'], { origin, ca: this.ca, handshakeTimeout: 10_000 });
    this.stats.opened += 1;
    this.stats.open += 1;
    this.sockets.add(page).add(upstream);
    const pending: RawData[] = [];
    let closed = false;
    const closeBoth = (code: number, reason: string): void => {
      if (closed) return;
      closed = true;
      this.stats.open -= 1;
      this.sockets.delete(page);
      this.sockets.delete(upstream);
      // 1005/1006 cannot be sent; tell the page "going away" so it offers a reconnect.
      const sendable = code >= 1000 && code < 5000 && code !== 1005 && code !== 1006 ? code : 1001;
      for (const socket of [page, upstream]) {
        if (socket.readyState === WebSocket.OPEN) socket.close(sendable, reason.slice(0, 120));
        else if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      }
    };
    page.on('message', (data) => {
      this.stats.bytesToServer += byteLength(data);
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data);
      else pending.push(data);
    });
    upstream.on('open', () => {
      for (const data of pending.splice(0)) upstream.send(data);
    });
    upstream.on('message', (data) => {
      this.stats.bytesToPage += byteLength(data);
      if (page.readyState === WebSocket.OPEN) page.send(data);
    });
    upstream.on('error', (error) => {
      this.log(`console relay: upstream ${url.host}: ${error.message}`);
      closeBoth(4001, 'console server unreachable');
    });
    upstream.on('unexpected-response', (_req, res) => {
      this.log(`console relay: upstream ${url.host} refused with HTTP ${res.statusCode}`);
      closeBoth(4003, 'console refused');
    });
    page.on('error', () => closeBoth(1001, 'page gone'));
    page.on('close', (code, reason) => closeBoth(code, reason.toString()));
    upstream.on('close', (code, reason) => closeBoth(code, reason.toString() || 'console closed'));
  }

  closeAll(): void {
    for (const socket of this.sockets) socket.terminate();
    this.sockets.clear();
    this.tickets.clear();
  }
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}
