/**
 * Shared by the cloud tests: the inventory the test cloud wrote (scripts/test-cloud/seed.py), an
 * in-process controller pointed at that real OpenStack, and a small client for its API.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { buildController } from '../../controller/app.js';
import { parseConfig } from '../../controller/core/config.js';
import { silentLogger } from '../../controller/core/log.js';
import type { Metrics } from '../../controller/core/metrics.js';
import { ROUTES } from '../../contract/routes.js';
import { routeCaller, type RouteCaller } from '../support/controller-call.js';

export const CLOUD_DIR = process.env.THINKIOSK_CLOUD_DIR ?? '/var/tmp/thinkiosk-cloud';
export const KEYSTONE = 'http://127.0.0.1:5000/v3';

const Inventory = z.object({
  project: z.object({ id: z.string(), name: z.string() }),
  users: z.record(z.string(), z.object({ id: z.string(), password: z.string() })),
  images: z.record(z.string(), z.string()),
  networks: z.object({ public: z.string(), kiosk: z.string() }),
  servers: z.record(z.string(), z.string()),
  bobFloatingIp: z.string(),
});
export const cloud = Inventory.parse(JSON.parse(readFileSync(`${CLOUD_DIR}/cloud.json`, 'utf8')));
export const serverId = (name: string): string => cloud.servers[name] ?? (() => { throw new Error(`no server ${name}`); })();

export interface RunningController {
  url: string;
  metrics: Metrics;
  /** A request to one of the controller's routes: ROUTES from contract/routes.ts, or METRICS_ROUTE. */
  call: RouteCaller;
  login(user: 'alice' | 'bob'): Promise<string>;
  close(): Promise<void>;
}

export async function startController(overrides: Record<string, unknown> = {}, openstack: Record<string, unknown> = {}): Promise<RunningController> {
  const config = parseConfig({
    listen: { host: '127.0.0.1', port: 0 },
    sessionKeys: [Buffer.alloc(32, 1).toString('base64')],
    openstack: { authUrl: KEYSTONE, defaultProject: 'kiosk', floatingIpPool: 'public', timeoutSeconds: 10, ...openstack },
    ...overrides,
  }, 'cloud test');
  const { app, metrics } = buildController(config, silentLogger);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return controllerClient(url, app, metrics);
}

function controllerClient(url: string, app: FastifyInstance, metrics: Metrics): RunningController {
  const call = routeCaller(url);
  return {
    url, metrics, call,
    async login(user) {
      const answer = await call(ROUTES.login, { body: { username: user, password: cloud.users[user]!.password } });
      if (answer.status !== 201) throw new Error(`login ${user}: ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.body.token as string;
    },
    close: async () => { app.server.closeAllConnections(); await app.close(); },
  };
}

/** Poll the shim until the desktop reaches `status` (the fake driver needs a few seconds). */
export async function waitForStatus(ctl: RunningController, token: string, id: string, status: string, seconds = 90): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  let last = '';
  while (Date.now() < deadline) {
    const answer = await ctl.call(ROUTES.desktop, { params: { id }, token });
    last = `${answer.body?.status}/${answer.body?.task}`;
    if (answer.body?.status === status && answer.body?.task === null) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`desktop ${id} did not reach ${status} in ${seconds}s (last ${last})`);
}

/** Take one cloud API service away or bring it back (scripts/test-cloud/up.sh). */
export function cloudService(action: 'stop-service' | 'start-service', service: 'keystone' | 'nova-api'): void {
  execFileSync(new URL('../../../scripts/test-cloud/up.sh', import.meta.url).pathname, [action, service], { stdio: 'pipe', timeout: 120_000 });
}

/** A Keystone token straight from Keystone, for checks that bypass the shim. */
export async function keystoneToken(user: string, password: string): Promise<string> {
  const response = await fetch(`${KEYSTONE}/auth/tokens`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: user, domain: { name: 'Default' }, password } } }, scope: { project: { name: 'kiosk', domain: { name: 'Default' } } } } }),
  });
  const token = response.headers.get('x-subject-token');
  if (response.status !== 201 || !token) throw new Error(`keystone login ${user}: ${response.status}`);
  return token;
}
