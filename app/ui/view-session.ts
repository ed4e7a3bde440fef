/**
 * A connected desktop. VNC and SPICE are drawn in the page (noVNC, spice-html5) through the kiosk's
 * local relay; RDP and USB-enabled SPICE run in a native viewer the Node side supervises, and this
 * screen waits for its outcome. Every end leads back to the desktop list; a dropped connection
 * offers Reconnect, which asks the controller for a fresh console (its URLs are single-use).
 * The hot-key bar (Ctrl+Alt+Home, or the handle at the top) has Disconnect, Ctrl+Alt+Del, Full screen.
 */
import type { Protocol } from '../../contract/api.js';
import type { Connection, KioskError, KioskEvent } from '../core/kiosk-api.js';
import { errorBox, type Context } from './context.js';
import { h, mount } from './dom.js';
import { t } from './i18n.js';

// Served by the kiosk's local server from node_modules; loaded only when a session needs them.
const NOVNC_MODULE = '/vendor/novnc/core/rfb.js';
const SPICE_MODULE = '/vendor/spice/main.js';

interface ActiveViewer { disconnect(): void; sendCtrlAltDel(): void }

let cleanup: (() => void) | null = null;

export function leaveSession(): void {
  cleanup?.();
  cleanup = null;
}

export function showSession(ctx: Context, desktopId: string, desktopName: string, protocol?: Protocol): void {
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
      else dropped({ kind: event.outcome === 'wrong-password' || event.outcome === 'client-missing' ? event.outcome : 'console-refused', message: event.message });
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
    const result = await ctx.bridge.call('connect', { id: desktopId, ...(protocol ? { protocol } : {}) });
    if (!result.ok) {
      if (result.error.kind === 'session-expired') return ctx.go({ view: 'login', notice: result.error.message });
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
    try {
      viewer = connection.protocol === 'vnc'
        ? await openVnc(screen, url, connection.password, { connected: () => (message.hidden = true), dropped, wrongPassword: () => dropped({ kind: 'wrong-password', message: t('session.wrong-password', { name: desktopName }) }) })
        : await openSpice(screen, url, connection.password, { connected: () => (message.hidden = true), dropped });
    } catch {
      dropped({ kind: 'internal', message: t('session.lost', { name: desktopName }) });
    }
  };

  mount(ctx.root, h('div', { class: 'screen session', 'data-testid': 'session-screen' }, handle, bar, screen, message));
  void connect();
}

interface ViewerCallbacks { connected(): void; dropped(error?: KioskError): void; wrongPassword?(): void }

async function openVnc(screen: HTMLElement, url: string, password: string | null, on: ViewerCallbacks): Promise<ActiveViewer> {
  const { default: RFB } = (await import(NOVNC_MODULE)) as typeof import('vendor:novnc');
  screen.replaceChildren();
  const rfb = new RFB(screen, url, password ? { credentials: { password } } : {});
  rfb.scaleViewport = true;
  rfb.resizeSession = false;
  let failedAuth = false;
  rfb.addEventListener('connect', () => {
    screen.dataset.connected = 'true';
    on.connected();
    rfb.focus();
  });
  rfb.addEventListener('securityfailure', () => {
    failedAuth = true;
    on.wrongPassword?.();
  });
  rfb.addEventListener('credentialsrequired', () => {
    failedAuth = true;
    on.wrongPassword?.();
  });
  rfb.addEventListener('disconnect', () => {
    screen.dataset.connected = 'false';
    if (!failedAuth) on.dropped();
  });
  return { disconnect: () => rfb.disconnect(), sendCtrlAltDel: () => rfb.sendCtrlAltDel() };
}

async function openSpice(screen: HTMLElement, url: string, password: string | null, on: ViewerCallbacks): Promise<ActiveViewer> {
  const spice = (await import(SPICE_MODULE)) as typeof import('vendor:spice');
  const area = h('div', { id: 'spice-screen', class: 'spice-screen' });
  const messages = h('div', { id: 'spice-messages', hidden: true });
  screen.replaceChildren(area, messages);
  let stopped = false;
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
      on.dropped();
    },
  });
  return {
    disconnect: () => {
      stopped = true;
      connection.stop();
    },
    sendCtrlAltDel: () => spice.sendCtrlAltDel(connection),
  };
}
