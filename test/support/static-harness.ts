/**
 * Shared by the tests (peers, kiosk, unit) and the kiosk bench that need the controller with its
 * static backend: in-process, with a static inventory written to a file, on a fixed port of the
 * caller's range, and a small client for its API.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildController } from '../../controller/app.js';
import { parseConfig } from '../../controller/core/config.js';
import { silentLogger, type Logger } from '../../controller/core/log.js';
import type { Metrics } from '../../controller/core/metrics.js';
import { ROUTES } from '../../contract/routes.js';
import { routeCaller, type RouteCaller } from './controller-call.js';

export interface StaticController {
  url: string;
  metrics: Metrics;
  sessionKey: Buffer;
  /** A request to one of the controller's routes: ROUTES from contract/routes.ts, or METRICS_ROUTE. */
  call: RouteCaller;
  login(username: string, password: string): Promise<string>;
  /** Drops every live console connection the controller relays (a network drop mid-session). */
  closeConsoles(): void;
  close(): Promise<void>;
}

export interface StaticControllerOptions {
  workDir: string;
  inventory: string;
  port: number;
  relayTicketSeconds?: number;
  sessionKey?: Buffer;
  /** Logouts shared with other instances using the same directory (and kept across restarts). */
  stateDir?: string;
  /** More of the `static` section (probeIntervalSeconds, relayMaxPerUser...). */
  staticSettings?: Record<string, unknown>;
  /** How long a session lasts (the controller's default is 8 hours). */
  sessionMaxSeconds?: number;
  /** The config's `fleet` section (checkInSeconds...); the fleet is on anyway with a stateDir. */
  fleet?: Record<string, unknown>;
  /** Where the controller logs (default: nowhere). */
  logger?: Logger;
}

export async function startStaticController({ workDir, inventory, port, relayTicketSeconds = 60, sessionKey = Buffer.alloc(32, 9), stateDir, staticSettings = {}, sessionMaxSeconds, fleet, logger = silentLogger }: StaticControllerOptions): Promise<StaticController> {
  const inventoryFile = path.join(workDir, 'inventory.yaml');
  writeFileSync(inventoryFile, inventory);
  const config = parseConfig({
    name: 'Static test site',
    backend: 'static',
    listen: { host: '127.0.0.1', port },
    sessionKeys: [sessionKey.toString('base64')],
    ...(stateDir ? { stateDir } : {}),
    ...(sessionMaxSeconds ? { sessionMaxSeconds } : {}),
    ...(fleet ? { fleet } : {}),
    static: { inventoryFile, probeTimeoutMs: 1000, relayTicketSeconds, ...staticSettings },
  }, 'static test');
  const { app, server, metrics, closeConsoles } = buildController(config, logger);
  await app.listen({ port, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${port}`;
  const call = routeCaller(url);
  return {
    url, metrics, sessionKey, call, closeConsoles,
    async login(username, password) {
      const answer = await call(ROUTES.login, { body: { username, password } });
      if (answer.status !== 201) throw new Error(`login ${username}: ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.body.token as string;
    },
    close: async () => { closeConsoles(); server.closeAllConnections(); await app.close(); },
  };
}
