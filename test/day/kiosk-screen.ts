/**
 * A person at the kiosk, through the real page in Chromium: what they can read on the screen right
 * now, and the few things they do (log in, refresh, connect, disconnect, log out, wait). Every
 * attempt ends in what the person saw — the desktop's known picture, or a sentence — never in an
 * exception, so one bad moment of the day is counted and the day goes on.
 */
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { checkQuadPattern } from '../support/pattern.js';
import { screenshotX } from '../support/x-screenshot.js';

export type PictureCheck = (png: Buffer) => { ok: boolean; detail: string };

/** At least `share` of the image is this colour (±40 per channel): a desktop painted one colour. */
export function mostlyColour(rgb: readonly [number, number, number], share = 0.6): PictureCheck {
  return (png) => {
    const image = PNG.sync.read(png);
    let hits = 0;
    for (let i = 0; i < image.data.length; i += 4) {
      if (Math.abs(image.data[i]! - rgb[0]) <= 40 && Math.abs(image.data[i + 1]! - rgb[1]) <= 40 && Math.abs(image.data[i + 2]! - rgb[2]) <= 40) hits += 1;
    }
    const got = hits / (image.width * image.height);
    return { ok: got >= share, detail: `${(got * 100).toFixed(0)}% of the viewer is rgb(${rgb.join(',')})` };
  };
}

export interface ListRow { status: string; connectable: boolean }

/** Shown as on, or as not known lately (static desktops the controller has not checked): either way Connect is offered. */
export function offered(row: ListRow | undefined): boolean {
  return row !== undefined && row.connectable && (row.status === 'ACTIVE' || row.status === 'UNKNOWN');
}

/** What the page shows, read in one go from the DOM. */
export interface ScreenState {
  view: string;
  /** In-app viewer: true once noVNC / spice-html5 reported connected. */
  viewerConnected: boolean;
  /** A native viewer runs and the page says so. */
  nativeRunning: boolean;
  /** An error box: its kind and sentence. */
  error: { kind: string; text: string } | null;
  /** "The connection to … was lost." */
  lost: string | null;
  /** A notice (e.g. the idle-logout sentence on the login screen). */
  notice: string | null;
  reconnect: boolean;
}

export async function readScreen(page: Page): Promise<ScreenState> {
  return page.evaluate(() => {
    const q = (selector: string): HTMLElement | null => document.querySelector(selector);
    const error = q('[data-testid=error]');
    return {
      view: document.body.dataset.view ?? '',
      viewerConnected: q('[data-testid=viewer]')?.dataset.connected === 'true',
      nativeRunning: q('[data-testid=native-running]') !== null,
      error: error ? { kind: error.dataset.kind ?? '', text: (error.textContent ?? '').trim() } : null,
      lost: q('[data-testid=session-lost]')?.textContent?.trim() ?? null,
      notice: q('[data-testid=notice]')?.textContent?.trim() ?? null,
      reconnect: q('[data-testid=reconnect]') !== null,
    };
  });
}

/** What a person saw after one action: the thing worked, or a cause with the sentence shown. */
export interface Seen {
  works: boolean;
  /** 'works', an error kind ('unreachable', 'not-ready', ...), 'connection-lost', 'wrong-picture' or 'nothing-shown'. */
  cause: string;
  sentence: string;
  ms: number;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function failure(state: ScreenState): { cause: string; sentence: string } | null {
  if (state.error) return { cause: state.error.kind || 'error', sentence: state.error.text };
  if (state.lost) return { cause: 'connection-lost', sentence: state.lost };
  return null;
}

export class KioskScreen {
  constructor(readonly page: Page, private readonly display: string) {}

  read(): Promise<ScreenState> {
    return readScreen(this.page);
  }

  /** Polls the page until `until` says what happened, or the time is up (then: nothing-shown). */
  private async watch(until: (s: ScreenState) => Promise<Seen | null> | Seen | null, timeoutMs: number, t0 = Date.now()): Promise<Seen> {
    let last: ScreenState | null = null;
    while (Date.now() - t0 < timeoutMs) {
      last = await this.read();
      const seen = await until(last);
      if (seen) return seen;
      await pause(250);
    }
    return { works: false, cause: 'nothing-shown', sentence: last ? `after ${timeoutMs / 1000} s the ${last.view} screen still showed nothing conclusive` : 'no screen', ms: Date.now() - t0 };
  }

  async login(user: string, password: string): Promise<Seen> {
    const t0 = Date.now();
    await this.page.getByTestId('login-screen').waitFor({ timeout: 15_000 });
    await this.page.getByTestId('username').fill(user);
    await this.page.getByTestId('password').fill(password);
    await this.page.getByTestId('login-submit').click();
    return this.watch((s) => {
      if (s.view === 'desktops') return { works: true, cause: 'works', sentence: '', ms: Date.now() - t0 };
      const f = failure(s);
      return f ? { works: false, ...f, ms: Date.now() - t0 } : null;
    }, 30_000, t0);
  }

