/**
 * Nova (compute) with a pinned microversion: 2.83 is the first that lets a non-admin filter the
 * server list by user_id (older versions silently ignore the filter and show the whole project).
 */
import { z } from 'zod';
import type { OpenStackHttp } from './http.js';

export const NOVA_MICROVERSION = '2.83';

const NovaAddress = z.object({
  addr: z.string(),
  version: z.number(),
  'OS-EXT-IPS:type': z.string().optional(),
  'OS-EXT-IPS-MAC:mac_addr': z.string().optional(),
});
export const NovaServer = z.object({
  id: z.string(),
  name: z.string(),
  status: z.string(),
  user_id: z.string(),
  metadata: z.record(z.string(), z.string()).default({}),
  // A server booted from a volume has image "" instead of an object.
  image: z.union([z.object({ id: z.string() }), z.literal('')]).nullish(),
  addresses: z.record(z.string(), z.array(NovaAddress)).default({}),
  accessIPv4: z.string().nullish(),
  // Since microversion 2.47 the server embeds its flavor, extra specs included where policy lets
  // the caller read them (project readers may, by default).
  flavor: z.object({ original_name: z.string().optional(), extra_specs: z.record(z.string(), z.string()).optional() }).nullish(),
  'OS-EXT-STS:power_state': z.number().nullish(),
  'OS-EXT-STS:task_state': z.string().nullish(),
  fault: z.object({ message: z.string(), code: z.number().optional() }).nullish(),
});
export type NovaServer = z.infer<typeof NovaServer>;

const ServerList = z.object({
  servers: z.array(NovaServer),
  servers_links: z.array(z.object({ rel: z.string(), href: z.string() })).optional(),
});
const ServerOne = z.object({ server: NovaServer });
const RemoteConsole = z.object({ remote_console: z.object({ protocol: z.string(), type: z.string(), url: z.string() }) });
const Empty = z.unknown();

export type ServerAction = { 'os-start': null } | { 'os-stop': null } | { reboot: { type: 'SOFT' | 'HARD' } };

export class NovaClient {
  constructor(private readonly http: OpenStackHttp, private readonly pageSize = 200) {}

  private headers() {
    return { 'OpenStack-API-Version': `compute ${NOVA_MICROVERSION}`, 'X-OpenStack-Nova-API-Version': NOVA_MICROVERSION };
  }

  /** Every server visible with this token (optionally only `userId`'s), following `next` links. */
  async listServers(endpoint: string, token: string, userId?: string): Promise<NovaServer[]> {
    const query = new URLSearchParams({ limit: String(this.pageSize) });
    if (userId) query.set('user_id', userId);
    let url: string | undefined = `${endpoint}/servers/detail?${query}`;
    const servers: NovaServer[] = [];
    for (let page = 0; url && page < 1000; page++) {
      const response: { body: z.infer<typeof ServerList> } = await this.http.request('nova', url, { token, headers: this.headers(), schema: ServerList });
      servers.push(...response.body.servers);
      const next = response.body.servers_links?.find((l) => l.rel === 'next')?.href;
      // Nova builds `next` from its own idea of its URL; keep our endpoint's scheme/host/port.
      url = next ? rebase(endpoint, next) : undefined;
    }
    return servers;
  }

  async getServer(endpoint: string, token: string, id: string): Promise<NovaServer> {
    return (await this.http.request('nova', `${endpoint}/servers/${encodeURIComponent(id)}`, { token, headers: this.headers(), schema: ServerOne })).body.server;
  }

  async action(endpoint: string, token: string, id: string, action: ServerAction): Promise<void> {
    await this.http.request('nova', `${endpoint}/servers/${encodeURIComponent(id)}/action`, { method: 'POST', token, headers: this.headers(), json: action, schema: Empty });
  }

  async remoteConsole(endpoint: string, token: string, id: string, protocol: 'vnc' | 'spice', type: 'novnc' | 'spice-html5'): Promise<string> {
    const response = await this.http.request('nova', `${endpoint}/servers/${encodeURIComponent(id)}/remote-consoles`, {
      method: 'POST', token, headers: this.headers(), json: { remote_console: { protocol, type } }, schema: RemoteConsole,
    });
    return response.body.remote_console.url;
  }
}

function rebase(endpoint: string, next: string): string {
  const base = new URL(endpoint);
  const target = new URL(next, endpoint);
  target.protocol = base.protocol;
  target.host = base.host;
  return target.toString();
}
