/**
 * Which remote-desktop protocol a kiosk uses for a desktop. One table, one function, used by the
 * controller (to recommend) and by the kiosk (to decide, knowing its own OS).
 *
 *   guest \ client   linux    windows
 *   windows          rdp      rdp       (Windows speaks RDP natively, with sound and USB)
 *   linux            spice    vnc       (SPICE brings USB redirection and audio to Linux kiosks)
 *   other/unknown    vnc      vnc       (every hypervisor console offers VNC)
 *
 * An administrator's per-desktop override wins; if the preferred protocol is not available for
 * this desktop, the first available one in the fallback order is used.
 */
import type { OsFamily, Protocol } from './api.js';

export type ClientFamily = 'linux' | 'windows';

const TABLE: Record<OsFamily, Record<ClientFamily, Protocol>> = {
  windows: { linux: 'rdp', windows: 'rdp' },
  linux: { linux: 'spice', windows: 'vnc' },
  other: { linux: 'vnc', windows: 'vnc' },
};
const FALLBACK_ORDER: readonly Protocol[] = ['vnc', 'spice', 'rdp'];

export interface ProtocolChoiceInput {
  guest: OsFamily;
  client: ClientFamily;
  override: Protocol | null;
  available: readonly Protocol[];
}

export function chooseProtocol({ guest, client, override, available }: ProtocolChoiceInput): Protocol | null {
  const preferred = override ?? TABLE[guest][client];
  if (available.includes(preferred)) return preferred;
  return FALLBACK_ORDER.find((p) => available.includes(p)) ?? null;
}
