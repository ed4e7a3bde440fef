/**
 * What the fleet's administrator does to this kiosk, shown to whoever stands in front of it, over
 * any screen: its name, big and flashing, when asked which kiosk this is (identify), and a notice
 * that a picture of the screen was taken (screenshot) — a person must know. Neither takes input
 * away: clicks and keys go through to the screen underneath.
 */
import type { KioskEvent } from '../core/kiosk-api.js';
import { h } from './dom.js';
import { t } from './i18n.js';

export function showFleetNotices(onEvent: (listener: (event: KioskEvent) => void) => () => void): void {
  const layer = h('div', { class: 'fleet-layer', 'data-testid': 'fleet-layer' });
  document.body.append(layer);
  onEvent((event) => {
    if (event.type === 'identify') {
      show(layer, h('div', { class: 'fleet-identify', role: 'status', 'data-testid': 'fleet-identify' },
        h('p', { class: 'fleet-identify-label' }, t('fleet.identify')),
        h('p', { class: 'fleet-identify-name' }, event.name)), event.seconds);
    } else if (event.type === 'screenshot-taken') {
      show(layer, h('div', { class: 'fleet-screenshot', role: 'status', 'data-testid': 'fleet-screenshot' }, t('fleet.screenshot')), event.seconds);
    }
  });
}

function show(layer: HTMLElement, notice: HTMLElement, seconds: number): void {
  layer.append(notice);
  setTimeout(() => notice.remove(), Math.max(1, seconds) * 1000);
}
