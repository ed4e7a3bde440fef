/** An inventory entry + which of its servers answer → the Desktop the kiosk shows. Pure, so it is unit-tested. */
import { isIP } from 'node:net';
import type { Desktop, Protocol } from '../../../contract/api.js';
import { chooseProtocol } from '../../../contract/protocol.js';
import type { EndpointStatus } from './reachability.js';
import type { InventoryDesktop } from './static-inventory.js';

/** The order protocols are listed in, as the OpenStack backend does (consoles first, then RDP). */
const ORDER: readonly Protocol[] = ['vnc', 'spice', 'rdp'];

export function configuredProtocols(entry: InventoryDesktop): Protocol[] {
  return ORDER.filter((p) => entry.endpoints[p]);
}

/**
 * A static desktop is "running" when one of its remote-desktop servers answered the controller
 * recently; that is all it can know about a machine it does not manage. What each server's state
 * means (reachability.ts): up → offered; unknown (not asked recently, or cannot be asked politely)
 * → offered too, the kiosk may try; down → not offered while another answers; refusing (e.g. a VNC
 * server blacklisting the controller for now) → said in the fault. With none up the desktop is
 * UNKNOWN while any state is unknown or refusing, and SHUTOFF only when every server is down.
 */
export function toStaticDesktop(entry: InventoryDesktop, states: ReadonlyMap<Protocol, EndpointStatus>): Desktop {
  const configured = configuredProtocols(entry);
  const stateOf = (p: Protocol): EndpointStatus => states.get(p) ?? { state: 'unknown', reason: null };
  const up = configured.filter((p) => stateOf(p).state === 'up');
  const unknown = configured.filter((p) => stateOf(p).state === 'unknown');
  const refusing = configured.filter((p) => stateOf(p).state === 'refusing');
  const status = up.length ? 'ACTIVE' : unknown.length || refusing.length ? 'UNKNOWN' : 'SHUTOFF';
  // Offered: what answered or may answer; when nothing can, everything configured, so the kiosk still shows how it would connect.
  const offered = configured.filter((p) => up.includes(p) || unknown.includes(p) || (!up.length && !unknown.length));
  const refusals = refusing.map((p) => `${p.toUpperCase()}: ${stateOf(p).reason ?? 'refused'}`);
  const fault = status === 'SHUTOFF'
    ? `${entry.name} does not answer (${configured.map((p) => `${p.toUpperCase()} at ${endpointText(entry, p)}`).join(', ')}). It may be switched off; ask your administrator to start it.`
    : refusals.length && !up.length
      ? `${entry.name} refuses connections from the controller for now (${refusals.join('; ')}). This usually lifts by itself within minutes; if not, tell your administrator.`
      : null;
  return {
    id: entry.id,
    name: entry.name,
    status,
    powerState: status === 'ACTIVE' ? 'running' : status === 'SHUTOFF' ? 'shutdown' : 'unknown',
    task: null,
    fault,
    guestOs: { family: entry.guestOs.family, distro: entry.guestOs.distro, version: entry.guestOs.version },
    addresses: entry.addresses.map((a) => ({ ip: a.ip, version: isIP(a.ip) === 6 ? 6 : 4, mac: a.mac, network: a.network, kind: a.kind })),
    protocols: offered,
    recommendedProtocol: chooseProtocol({ guest: entry.guestOs.family, client: 'linux', override: entry.protocolOverride, available: offered }),
    policy: { protocolOverride: entry.protocolOverride, usbRedirection: entry.usbRedirection },
    powerControl: false,
  };
}

export function endpointText(entry: InventoryDesktop, protocol: Protocol): string {
  const e = entry.endpoints[protocol];
  return e ? `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}` : 'nowhere';
}
