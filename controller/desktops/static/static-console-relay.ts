/**
 * The controller's own websocket → TCP relay for static desktops' VNC and SPICE servers, so a kiosk
 * page (noVNC, spice-html5) reaches them the way it reaches Nova's console proxies: one websocket
 * (subprotocol `binary`) per connection, addressed by a sealed, short-lived ticket
 * (`/v1/relay/<ticket>`) that names the only server it may reach.
 *
 * Order matters: the ticket is checked, then the person's share of connections, then the websocket
 * handshake is completed, and only then is the desktop's server dialled — nobody gets a connection
 * to a desktop opened (or left open) by a request that is not an accepted console. Why a console
 * could not be opened travels as a websocket close code (contract/console-close.ts), which the
 * kiosk turns into a sentence. Every connection is watched with pings: a kiosk that vanished
 * without closing is noticed within a minute and its desktop connection closed.
 * A kiosk page reaches it through the kiosk's own relay (app/core/kiosk-console-relay.ts).
 */
import type http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import type { ErrorBody, ErrorKind } from '../../../contract/api.js';
import { CONSOLE_CLOSE } from '../../../contract/console-close.js';
import { ApiError } from '../../core/api-error.js';
import type { Logger } from '../../core/log.js';
import type { Metrics } from '../../core/metrics.js';
import type { Reachability } from './reachability.js';
import type { RelayTickets } from './relay-ticket.js';

export const RELAY_PATH = /^\/v1\/relay\/([A-Za-z0-9_-]{16,4096})$/;
/** Client → server messages are keystrokes, pointer moves and small control messages. */
const MAX_CLIENT_MESSAGE_BYTES = 4 * 1024 * 1024;
/** A refused upgrade's answer is written, then the socket is closed even if the client never reads it. */
const REFUSAL_LINGER_MS = 5000;

export interface StaticConsoleRelayOptions {
  maxPerUser: number;
  connectTimeoutMs?: number;
  pingIntervalMs?: number;
}

