/**
 * A connected desktop. VNC and SPICE are drawn in the page (noVNC, spice-html5) through the kiosk's
 * local relay; RDP and USB-enabled SPICE run in a native viewer the Node side supervises, and this
 * screen waits for its outcome. Every end leads back to the desktop list; a dropped connection
 * offers Reconnect, which asks the controller for a fresh console (its URLs are single-use).
 * The hot-key bar (Ctrl+Alt+Home, or the handle at the top) has Disconnect, Ctrl+Alt+Del, Full screen.
 */
import type { Protocol } from '../../contract/api.js';
import type { Connection, KioskError, KioskEvent } from '../core/kiosk-api.js';
import { consoleCloseMessage, rfbEarlyRefusal, vncRefusalMessage } from './console-end.js';
import { fullLengthTicket } from './spice-ticket.js';
import { backToLogin, errorBox, type Context } from './context.js';
import { h, mount } from './dom.js';
import { t, type MessageKey } from './i18n.js';

// Served by the kiosk's local server from node_modules; loaded only when a session needs them.
const NOVNC_MODULE = '/vendor/novnc/core/rfb.js';
const SPICE_MODULE = '/vendor/spice/main.js';

interface ActiveViewer { disconnect(): void; sendCtrlAltDel(): void }

let cleanup: (() => void) | null = null;

export function leaveSession(): void {
  cleanup?.();
  cleanup = null;
}

