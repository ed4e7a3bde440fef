/** An inventory entry + which of its servers answer → the Desktop the kiosk shows. Pure, so it is unit-tested. */
import { isIP } from 'node:net';
import type { Desktop, Protocol } from '../contract/api.js';
import { chooseProtocol } from '../contract/protocol.js';
import type { InventoryDesktop } from './static-inventory.js';

/** The order protocols are listed in, as the OpenStack backend does (consoles first, then RDP). */
const ORDER: readonly Protocol[] = ['vnc', 'spice', 'rdp'];

export function configuredProtocols(entry: InventoryDesktop): Protocol[] {
  return ORDER.filter((p) => entry.endpoints[p]);
}

/**
 * A static desktop is "running" when one of its remote-desktop servers accepts connections; that is
 * all the controller can know about a machine it does not manage. While some answer, only those are
 * offered; when none does, all configured ones are listed, so the kiosk still shows how it would connect.
 */
export function toStaticDesktop(entry: InventoryDesktop, answering: ReadonlySet<Protocol>): Desktop {
  const configured = configuredProtocols(entry);
  const up = configured.some((p) => answering.has(p));
  const protocols = up ? configured.filter((p) => answering.has(p)) : configured;
  return {
    id: entry.id,
    name: entry.name,
    status: up ? 'ACTIVE' : 'SHUTOFF',
    powerState: up ? 'running' : 'shutdown',
    task: null,
    fault: up ? null : `${entry.name} does not answer (${configured.map((p) => `${p.toUpperCase()} at ${endpointText(entry, p)}`).join(', ')}). It may be switched off; ask your administrator to start it.`,
    guestOs: { family: entry.guestOs.family, distro: entry.guestOs.distro, version: entry.guestOs.version },
    addresses: entry.addresses.map((a) => ({ ip: a.ip, version: isIP(a.ip) === 6 ? 6 : 4, mac: a.mac, network: a.network, kind: a.kind })),
    protocols,
    recommendedProtocol: chooseProtocol({ guest: entry.guestOs.family, client: 'linux', override: entry.protocolOverride, available: protocols }),
    policy: { protocolOverride: entry.protocolOverride, usbRedirection: entry.usbRedirection },
    powerControl: false,
  };
}

export function endpointText(entry: InventoryDesktop, protocol: Protocol): string {
  const e = entry.endpoints[protocol];
  return e ? `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}` : 'nowhere';
}
