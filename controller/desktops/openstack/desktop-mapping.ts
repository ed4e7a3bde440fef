/** Nova server + Glance's word on its OS → the Desktop the kiosk shows. Pure, so it is unit-tested. */
import type { Address, Desktop, GuestOs, PowerState, Protocol } from '../../../contract/api.js';
import { Protocol as ProtocolSchema } from '../../../contract/api.js';
import { chooseProtocol } from '../../../contract/protocol.js';
import type { GlanceImage } from './glance.js';
import type { NovaServer } from './nova.js';

/**
 * Flavor extra specs an administrator sets per kind of desktop. Only administrators can write a
 * flavor's extra specs (Nova's default policy), and a server keeps the extra specs of the flavor it
 * was booted or resized with; a project member can set a colleague's server *metadata*, so these
 * settings — which decide where a password goes and whether USB devices are passed on — are never
 * read from metadata.
 */
export const SPEC = {
  protocol: 'thinkiosk:protocol',
  usb: 'thinkiosk:usb',
  rdpPort: 'thinkiosk:rdp_port',
} as const;
/** Server metadata keys of older releases, ignored (and logged) now. */
export const IGNORED_METADATA = /^thinkiosk:/;

export interface DesktopSettings {
  protocolOverride: Protocol | null;
  usbRedirection: boolean;
  rdpPort: number | null;
}

/** The administrator's settings for this server, from its flavor's extra specs (README "Per-desktop policy"). */
export function desktopPolicyOf(server: NovaServer): DesktopSettings {
  const specs = server.flavor?.extra_specs ?? {};
  const protocol = ProtocolSchema.safeParse(specs[SPEC.protocol]?.toLowerCase());
  const port = Number(specs[SPEC.rdpPort]);
  return {
    protocolOverride: protocol.success ? protocol.data : null,
    usbRedirection: specs[SPEC.usb]?.toLowerCase() !== 'false',
    rdpPort: Number.isInteger(port) && port > 0 && port < 65536 ? port : null,
  };
}

// Nova's power_state codes (nova/compute/power_state.py).
const POWER: Record<number, PowerState> = { 0: 'unknown', 1: 'running', 3: 'paused', 4: 'shutdown', 6: 'crashed', 7: 'suspended' };

export const UNKNOWN_OS: GuestOs = { family: 'other', distro: null, version: null };

export function guestOsOf(image: GlanceImage | null): GuestOs {
  if (!image) return UNKNOWN_OS;
  const type = image.os_type?.toLowerCase();
  const distro = image.os_distro?.toLowerCase() ?? null;
  // os_type is the documented key; fall back on os_distro ("windows", "ubuntu", ...) when absent.
  const family = type === 'windows' || distro === 'windows' ? 'windows' : type === 'linux' || (distro && distro !== 'windows') ? 'linux' : 'other';
  return { family, distro, version: image.os_version ?? null };
}

export function addressesOf(server: NovaServer): Address[] {
  const out: Address[] = [];
  for (const [network, entries] of Object.entries(server.addresses)) {
    for (const entry of entries) {
      out.push({
        ip: entry.addr,
        version: entry.version === 6 ? 6 : 4,
        mac: entry['OS-EXT-IPS-MAC:mac_addr'] ?? null,
        network,
        kind: entry['OS-EXT-IPS:type'] === 'floating' ? 'floating' : 'fixed',
      });
    }
  }
  return out;
}

export interface MappingOptions {
  consoleProtocols: readonly Protocol[];
}

export function toDesktop(server: NovaServer, guestOs: GuestOs, options: MappingOptions): Desktop {
  const settings = desktopPolicyOf(server);
  const override = settings.protocolOverride;
  const addresses = addressesOf(server);
  const rdpReachable = addresses.length > 0;
  const rdpWanted = guestOs.family === 'windows' || override === 'rdp';
  const protocols: Protocol[] = [...options.consoleProtocols];
  if (rdpWanted && rdpReachable) protocols.push('rdp');
  return {
    id: server.id,
    name: server.name,
    status: server.status,
    powerState: POWER[server['OS-EXT-STS:power_state'] ?? 0] ?? 'unknown',
    task: server['OS-EXT-STS:task_state'] ?? null,
    fault: server.status === 'ERROR' ? (server.fault?.message ?? 'The cloud reported an error for this desktop.') : null,
    guestOs,
    addresses,
    protocols,
    recommendedProtocol: chooseProtocol({ guest: guestOs.family, client: 'linux', override, available: protocols }),
    policy: { protocolOverride: override, usbRedirection: settings.usbRedirection },
    powerControl: true,
  };
}
