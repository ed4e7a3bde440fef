/**
 * The controller's own websocket → TCP relay for static desktops' VNC and SPICE servers, so a kiosk
 * page (noVNC, spice-html5) reaches them the way it reaches Nova's console proxies: one websocket
 * (subprotocol `binary`) per connection, addressed by a sealed, short-lived ticket
 * (`/v1/relay/<ticket>`) that names the only server it may reach.
 */
import type http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { ErrorBody, ErrorKind } from '../contract/api.js';
import { ApiError } from './api-error.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { RelayTickets } from './relay-ticket.js';

export const RELAY_PATH = /^\/v1\/relay\/([A-Za-z0-9_-]{16,4096})$/;
const CONNECT_TIMEOUT_MS = 5000;
/** Client → server messages are keystrokes, pointer moves and small control messages. */
const MAX_CLIENT_MESSAGE_BYTES = 4 * 1024 * 1024;

export class ConsoleRelay {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
    // noVNC and spice-html5 ask for `binary`; a client asking for nothing gets binary frames anyway.
    handleProtocols: (offered) => (offered.has('binary') ? 'binary' : false),
  });
  private readonly open = new Set<Duplex>();

  constructor(private readonly tickets: RelayTickets, private readonly metrics: Metrics, private readonly logger: Logger) {}

  /** For the HTTP server's `upgrade` event on a path matching RELAY_PATH. */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, ticketText: string): void {
    socket.on('error', () => socket.destroy());
    const ticket = this.tickets.open(ticketText);
    if (!ticket) {
      this.metrics.relays.inc({ protocol: 'unknown', result: 'refused' });
      refuse(socket, new ApiError('forbidden', 'This console address is not valid or has expired. Open the desktop again.', 'relay ticket forged, garbled or expired'), this.logger);
      return;
    }
    const target = `${ticket.host}:${ticket.port}`;
    const tcp = net.connect({ host: ticket.host, port: ticket.port });
    const timer = setTimeout(() => tcp.destroy(new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
    const clientGone = () => tcp.destroy();
    socket.once('close', clientGone);
    tcp.once('error', (error) => {
      clearTimeout(timer);
      this.metrics.relays.inc({ protocol: ticket.protocol, result: 'unreachable' });
      refuse(socket, new ApiError('not-ready', `The desktop's ${ticket.protocol.toUpperCase()} server does not answer. It may be switched off; try again or ask your administrator.`,
        `relay to ${target} for ${ticket.user} (desktop ${ticket.desktop}) failed: ${error.message}`), this.logger);
    });
    tcp.once('connect', () => {
      clearTimeout(timer);
      socket.off('close', clientGone);
      tcp.removeAllListeners('error');
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.metrics.relays.inc({ protocol: ticket.protocol, result: 'ok' });
        const started = Date.now();
        const stream = createWebSocketStream(ws);
        this.open.add(stream);
        const end = () => {
          if (!this.open.delete(stream)) return;
          tcp.destroy();
          stream.destroy();
          this.logger.log('info', 'relay-closed', { user: ticket.user, desktop: ticket.desktop, protocol: ticket.protocol, target, seconds: (Date.now() - started) / 1000 });
        };
        // pipe() keeps backpressure both ways: a slow kiosk slows the desktop's server, not our memory.
        stream.pipe(tcp);
        tcp.pipe(stream);
        for (const side of [stream, tcp]) { side.on('error', end); side.on('close', end); }
        this.logger.log('info', 'relay-opened', { user: ticket.user, desktop: ticket.desktop, protocol: ticket.protocol, target });
      });
    });
  }

  /** Ends every relayed connection (at shutdown: http.Server.close() does not wait for websockets well). */
  closeAll(): void {
    for (const stream of [...this.open]) stream.destroy();
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
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict' };