export class StaticConsoleRelay {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
    // noVNC and spice-html5 ask for `binary`; a client asking for nothing gets binary frames anyway.
    handleProtocols: (offered) => (offered.has('binary') ? 'binary' : false),
  });
  private readonly open = new Set<WebSocket>();
  private readonly perUser = new Map<string, number>();
  private readonly connectTimeoutMs: number;
  private readonly pinger: NodeJS.Timeout;

  constructor(
    private readonly tickets: RelayTickets,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly reachability: Reachability,
    private readonly options: StaticConsoleRelayOptions,
  ) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    const alive = new WeakSet<WebSocket>();
    this.pinger = setInterval(() => {
      for (const ws of this.open) {
        if (!alive.has(ws)) { ws.terminate(); continue; }
        alive.delete(ws);
        ws.ping();
      }
    }, options.pingIntervalMs ?? 30_000);
    this.pinger.unref();
    this.markAlive = (ws) => alive.add(ws);
  }

  private readonly markAlive: (ws: WebSocket) => void;

  /** How many relayed connections are open now (for tests and the day's leak check). */
  get openCount(): number {
    return this.open.size;
  }

  /** For the HTTP server's `upgrade` event on a path matching RELAY_PATH. */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, ticketText: string): void {
    socket.on('error', () => socket.destroy());
    const ticket = this.tickets.open(ticketText);
    if (!ticket) {
      this.metrics.relays.inc({ protocol: 'unknown', result: 'refused' });
      refuse(socket, new ApiError('forbidden', 'This console address is not valid or has expired. Open the desktop again.', 'relay ticket forged, garbled or expired'), this.logger);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.markAlive(ws);
      ws.on('pong', () => this.markAlive(ws));
      const count = this.perUser.get(ticket.user) ?? 0;
      if (count >= this.options.maxPerUser) {
        this.metrics.relays.inc({ protocol: ticket.protocol, result: 'limited' });
        this.logger.log('warn', 'relay-limited', { user: ticket.user, open: count, desktop: ticket.desktop });
        ws.close(CONSOLE_CLOSE.tooManyConsoles, 'too many consoles open');
        return;
      }
      this.perUser.set(ticket.user, count + 1);
      this.open.add(ws);
      const target = `${ticket.host}:${ticket.port}`;
      const endpoint = { host: ticket.host, port: ticket.port };
      const started = Date.now();
      let connected = false;
      let finished = false;
      // Buffers what the kiosk sends before the desktop's server answers (paused until piped).
      const stream = createWebSocketStream(ws);
      const tcp = net.connect({ host: ticket.host, port: ticket.port });
      const timer = setTimeout(() => tcp.destroy(Object.assign(new Error(`no answer within ${this.connectTimeoutMs} ms`), { code: 'ETIMEDOUT' })), this.connectTimeoutMs);
      const finish = (code: number, reason: string): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        this.open.delete(ws);
        const left = (this.perUser.get(ticket.user) ?? 1) - 1;
        if (left > 0) this.perUser.set(ticket.user, left);
        else this.perUser.delete(ticket.user);
        tcp.destroy();
        if (ws.readyState === ws.OPEN) ws.close(code, reason.slice(0, 120));
        stream.destroy();
        if (connected) this.logger.log('info', 'relay-closed', { user: ticket.user, desktop: ticket.desktop, protocol: ticket.protocol, target, seconds: (Date.now() - started) / 1000 });
      };
      ws.once('close', () => finish(1000, 'kiosk closed'));
      tcp.once('error', (error: NodeJS.ErrnoException) => {
        if (connected) return finish(1011, 'desktop connection failed');
        const cause = causeOf(error);
        this.reachability.observe(ticket.protocol, endpoint, { state: 'down', reason: cause.reason });
        this.metrics.relays.inc({ protocol: ticket.protocol, result: 'unreachable' });
        this.logger.log('warn', 'relay-unreachable', { user: ticket.user, desktop: ticket.desktop, protocol: ticket.protocol, target, error: error.message });
        finish(cause.code, cause.reason);
      });
      tcp.once('connect', () => {
        connected = true;
        clearTimeout(timer);
        this.reachability.observe(ticket.protocol, endpoint, { state: 'up' });
        this.metrics.relays.inc({ protocol: ticket.protocol, result: 'ok' });
        this.logger.log('info', 'relay-opened', { user: ticket.user, desktop: ticket.desktop, protocol: ticket.protocol, target });
        // pipe() keeps backpressure both ways: a slow kiosk slows the desktop's server, not our memory.
        stream.pipe(tcp);
        tcp.pipe(stream);
        tcp.once('close', () => {
          // Ended from the desktop's side (not by us, not by the kiosk): worth a fresh look.
          if (!finished) this.reachability.suspect(ticket.protocol, endpoint);
          finish(1000, 'desktop closed the connection');
        });
        tcp.on('error', () => {
          if (!finished) this.reachability.suspect(ticket.protocol, endpoint);
          finish(1011, 'desktop connection failed');
        });
        stream.once('error', () => finish(1011, 'kiosk connection failed'));
      });
    });
  }

  /** Ends every relayed connection (shutdown): the kiosk learns the controller is stopping, and may open the desktop again. */
  closeAll(): void {
    for (const ws of [...this.open]) ws.close(CONSOLE_CLOSE.controllerStopping, 'controller stopping');
  }
}

function causeOf(error: NodeJS.ErrnoException): { code: number; reason: string & ('refused' | 'unreachable' | 'timeout') } {
  switch (error.code) {
    case 'ECONNREFUSED': return { code: CONSOLE_CLOSE.desktopRefused, reason: 'refused' };
    case 'ETIMEDOUT': return { code: CONSOLE_CLOSE.desktopTimeout, reason: 'timeout' };
    default: return { code: CONSOLE_CLOSE.desktopUnreachable, reason: 'unreachable' };
  }
}

/** Before the websocket handshake the answer is plain HTTP, with the API's usual error body. */
export function refuse(socket: Duplex, error: ApiError, logger: Logger): void {
  logger.log('warn', 'relay-refused', { kind: error.kind, detail: error.logMessage });
  if (socket.destroyed) return;
  const body: ErrorBody = { error: { kind: error.kind as ErrorKind, message: error.userMessage } };
  const text = JSON.stringify(body);
  socket.end([
    `HTTP/1.1 ${error.status} ${STATUS_TEXT[error.status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(text)}`,
    'Cache-Control: no-store',
    'Connection: close',
    '', text,
  ].join('\r\n'));
  // end() waits for the client to read and close; one that never does must not keep the socket.
  setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict' };
