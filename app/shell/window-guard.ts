/**
 * Keeps the kiosk's Chromium to one tab, the kiosk page. Chromium's own keys still work in kiosk
 * mode: Ctrl+N opened a full browser window (address bar, "Sign in to Chromium?") over the kiosk,
 * Ctrl+T a new tab, Ctrl+H the history. Every tab or window other than the kiosk page is closed as
 * soon as Chromium reports it (and the URL allow-list in the profile already blocks what it would
 * show); downloads are denied. When the kiosk tab itself is closed or leaves the kiosk's origin,
 * the shell is told, and starts Chromium afresh.
 */
import type { CdpPipe } from './cdp-pipe.js';

interface TargetInfo { targetId: string; type: string; url: string }

export interface WindowGuardEvents {
  /** Something else opened (a tab, a window, a page): it has been closed. */
  closed(url: string): void;
  /** The kiosk tab is gone or shows something else: the kiosk needs a new Chromium. */
  kioskTabLost(why: string): void;
}

export async function guardWindows(cdp: CdpPipe, origin: string, events: WindowGuardEvents): Promise<void> {
  let kioskTab: string | null = null;
  const closing = new Set<string>();
  // Before the page has loaded, the kiosk tab is blank; after that, only the kiosk's own origin.
  const isKioskUrl = (url: string): boolean => {
    try {
      return new URL(url).origin === origin;
    } catch {
      return false;
    }
  };
  const isBlank = (url: string): boolean => url === '' || url === 'about:blank';
  const consider = (target: TargetInfo): void => {
    if (target.type !== 'page' || target.targetId === kioskTab || closing.has(target.targetId)) return;
    if (kioskTab === null && (isKioskUrl(target.url) || isBlank(target.url))) {
      kioskTab = target.targetId;
      return;
    }
    closing.add(target.targetId);
    cdp.send('Target.closeTarget', { targetId: target.targetId }).catch(() => undefined);
    events.closed(target.url);
  };
  cdp.on<{ targetInfo: TargetInfo }>('Target.targetCreated', ({ targetInfo }) => consider(targetInfo));
  cdp.on<{ targetInfo: TargetInfo }>('Target.targetInfoChanged', ({ targetInfo }) => {
    if (targetInfo.targetId !== kioskTab) return consider(targetInfo);
    if (!isKioskUrl(targetInfo.url) && !isBlank(targetInfo.url)) events.kioskTabLost(`the kiosk tab went to ${targetInfo.url.slice(0, 120)}`);
  });
  cdp.on<{ targetId: string }>('Target.targetDestroyed', ({ targetId }) => {
    closing.delete(targetId);
    if (targetId === kioskTab) events.kioskTabLost('the kiosk tab was closed');
  });
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'deny' });
  await cdp.send('Target.setDiscoverTargets', { discover: true });
}
