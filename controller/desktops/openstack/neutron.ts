/** Neutron v2.0: ports of a server and floating IPs. */
import { z } from 'zod';
import type { OpenStackHttp } from './http.js';

const Port = z.object({
  id: z.string(),
  network_id: z.string(),
  mac_address: z.string(),
  fixed_ips: z.array(z.object({ ip_address: z.string(), subnet_id: z.string() })),
});
export type Port = z.infer<typeof Port>;
const FloatingIp = z.object({
  id: z.string(),
  floating_ip_address: z.string(),
  floating_network_id: z.string(),
  port_id: z.string().nullable(),
  description: z.string().nullish(),
  revision_number: z.number().optional(),
});
export type FloatingIp = z.infer<typeof FloatingIp>;
const Network = z.object({ id: z.string(), name: z.string(), 'router:external': z.boolean().optional() });
const Empty = z.unknown();

export class NeutronClient {
  constructor(private readonly http: OpenStackHttp) {}

  async portsOfServer(endpoint: string, token: string, serverId: string): Promise<Port[]> {
    const url = `${endpoint}/v2.0/ports?${new URLSearchParams({ device_id: serverId })}`;
    return (await this.http.request('neutron', url, { token, schema: z.object({ ports: z.array(Port) }) })).body.ports;
  }

  async floatingIps(endpoint: string, token: string, filter: { port_id?: string; floating_network_id?: string }): Promise<FloatingIp[]> {
    const url = `${endpoint}/v2.0/floatingips?${new URLSearchParams(filter)}`;
    return (await this.http.request('neutron', url, { token, schema: z.object({ floatingips: z.array(FloatingIp) }) })).body.floatingips;
  }

  async externalNetworkByName(endpoint: string, token: string, name: string): Promise<string | null> {
    const url = `${endpoint}/v2.0/networks?${new URLSearchParams({ name, 'router:external': 'true' })}`;
    const networks = (await this.http.request('neutron', url, { token, schema: z.object({ networks: z.array(Network) }) })).body.networks;
    return networks[0]?.id ?? null;
  }

  async createFloatingIp(endpoint: string, token: string, body: { floating_network_id: string; port_id: string; description: string }): Promise<FloatingIp> {
    return (await this.http.request('neutron', `${endpoint}/v2.0/floatingips`, {
      method: 'POST', token, json: { floatingip: body }, schema: z.object({ floatingip: FloatingIp }),
    })).body.floatingip;
  }

  /**
   * Change a floating IP only if nobody changed it since we read it (Neutron's `If-Match:
   * revision_number=N`): a 412 means another kiosk or user got there first.
   */
  async updateFloatingIp(endpoint: string, token: string, fip: FloatingIp, change: { port_id: string | null; description: string }): Promise<FloatingIp> {
    const headers: Record<string, string> = fip.revision_number === undefined ? {} : { 'If-Match': `revision_number=${fip.revision_number}` };
    return (await this.http.request('neutron', `${endpoint}/v2.0/floatingips/${encodeURIComponent(fip.id)}`, {
      method: 'PUT', token, headers, json: { floatingip: change }, schema: z.object({ floatingip: FloatingIp }),
    })).body.floatingip;
  }

  async deleteFloatingIp(endpoint: string, token: string, id: string): Promise<void> {
    await this.http.request('neutron', `${endpoint}/v2.0/floatingips/${encodeURIComponent(id)}`, { method: 'DELETE', token, schema: Empty });
  }
}
