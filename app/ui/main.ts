/**
 * The kiosk page: one screen at a time (setup → login → desktops → session, and the admin panel),
 * driven by the state the Node side reports. User activity is reported (throttled) for idle logout
 * and to keep an unlocked admin screen open; a session ended on the Node side (idle, expiry) brings
 * the login screen back with the reason, in the kiosk's own language, and an admin screen the Node
 * side locked (unused for minutes) goes back to the login screen too.
 */
import type { KioskEvent } from '../core/kiosk-api.js';
import { createBridge } from './bridge.js';
import { errorBox, sessionEndNotice, type Context, type Route } from './context.js';
import { h, mount } from './dom.js';
import { showFleetNotices } from './fleet-notices.js';
import { language, setLanguage, t } from './i18n.js';
import { leaveAdmin, showAdmin } from './view-admin.js';
import { leaveDesktops, showDesktops } from './view-desktops.js';
import { showLogin } from './view-login.js';
import { leaveSession, showSession } from './view-session.js';
import { showSetup } from './view-setup.js';

const ACTIVITY_REPORT_MS = 20_000;

async function start(): Promise<void> {
  const root = document.getElementById('app')!;
  const bridge = createBridge();
  const listeners = new Set<(event: KioskEvent) => void>();
  bridge.onEvent((event) => listeners.forEach((listener) => listener(event)));

  const first = await bridge.call('state', {});
  if (!first.ok) return mount(root, h('div', { class: 'screen' }, errorBox(first.error)));
  let route: Route = { view: 'setup' };
  const ctx: Context = {
    bridge, root, state: first.value,
    onEvent: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    refreshState: async () => {
      const result = await bridge.call('state', {});
      if (result.ok) ctx.state = result.value;
      return ctx.state;
    },
    go: (next) => {
      if (route.view === 'session' && next.view !== 'session') leaveSession();
      if (route.view === 'desktops') leaveDesktops();
      if (route.view === 'admin' && next.view !== 'admin') leaveAdmin();
      route = next;
      document.body.dataset.view = next.view;
      switch (next.view) {
        case 'setup': return showSetup(ctx, next.notice);
        case 'login': return showLogin(ctx, next.notice);
        case 'desktops': return showDesktops(ctx, next.notice, next.afterLogin);
        case 'session': return showSession(ctx, next.desktopId, next.desktopName, next.protocol, next.likely);
        case 'admin': return showAdmin(ctx);
      }
    },
  };
  setLanguage(ctx.state.language);
  showFleetNotices(ctx.onEvent);

  const home = (notice?: string): Route => (ctx.state.controller ? { view: 'login', ...(notice ? { notice } : {}) } : { view: 'setup', ...(notice ? { notice } : {}) });
  listeners.add((event) => {
    if (event.type === 'admin-locked') {
      if (route.view === 'admin' && event.reason === 'idle') ctx.go(home(t('admin.locked-idle')));
      return;
    }
    if (event.type === 'settings-changed') {
      void ctx.refreshState().then((state) => {
        // The controller's name may have arrived (learned after the network came up): the login
        // screen shows it in place, keeping what the person has typed.
        const controllerName = ctx.root.querySelector('[data-testid=controller-name]');
        if (controllerName && state.controller) controllerName.textContent = t('login.controller', { name: state.controller.name });
        if (state.language === language()) return;
        setLanguage(state.language);
        // A login or setup screen is drawn again in the fleet's language; a session or the admin screen is left be.
        if (route.view === 'login' || route.view === 'setup') ctx.go(route);
      });
      return;
    }
    if (event.type !== 'session-ended') return;
    ctx.state = { ...ctx.state, session: null };
    void ctx.refreshState().then((state) => {
      // The person's own language choice ends with their session.
      const languageChanged = state.language !== language();
      setLanguage(state.language);
      if (route.view === 'admin') return;
      // Already at the login screen after a logout: leave it be, the next person may be typing.
      if (event.reason === 'logout' && route.view === 'login' && !languageChanged) return;
      ctx.go(home(sessionEndNotice(event.reason)));
    });
  });

  let lastReport = 0;
  const reportActivity = (): void => {
    const now = Date.now();
    // Often enough for a short idle limit, seldom enough not to flood the kiosk with calls.
    const every = Math.min(ACTIVITY_REPORT_MS, (ctx.state.idleLogoutSeconds || Infinity) * 250);
    if ((!ctx.state.session && route.view !== 'admin') || now - lastReport < every) return;
    lastReport = now;
    void bridge.call('activity', {});
  };
  for (const type of ['pointerdown', 'keydown', 'wheel', 'touchstart']) window.addEventListener(type, reportActivity, { capture: true, passive: true });
  // Kiosk: nothing in this page opens windows; a library or injected content that tries gets nothing.
  window.open = () => null;
  // Kiosk: no context menu, no drag-and-drop navigation, no pinch/zoom surprises.
  window.addEventListener('contextmenu', (event) => event.preventDefault());
  window.addEventListener('dragover', (event) => event.preventDefault());
  window.addEventListener('drop', (event) => event.preventDefault());

  // A fresh page is never on the admin screen: an unlock left over from before a reload ends here.
  if (ctx.state.adminUnlocked) await bridge.call('adminLock', {});
  // The browser shell restarts Chromium at every session end: the fresh page still says why.
  ctx.go(ctx.state.session ? { view: 'desktops' } : home(sessionEndNotice(ctx.state.lastSessionEnded)));
}

void start();
