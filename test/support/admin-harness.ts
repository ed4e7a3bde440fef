/**
 * The real controller for the admin page's tests: buildController with the static backend (an
 * inventory of people, some of them site administrators, and no desktops), stateDir in a temporary
 * directory so the fleet is on in SQLite there, listening on 127.0.0.1; and simulated kiosks that
 * enrol and check in over real HTTP. Everything the tests set up goes through the controller's API
 * as one of its administrators would (a site token, the fleet's answers, a logout); the only thing
 * reached from outside is the fleet's clock (buildController's test seam), to store a check-in as
 * if it came minutes ago.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ADMIN_ROUTES, ROUTES } from '../../contract/routes.js';
import { buildController } from '../../controller/app.js';
import { parseConfig } from '../../controller/core/config.js';
import { silentLogger } from '../../controller/core/log.js';
import { hashPassword } from '../../controller/core/password-hash.js';
import { routeCaller, type Answer, type RouteCaller } from './controller-call.js';
import { SimulatedKiosk, type SimulatedKioskOptions } from './simulated-kiosk.js';

export interface InventoryUser {
  password: string;
  admin: boolean;
}

export interface AdminHarnessOptions {
  /** One of the admin page tests' ports, 16340-16349. */
  port: number;
  /** The controller's name (its identity, shown on the sign-in page). */
  name: string;
  /** The static inventory's people; the first administrator among them sets the fleet up. */
  users: Record<string, InventoryUser>;
  kiosks: SimulatedKioskOptions[];
  /** Check-in interval: online, late and offline follow from it. */
  checkInSeconds?: number;
  /** More of the fleet's settings (e.g. metricsCacheSeconds). */
  fleetSettings?: Record<string, unknown>;
}

export interface AdminHarness {
  url: string;
  pageUrl: string;
  kiosks: SimulatedKiosk[];
  /** The site token the harness's kiosks enrolled with. */
  siteToken: string;
  /** A request to the controller's admin API as the administrator who set the fleet up. */
  asAdmin: RouteCaller;
  /** A request to any of the controller's routes, with the token given (or none). */
  call: RouteCaller;
  /** Another simulated kiosk at this controller (not enrolled yet). */
  kiosk(options: SimulatedKioskOptions): SimulatedKiosk;
  /** The controller stops answering (its port closes), as when it is down or the network is. */
  stopServing(): Promise<void>;
  /** Runs `action` as if it happened `seconds` ago for the fleet (a check-in that old). */
  backdated<T>(seconds: number, action: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A cheap scrypt: the test signs in a dozen times. */
const FAST_SCRYPT = { N: 1024, r: 8, p: 1 };

export async function startAdminHarness(options: AdminHarnessOptions): Promise<AdminHarness> {
  const work = mkdtempSync(path.join(tmpdir(), 'thinkiosk-admin-page-'));
  const users = await Promise.all(Object.entries(options.users).map(async ([name, user]) =>
    `  - { name: ${name}, password: "${await hashPassword(user.password, FAST_SCRYPT)}", admin: ${user.admin} }`));
  const inventoryFile = path.join(work, 'inventory.yaml');
  writeFileSync(inventoryFile, `users:\n${users.join('\n')}\ndesktops: []\n`);
  const config = parseConfig({
    name: options.name,
    backend: 'static',
    listen: { host: '127.0.0.1', port: options.port },
    sessionKeys: [Buffer.alloc(32, 7).toString('base64')],
    stateDir: path.join(work, 'state'),
    fleet: { checkInSeconds: options.checkInSeconds ?? 60, ...options.fleetSettings },
    static: { inventoryFile },
  }, 'admin page test');
  let offsetMs = 0;
  const { app, server } = buildController(config, silentLogger, { fleetClock: () => new Date(Date.now() - offsetMs) });
  await app.listen({ host: '127.0.0.1', port: options.port });
  const url = `http://127.0.0.1:${options.port}`;
  let serving = true;
  const stopServing = async (): Promise<void> => {
    if (!serving) return;
    serving = false;
    server.closeAllConnections();
    await app.close();
  };

  try {
    const call = routeCaller(url);
    const [adminName, admin] = Object.entries(options.users).find(([, user]) => user.admin) ?? [];
    if (!adminName || !admin) throw new Error('the admin page tests need an administrator in users');
    const signedIn = expect(await call(ROUTES.login, { body: { username: adminName, password: admin.password } }), 201, `sign-in of ${adminName}`);
    const adminToken = signedIn.token as string;
    const asAdmin: RouteCaller = (route, ...[callOptions]) => call(route, { ...callOptions, token: adminToken } as never);
    const made = expect(await asAdmin(ADMIN_ROUTES.newSiteToken, { body: { label: 'test fleet' } }), 201, 'a site token');
    const kiosks = options.kiosks.map((k) => new SimulatedKiosk(url, k));
    const siteToken = made.token as string;
    for (const kiosk of kiosks) await kiosk.enrol(siteToken);

    return {
      url, pageUrl: `${url}/admin/`, kiosks, siteToken, asAdmin, call,
      kiosk: (k) => new SimulatedKiosk(url, k),
      stopServing,
      async backdated(seconds, action) {
        offsetMs = seconds * 1000;
        try {
          return await action();
        } finally {
          offsetMs = 0;
        }
      },
      async close() {
        await stopServing();
        rmSync(work, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopServing();
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
}

/** The answer's body when its status is `status`; otherwise an error saying what was asked. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function expect(answer: Answer, status: number, what: string): any {
  if (answer.status !== status) throw new Error(`${what}: the controller answered ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}
