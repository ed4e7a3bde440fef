/**
 * Floating IPs for direct (RDP) connections: attach one from the configured pool when a desktop has
 * none, give it back when the desktop is stopped through the shim. Never takes an address that is
 * associated with anything: only unassociated ones are reused, and every change is a
 * compare-and-swap on Neutron's revision number, so two kiosks racing cannot both win.
 */
import type { NeutronClient, FloatingIp } from './neutron.js';
import { OpenStackError } from './errors.js';

/** Descriptions mark what the shim did, so it only ever undoes its own work. */
const CREATED = 'thinkiosk: allocated for a desktop connection';
const ATTACHED = 'thinkiosk: attached for a desktop connection';

export interface AccessContext { endpoint: string; token: string }

export class FloatingIpManager {
  constructor(private readonly neutron: NeutronClient, private readonly poolName: string) {}

  /** The desktop's floating IP, attaching one if it has none; null when it has no port to attach to. */
  async ensure(ctx: AccessContext, serverId: string): Promise<{ ip: string; attached: boolean } | null> {
    const ports = await this.neutron.portsOfServer(ctx.endpoint, ctx.token, serverId);
    for (const port of ports) {
      const existing = await this.neutron.floatingIps(ctx.endpoint, ctx.token, { port_id: port.id });
      if (existing[0]) return { ip: existing[0].floating_ip_address, attached: false };
    }
    const port = ports.find((p) => p.fixed_ips.length > 0);
    if (!port) return null;
    const pool = await this.neutron.externalNetworkByName(ctx.endpoint, ctx.token, this.poolName);
    if (!pool) throw new OpenStackError('neutron', 'not-found', 404, `floating IP pool "${this.poolName}" does not exist or is not external`);
    const free = (await this.neutron.floatingIps(ctx.endpoint, ctx.token, { floating_network_id: pool })).filter((f) => f.port_id === null);
    for (const candidate of free) {
      try {
        const fip = await this.neutron.updateFloatingIp(ctx.endpoint, ctx.token, candidate, { port_id: port.id, description: ATTACHED });
        return { ip: fip.floating_ip_address, attached: true };
      } catch (error) {
        // 412: someone changed it since we listed it; 409: it was just associated elsewhere. Next one.
        if (error instanceof OpenStackError && (error.kind === 'precondition-failed' || error.kind === 'conflict')) continue;
        throw error;
      }
    }
    const fip = await this.neutron.createFloatingIp(ctx.endpoint, ctx.token, { floating_network_id: pool, port_id: port.id, description: CREATED });
    return { ip: fip.floating_ip_address, attached: true };
  }

  /** Give back what the shim attached to this desktop; addresses an admin attached stay. */
  async release(ctx: AccessContext, serverId: string): Promise<string[]> {
    const released: string[] = [];
    for (const port of await this.neutron.portsOfServer(ctx.endpoint, ctx.token, serverId)) {
      for (const fip of await this.neutron.floatingIps(ctx.endpoint, ctx.token, { port_id: port.id })) {
        if (fip.description === CREATED) {
          await this.neutron.deleteFloatingIp(ctx.endpoint, ctx.token, fip.id);
        } else if (fip.description === ATTACHED) {
          await this.neutron.updateFloatingIp(ctx.endpoint, ctx.token, fip as FloatingIp, { port_id: null, description: '' });
        } else {
          continue;
        }
        released.push(fip.floating_ip_address);
      }
    }
    return released;
  }
}
