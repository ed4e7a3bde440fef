/**
 * The fleet's admin page, served by the controller at /admin/: sign-in, then the fleet table, a
 * kiosk's page, the settings layers, enrolment and the audit log, reached by the address's
 * fragment (#/fleet, #/kiosks/<id>, #/settings, #/enrolment, #/audit) so the browser's back button
 * works. Nothing is stored in the browser: a reload asks for the password again.
 */
import type { Identity } from '../../../contract/api.js';
import type { KioskSummary } from '../../../contract/fleet-admin.js';
import type { SettingRule, SettingRules } from '../setting-rules.js';
import { AdminApi, SESSION_ENDED } from './api.js';
import { h, mount } from './dom.js';
import { auditView } from './view-audit.js';
import { enrolmentView } from './view-enrolment.js';
import { fleetView } from './view-fleet.js';
import { kioskView } from './view-kiosk.js';
import { settingsView } from './view-settings.js';
import { showSignIn, type SignInNotice } from './view-sign-in.js';
import { errorText, type AdminContext, type View } from './ui.js';

const PLACES = [
  { hash: '#/fleet', label: 'Kiosks' },
  { hash: '#/settings', label: 'Settings' },
  { hash: '#/enrolment', label: 'Enrolment' },
  { hash: '#/audit', label: 'Audit log' },
] as const;

async function getJson<T>(path: string): Promise<T | null> {
  try {
    const response = await fetch(path, { cache: 'no-store', credentials: 'omit' });
    return response.ok ? ((await response.json()) as T) : null;
  } catch {
    return null;
  }
}

async function start(): Promise<void> {
  const root = document.getElementById('app')!;
  const api = new AdminApi();
  const identity = await getJson<Identity>('/v1/identity');
  const controllerName = identity?.name ?? null;
  if (controllerName) document.title = `thinkiosk fleet — ${controllerName}`;
  let rules: SettingRule[] | null = null;
  const loadRules = async (): Promise<SettingRule[] | null> => (rules ??= (await getJson<SettingRules>('setting-rules.json'))?.keys ?? null);

  const signIn = (notice: SignInNotice | null): void => {
    if (!identity && !notice) notice = { kind: 'error', text: 'The controller does not answer. Check the network and that the controller is running, then reload this page.' };
    showSignIn(root, api, controllerName, notice, (kiosks) => void (async () => {
      const loaded = await loadRules();
      if (!loaded) {
        await api.signOut();
        return signIn({ kind: 'error', text: 'The page could not load the settings\' rules from the controller. Reload the page.' });
      }
      signedIn(loaded, kiosks);
    })());
  };

  const signedIn = (settingRules: SettingRule[], kiosks: KioskSummary[]): void => {
    const views = h('main', { class: 'views' });
    const statusLine = h('div', { class: 'status-line', 'data-testid': 'page-status', role: 'status' });
    const nav = h('nav', { class: 'places' }, PLACES.map((place) => h('a', { href: place.hash, 'data-testid': `nav-${place.hash.slice(2)}` }, place.label)));
    const signOut = h('button', { 'data-testid': 'sign-out' }, 'Sign out');
    mount(root,
      h('header', { class: 'topbar' },
        h('h1', {}, 'thinkiosk fleet'), controllerName ? h('span', { class: 'subtle' }, controllerName) : null,
        nav, h('span', { class: 'spacer' }),
        h('span', { class: 'subtle', 'data-testid': 'signed-in-as' }, `Signed in as ${api.user ?? ''}`), signOut),
      statusLine, views);

    const ctx: AdminContext = {
      api, rules: settingRules,
      go: (hash) => {
        if (location.hash === hash) route();
        else location.hash = hash;
      },
      pageStatus: (error) => {
        if (error === null) return statusLine.replaceChildren();
        mount(statusLine, h('div', { class: 'error', role: 'alert', 'data-testid': 'error' }, `${errorText(error)} The page tries again every 10 s.`));
      },
    };
    const fleet = fleetView(ctx, kiosks);
    const lasting = new Map<string, View>([['#/fleet', fleet]]);
    const makers: Record<string, () => View> = { '#/settings': () => settingsView(ctx), '#/enrolment': () => enrolmentView(ctx), '#/audit': () => auditView(ctx) };
    let kiosk: { id: string; view: View } | null = null;
    let current: View | null = null;

    const route = (): void => {
      const hash = location.hash || '#/fleet';
      const kioskId = /^#\/kiosks\/([\w-]{1,64})$/.exec(hash)?.[1];
      let next: View;
      if (kioskId) {
        if (kiosk?.id !== kioskId) {
          kiosk?.view.dispose();
          kiosk?.view.element.remove();
          kiosk = { id: kioskId, view: kioskView(ctx, kioskId) };
          views.append(kiosk.view.element);
        }
        next = kiosk.view;
      } else {
        const place = (makers[hash] || hash === '#/fleet') ? hash : '#/fleet';
        let view = lasting.get(place);
        if (!view) {
          view = makers[place]!();
          lasting.set(place, view);
          views.append(view.element);
        }
        next = view;
        // A kiosk's page is left for good: it stops rereading, and opens fresh next time.
        if (kiosk) {
          kiosk.view.dispose();
          kiosk.view.element.remove();
          kiosk = null;
        }
      }
      for (const link of nav.querySelectorAll('a')) link.classList.toggle('active', link.getAttribute('href') === (kioskId ? '#/fleet' : hash));
      if (current !== next) current?.hide();
      current = next;
      next.show();
    };

    views.append(fleet.element);
    fleet.element.hidden = true;
    const leave = (notice: SignInNotice | null): void => {
      window.removeEventListener('hashchange', route);
      for (const view of lasting.values()) view.dispose();
      kiosk?.view.dispose();
      history.replaceState(null, '', location.pathname);
      signIn(notice);
    };
    api.onSessionEnded = () => leave({ kind: 'error', text: SESSION_ENDED });
    signOut.addEventListener('click', () => {
      api.onSessionEnded = () => undefined;
      void api.signOut();
      leave({ kind: 'notice', text: 'Signed out.' });
    });
    window.addEventListener('hashchange', route);
    route();
  };

  signIn(null);
}

void start();