export function showSession(ctx: Context, desktopId: string, desktopName: string, protocol?: Protocol, likely?: Protocol): void {
  leaveSession();
  const screen = h('div', { class: 'viewer', id: 'viewer', 'data-testid': 'viewer' });
  const message = h('div', { class: 'session-message', 'data-testid': 'session-message' }, t('session.connecting', { name: desktopName }));
  let viewer: ActiveViewer | null = null;
  let userEnded = false;
  let connection: Connection | null = null;

  const back = (notice?: string): void => {
    userEnded = true;
    viewer?.disconnect();
    ctx.go({ view: 'desktops', ...(notice ? { notice } : {}) });
  };
  const dropped = (error?: KioskError): void => {
    if (userEnded) return;
    viewer = null;
    screen.replaceChildren();
    bar.classList.add('visible');
    mount(message,
      error ? errorBox(error) : h('p', { 'data-testid': 'session-lost' }, t('session.lost', { name: desktopName })),
      h('div', { class: 'buttons' },
        h('button', { class: 'primary', 'data-testid': 'reconnect', onclick: () => void connect() }, t('session.reconnect')),
        h('button', { 'data-testid': 'back', onclick: () => back() }, t('session.back'))));
    message.hidden = false;
  };

  const bar = h('div', { class: 'hotkey-bar', 'data-testid': 'hotkey-bar' },
    h('strong', {}, desktopName),
    h('button', { 'data-testid': 'bar-disconnect', onclick: () => back() }, t('session.disconnect')),
    h('button', { 'data-testid': 'bar-cad', onclick: () => viewer?.sendCtrlAltDel() }, t('session.cad')),
    h('button', {
      'data-testid': 'bar-fullscreen',
      onclick: () => void (document.fullscreenElement ? document.exitFullscreen() : document.documentElement.requestFullscreen()).catch(() => undefined),
    }, t('session.fullscreen')),
    h('span', { class: 'subtle' }, t('session.hint')));
  const handle = h('div', { class: 'hotkey-handle', 'data-testid': 'hotkey-handle', onclick: () => bar.classList.toggle('visible') });
  const onKey = (event: KeyboardEvent): void => {
    if (event.ctrlKey && event.altKey && event.key === 'Home') {
      event.preventDefault();
      bar.classList.toggle('visible');
    }
  };
  window.addEventListener('keydown', onKey, true);
  // A viewer can end (e.g. not installed) before the page has the answer to `connect`: keep what
  // arrives early and replay it once the session id is known.
  const early = new Map<string, KioskEvent>();
  const onNativeEvent = (event: KioskEvent): void => {
    if (event.type !== 'native-started' && event.type !== 'native-ended') return;
    if (!connection || connection.kind !== 'native' || connection.sessionId !== event.sessionId) {
      if (event.type === 'native-ended' || !early.has(event.sessionId)) early.set(event.sessionId, event);
      return;
    }
    if (event.type === 'native-started') {
      mount(message, h('p', { 'data-testid': 'native-running' }, t('session.native', { name: desktopName })),
        h('button', { 'data-testid': 'native-disconnect', onclick: () => back() }, t('session.disconnect')));
    }
    if (event.type === 'native-ended') {
      connection = null;
      if (event.outcome === 'ended') back(event.message);
      else dropped({ kind: event.outcome === 'wrong-password' || event.outcome === 'client-missing' ? event.outcome : 'console-refused', message: event.cause ? t(`native.${event.cause}`, { name: desktopName }) : event.message });
    }
  };
  const unsubscribe = ctx.onEvent(onNativeEvent);
  cleanup = () => {
    window.removeEventListener('keydown', onKey, true);
    unsubscribe();
    userEnded = true;
    viewer?.disconnect();
    if (connection?.kind === 'native') void ctx.bridge.call('disconnect', { sessionId: connection.sessionId });
  };

  const connect = async (): Promise<void> => {
    mount(message, h('p', {}, t('session.connecting', { name: desktopName })));
    message.hidden = false;
    bar.classList.remove('visible');
    // The viewer's code loads while the console is asked for, not after: every person gets a fresh
    // Chromium (kiosk-browser.ts), so their first connect would otherwise wait for it.
    preloadViewer(protocol ?? likely);
    const result = await ctx.bridge.call('connect', { id: desktopId, ...(protocol ? { protocol } : {}) });
    // The person left (or the session ended) while the console was being prepared: open nothing.
    if (userEnded) {
      if (result.ok && result.value.kind === 'native') void ctx.bridge.call('disconnect', { sessionId: result.value.sessionId });
      return;
    }
    if (!result.ok) {
      if (result.error.kind === 'session-expired') return backToLogin(ctx, result.error.message);
      return dropped(result.error);
    }
    connection = result.value;
    if (connection.kind === 'native') {
      const sessionId = connection.sessionId;
      viewer = {
        disconnect: () => void ctx.bridge.call('disconnect', { sessionId }),
        sendCtrlAltDel: () => void ctx.bridge.call('sendCtrlAltDel', { sessionId }),
      };
      const arrived = early.get(sessionId);
      early.clear();
      if (arrived) onNativeEvent(arrived);
      return;
    }
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${connection.relayPath}`;
    // A console that ends says why when it knows (a close code, the VNC server's refusal), and is
    // "lost" otherwise: a real drop mid-session.
    const ended = (why: MessageKey | null): void => dropped(why
      ? { kind: why === 'session.wrong-password' ? 'wrong-password' : 'console-refused', message: t(why, { name: desktopName }) }
      : undefined);
    try {
      viewer = connection.protocol === 'vnc'
        ? await openVnc(screen, url, connection.password, { connected: () => (message.hidden = true), ended })
        : await openSpice(screen, url, connection.password, { connected: () => (message.hidden = true), ended });
    } catch {
      dropped({ kind: 'internal', message: t('session.lost', { name: desktopName }) });
    }
  };

  mount(ctx.root, h('div', { class: 'screen session', 'data-testid': 'session-screen' }, handle, bar, screen, message));
  void connect();
}

/** Starts loading a viewer's module; openVnc/openSpice's own import then shares it (failures surface there). */
function preloadViewer(protocol: Protocol | undefined): void {
  const module = protocol === 'vnc' ? NOVNC_MODULE : protocol === 'spice' ? SPICE_MODULE : null;
  if (module) import(module).catch(() => undefined);
}

interface ViewerCallbacks {
  connected(): void;
  /** The console ended by itself: why, as a sentence's key, or null when it was simply lost. */
  ended(why: MessageKey | null): void;
}

async function openVnc(screen: HTMLElement, url: string, password: string | null, on: ViewerCallbacks): Promise<ActiveViewer> {
  const { default: RFB } = (await import(NOVNC_MODULE)) as typeof import('vendor:novnc');
  screen.replaceChildren();
  // The page opens the websocket itself, so its close code (why the console ended) is known:
  // noVNC's own events do not carry it. Listening before noVNC does puts the code here first.
  const socket = new WebSocket(url);
  let closeCode: number | null = null;
  socket.addEventListener('close', (event) => {
    closeCode = event.code;
  });
  // The stream's first bytes, for a refusal sent together with the version (see rfbEarlyRefusal).
  let start = new Uint8Array(0);
  socket.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (start.length >= 256 || !(event.data instanceof ArrayBuffer)) return;
    const next = new Uint8Array(start.length + event.data.byteLength);
    next.set(start);
    next.set(new Uint8Array(event.data), start.length);
    start = next.subarray(0, 256);
  });
  const rfb = new RFB(screen, socket, password ? { credentials: { password } } : {});
  rfb.scaleViewport = true;
  rfb.resizeSession = false;
  let refused: MessageKey | null = null;
  let reported = false;
  const end = (why: MessageKey | null): void => {
    if (reported) return;
    reported = true;
    on.ended(why);
  };
  rfb.addEventListener('connect', () => {
    screen.dataset.connected = 'true';
    on.connected();
    rfb.focus();
  });
  rfb.addEventListener('securityfailure', (event) => {
    refused = vncRefusalMessage((event as CustomEvent<{ reason?: string }>).detail?.reason);
    end(refused);
  });
  rfb.addEventListener('credentialsrequired', () => {
    refused = 'session.wrong-password';
    end(refused);
  });
  rfb.addEventListener('disconnect', () => {
    screen.dataset.connected = 'false';
    const early = rfbEarlyRefusal(start);
    end(refused ?? (early !== null ? vncRefusalMessage(early) : consoleCloseMessage(closeCode)));
  });
  return { disconnect: () => rfb.disconnect(), sendCtrlAltDel: () => rfb.sendCtrlAltDel() };
}

async function openSpice(screen: HTMLElement, url: string, password: string | null, on: ViewerCallbacks): Promise<ActiveViewer> {
  const spice = (await import(SPICE_MODULE)) as typeof import('vendor:spice');
  patchSpiceHtml5(spice.SpiceMainConn);
  const area = h('div', { id: 'spice-screen', class: 'spice-screen' });
  const messages = h('div', { id: 'spice-messages', hidden: true });
  screen.replaceChildren(area, messages);
  let stopped = false;
  let closeCode: number | null = null;
  const connection = new spice.SpiceMainConn({
    uri: url, screen_id: 'spice-screen', message_id: 'spice-messages', password: password ?? '',
    onsuccess: () => {
      screen.dataset.connected = 'true';
      on.connected();
    },
    onerror: () => {
      screen.dataset.connected = 'false';
      if (stopped) return;
      stopped = true;
      try {
        connection.stop();
      } catch {
        // already torn down by the library
      }
      // spice-html5 reports a close before this page's own close listener has seen its code.
      setTimeout(() => on.ended(consoleCloseMessage(closeCode)), 0);
    },
  });
  // The main channel's websocket carries the close code of a console refused or ended by a relay.
  connection.ws?.addEventListener('close', (event) => {
    closeCode = event.code;
  });
  return {
    disconnect: () => {
      stopped = true;
      connection.stop();
    },
    sendCtrlAltDel: () => spice.sendCtrlAltDel(connection),
  };
}

/**
 * Three fixes to spice-html5, made once on its channel prototype: full-length tickets (see
 * spice-ticket.ts), logging that survives its view, and errors kept inside the console. It gives
 * only the main channel an error callback; a display, cursor or inputs channel
 * whose link is refused (e.g. its session was just replaced by a newer one) throws from a
 * websocket handler instead — an uncaught error in the kiosk page (seen once in thirty people of
 * the classroom day). Such an error is handed to the main channel's callback, which ends the
 * console the usual way, or dropped when the console has already ended.
 */
function patchSpiceHtml5(mainConn: unknown): void {
  type Channel = { onerror?: (e: Error) => void; parent?: Channel; report_error: (e: Error) => void };
  const base = Object.getPrototypeOf((mainConn as { prototype: object }).prototype) as Channel & { thinkioskPatched?: boolean };
  if (!base || base.thinkioskPatched || typeof base.report_error !== 'function') return;
  const original = base.report_error;
  base.report_error = function (this: Channel, error: Error): void {
    if (this.onerror) return original.call(this, error);
    this.parent?.onerror?.(error);
  };
  // Its log_info/log_warn/log_err append to the message element by id without checking that it is
  // still there: a channel that logs after the session view was taken down (a dropped SPICE
  // session) threw "Cannot read properties of null (reading 'appendChild')".
  type Logger = { message_id?: string };
  const logs = base as unknown as Record<string, unknown>;
  for (const name of ['log_info', 'log_warn', 'log_err']) {
    const log = logs[name];
    if (typeof log !== 'function') continue;
    logs[name] = function (this: Logger, ...args: unknown[]): void {
      if (this.message_id && !document.getElementById(this.message_id)) {
        console.log(`spice: ${args.join(' ')}`);
        return;
      }
      (log as (...a: unknown[]) => void).apply(this, args);
    };
  }
  // Every channel's ticket reaches the server at its full length (see spice-ticket.ts).
  const sendTicket = logs.send_ticket;
  if (typeof sendTicket === 'function') {
    logs.send_ticket = function (this: unknown, ticket: ArrayLike<number> | null): void {
      (sendTicket as (t: unknown) => void).call(this, ticket ? fullLengthTicket(ticket) : ticket);
    };
  }
  base.thinkioskPatched = true;
}