  /** The list as shown: desktop id → its status (ACTIVE, SHUTOFF, UNKNOWN...) and whether Connect can be clicked; or the list's error. */
  async list(): Promise<{ rows: Map<string, ListRow>; error: { kind: string; text: string } | null }> {
    const raw = await this.page.evaluate(() => ({
      rows: [...document.querySelectorAll<HTMLElement>('[data-testid=desktop]')].map((r) => [r.dataset.desktopId ?? '', {
        status: r.dataset.status ?? '',
        connectable: !(r.querySelector<HTMLButtonElement>('[data-testid=connect]')?.disabled ?? true),
      }] as [string, { status: string; connectable: boolean }]),
      error: (() => {
        const e = document.querySelector<HTMLElement>('[data-testid=desktop-list] [data-testid=error]');
        return e ? { kind: e.dataset.kind ?? '', text: (e.textContent ?? '').trim() } : null;
      })(),
    }));
    return { rows: new Map(raw.rows), error: raw.error };
  }

  /** Clicks Refresh (or Retry, when the list shows an error) and waits until the list is drawn again. */
  async refresh(): Promise<Seen> {
    const t0 = Date.now();
    const list = this.page.getByTestId('desktop-list');
    const marker = await list.evaluate((el) => {
      const mark = String(Math.random());
      (el.firstElementChild as HTMLElement | null)?.setAttribute('data-day-mark', mark);
      return mark;
    });
    const retry = this.page.getByTestId('retry');
    await ((await retry.count()) > 0 ? retry : this.page.getByTestId('refresh')).click();
    return this.watch(async () => {
      const redrawn = await list.evaluate((el, mark) => (el.firstElementChild as HTMLElement | null)?.getAttribute('data-day-mark') !== mark, marker);
      if (!redrawn) return null;
      const { error } = await this.list();
      return error ? { works: false, cause: error.kind, sentence: error.text, ms: Date.now() - t0 } : { works: true, cause: 'works', sentence: '', ms: Date.now() - t0 };
    }, 40_000, t0);
  }

  /** Waits until the list is drawn (after login or Back) and returns it. */
  async waitForList(): Promise<Seen> {
    const t0 = Date.now();
    return this.watch(async (s) => {
      if (s.view !== 'desktops') return null;
      const { rows, error } = await this.list();
      if (error) return { works: false, cause: error.kind, sentence: error.text, ms: Date.now() - t0 };
      return rows.size > 0 ? { works: true, cause: 'works', sentence: '', ms: Date.now() - t0 } : null;
    }, 40_000, t0);
  }

  async clickConnect(desktopId: string, protocol?: string): Promise<void> {
    const row = this.page.locator(`[data-testid=desktop][data-desktop-id="${desktopId}"]`);
    if (protocol) await row.getByTestId('protocol-choice').selectOption(protocol);
    await row.getByTestId('connect').click({ timeout: 10_000 });
  }

  /**
   * After Connect (or Reconnect) on an in-page desktop: the known picture in the viewer, or the
   * sentence the page shows instead. `picture` false: any lit desktop counts (an OpenStack guest's console).
   */
  async inPageOutcome(picture: 'pattern' | PictureCheck = 'pattern', options: { timeoutMs?: number; pictureWithinMs?: number; wake?: () => Promise<void> } = {}): Promise<Seen> {
    const t0 = Date.now();
    const check = picture === 'pattern' ? checkQuadPattern : picture;
    const pictureWithinMs = options.pictureWithinMs ?? 15_000;
    let lastDetail = '';
    let connectedAt = 0;
    let wokenAt = 0;
    return this.watch(async (s) => {
      const f = failure(s);
      if (f) return { works: false, ...f, ms: Date.now() - t0 };
      if (!s.viewerConnected) return null;
      connectedAt ||= Date.now();
      // A console that sleeps (a guest's blanked text screen) is woken now and again until it draws.
      if (options.wake && Date.now() - wokenAt > 8000) {
        wokenAt = Date.now();
        await options.wake();
      }
      const result = check(await this.page.getByTestId('viewer').screenshot({ timeout: 10_000 }));
      if (result.ok) return { works: true, cause: 'works', sentence: '', ms: Date.now() - t0 };
      lastDetail = result.detail;
      // Connected, but the desktop's picture never came: that is a failure the person sees too.
      if (Date.now() - connectedAt > pictureWithinMs) return { works: false, cause: 'wrong-picture', sentence: lastDetail, ms: Date.now() - t0 };
      return null;
    }, options.timeoutMs ?? 40_000, t0);
  }

