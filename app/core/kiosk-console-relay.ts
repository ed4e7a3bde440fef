/**
 * Relays an in-app console (noVNC / spice-html5 in the page) to the console websocket the
 * controller handed out. The page only ever connects to its own origin, which keeps the page's
 * CSP at `connect-src 'self'`, and the relay can present what the upstream proxy checks (Nova's
 * novncproxy compares the Origin header with its own host) and trust the site's CA.
 * Each relay path is short-lived, like the console URL behind it, and single-use for VNC; SPICE
 * opens one websocket per channel (main, display, inputs, cursor, playback) on the same URL, so a
 * SPICE path stays usable until it expires.
 * It runs in the kiosk; its upstream is Nova's console proxy or, for static desktops, the
 * controller's own relay (controller/desktops/static/static-console-relay.ts).
 *
 * Why a console ended reaches the page as the websocket's close code (contract/console-close.ts):
 * the controller's own codes pass through unchanged, a refusal before the handshake (HTTP error)
 * becomes the code for its cause, and a controller that cannot be reached gets the relay's own.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { ErrorBody } from '../../contract/api.js';
import { CONSOLE_CLOSE, type ConsoleCloseCode } from '../../contract/console-close.js';

const TICKET_SECONDS = 60;
const PATH_PREFIX = '/relay/';

interface Ticket { upstream: string; expiresAt: number; reusable: boolean }

export interface RelayStats { open: number; opened: number; bytesToPage: number; bytesToServer: number }

export class KioskConsoleRelay {
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
      closeBoth(CONSOLE_CLOSE.controllerUnreachable, 'console server unreachable');
    });
    upstream.on('unexpected-response', (_req, res) => {
      void readRefusal(res).then((kind) => {
        const code = refusalCode(res.statusCode ?? 0, kind);
        this.log(`console relay: upstream ${url.host} refused with HTTP ${res.statusCode}${kind ? ` (${kind})` : ''}: closing with ${code}`);
        closeBoth(code, 'console refused');
      });
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

/**
 * A console refused before its websocket opened, by the controller (its API error body says why)
 * or by Nova's console proxy (a bare HTTP status).
 */
export function refusalCode(status: number, kind: string | null): ConsoleCloseCode {
  if (kind === 'forbidden' || kind === 'session-expired') return CONSOLE_CLOSE.ticketInvalid;
  if (kind === 'not-ready' || kind === 'conflict') return CONSOLE_CLOSE.desktopRefused;
  if (kind === 'too-many-attempts' || status === 429) return CONSOLE_CLOSE.tooManyConsoles;
  if (status === 503) return CONSOLE_CLOSE.controllerStopping;
  return CONSOLE_CLOSE.controllerRefused;
}

/** The `error.kind` of a refusal's JSON body, or null (not JSON, not ours, too slow, too big). */
function readRefusal(res: http.IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    let body = '';
    const done = (): void => {
      clearTimeout(timer);
      res.removeAllListeners('data');
      const parsed = ErrorBody.safeParse(safeJson(body));
      resolve(parsed.success ? parsed.data.error.kind : null);
    };
    const timer = setTimeout(done, 2000);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > 16_384) done();
    });
    res.on('end', done);
    res.on('error', done);
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}