  /** After Connect on a native desktop: the viewer runs and the known picture is on the kiosk's screen. */
  async nativeOutcome(timeoutMs = 60_000): Promise<Seen> {
    const t0 = Date.now();
    let runningAt = 0;
    let lastDetail = '';
    return this.watch(async (s) => {
      const f = failure(s);
      if (f) return { works: false, ...f, ms: Date.now() - t0 };
      if (!s.nativeRunning) return null;
      runningAt ||= Date.now();
      const png = await this.screenshotDisplay();
      const result = png ? checkQuadPattern(png) : { ok: false, detail: 'no screenshot of the kiosk screen' };
      if (result.ok) return { works: true, cause: 'works', sentence: '', ms: Date.now() - t0 };
      lastDetail = result.detail;
      if (Date.now() - runningAt > 20_000) return { works: false, cause: 'wrong-picture', sentence: lastDetail, ms: Date.now() - t0 };
      return null;
    }, timeoutMs, t0);
  }

  /** The kiosk's X screen, where native viewers draw. */
  async screenshotDisplay(): Promise<Buffer | null> {
    try {
      return await screenshotX(this.display, { timeoutMs: 15_000, attempts: 1 });
    } catch {
      return null;
    }
  }

  /** Back to the list from wherever the session screen is: hot-key bar, native Disconnect, or Back. */
  async leaveSession(): Promise<Seen> {
    const t0 = Date.now();
    const s = await this.read();
    if (s.view === 'session') {
      if (s.reconnect) await this.page.getByTestId('back').click();
      else if (s.nativeRunning) await this.page.getByTestId('native-disconnect').click();
      else {
        await this.page.keyboard.press('Control+Alt+Home');
        await this.page.getByTestId('bar-disconnect').click();
      }
    }
    return this.watch((now) => (now.view === 'desktops' ? { works: true, cause: 'works', sentence: '', ms: Date.now() - t0 } : null), 20_000, t0);
  }

  /** In a session that is expected to end: the sentence the page shows, or nothing-shown when it stays silent. */
  async waitForDrop(timeoutMs = 20_000): Promise<Seen> {
    const t0 = Date.now();
    return this.watch((s) => {
      const f = failure(s);
      return f ? { works: false, ...f, ms: Date.now() - t0 } : null;
    }, timeoutMs, t0);
  }

  /**
   * After an outage under a session: works when the session is live — `check` passes on the viewer
   * (a picture the desktop shows only now), or, without a check, it is still connected with the known
   * picture after 10 s — or the sentence the page shows; nothing-shown means a frozen screen.
   */
  async liveOrSentence(check: PictureCheck | undefined, timeoutMs: number): Promise<Seen> {
    const t0 = Date.now();
    const seen = await this.watch(async (s) => {
      const f = failure(s);
      if (f) return { works: false, ...f, ms: Date.now() - t0 };
      if (!s.viewerConnected || (!check && Date.now() - t0 < 10_000)) return null;
      const result = (check ?? checkQuadPattern)(await this.page.getByTestId('viewer').screenshot({ timeout: 10_000 }));
      return result.ok ? { works: true, cause: 'works', sentence: '', ms: Date.now() - t0 } : null;
    }, timeoutMs, t0);
    if (seen.cause === 'nothing-shown') seen.sentence = `within ${timeoutMs / 1000} s the session neither showed the desktop as it is now nor said it was lost (a frozen screen)`;
    return seen;
  }

  async reconnect(): Promise<void> {
    await this.page.getByTestId('reconnect').click({ timeout: 10_000 });
  }

  /** Log out from the list; the next person's login screen must be empty. */
  async logout(): Promise<Seen> {
    const t0 = Date.now();
    await this.page.getByTestId('logout').click();
    const seen = await this.watch((s) => (s.view === 'login' ? { works: true, cause: 'works', sentence: '', ms: Date.now() - t0 } : null), 20_000, t0);
    if (!seen.works) return seen;
    return this.loginScreenIsEmpty(t0);
  }

  async loginScreenIsEmpty(t0 = Date.now()): Promise<Seen> {
    await this.page.getByTestId('login-screen').waitFor({ timeout: 10_000 });
    const [user, password] = [await this.page.getByTestId('username').inputValue(), await this.page.getByTestId('password').inputValue()];
    if (user || password) return { works: false, cause: 'login-not-empty', sentence: `the next person finds user "${user}" and ${password ? 'a password' : 'no password'} filled in`, ms: Date.now() - t0 };
    return { works: true, cause: 'works', sentence: '', ms: Date.now() - t0 };
  }

  /**
   * Someone working in the desktop: the pointer moves and a key (Shift, harmless anywhere) is
   * pressed now and then. Keys go to the desktop and count as activity for idle logout.
   */
  async fidget(forMs: number): Promise<void> {
    const deadline = Date.now() + forMs;
    let i = 0;
    while (Date.now() < deadline) {
      await this.page.mouse.move(300 + (i % 5) * 40, 300 + (i % 3) * 30).catch(() => undefined);
      await this.page.keyboard.press('Shift').catch(() => undefined);
      i += 1;
      await pause(1500);
    }
  }
}
