/**
 * The classroom the day happens in, set up and torn down as one: the link to the controller
 * (network.ts), the desktops (desktops.ts), the static controller in its namespace and — when the
 * test cloud answers — a second controller in front of OpenStack, one kiosk (the browser shell's
 * Node side with an X display of its own for native viewers) and Chromium showing its page.
 *
 * Slots keep two classrooms apart on this machine (slot 0: `make test`, slot 1: `make soak`):
 *   X displays  :80 + 5·slot (VNC desktop), +1 (the RDP desktops' screen), +3 (the kiosk's screen)
 *   TCP ports   16140 + 30·slot … +29 (the kiosk's and controller's Node inspectors: +5, +6)
 *   namespace   tkday<slot>, addresses 10.89.<slot>.0/24
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { hashPin } from '../../app/core/system/admin-pin.js';
import { hashPassword } from '../../controller/core/password-hash.js';
import { exists, startDaemon, waitFor, type Daemon } from '../support/system-daemons.js';
import { CHROMIUM, openKioskPage, startKiosk, type KioskProcess } from '../support/kiosk.js';
import { startControllerProcess, type ControllerProcess } from './controller-process.js';
import { startClassroomDesktops, type ClassroomDesktops } from './desktops.js';
import { pidsWithArgument, processName } from './measure.js';
import { startControllerNetwork, type ControllerNetwork } from './network.js';

/** scrypt's smallest cost the inventory accepts (N=1024): 30 hashes at start-up in well under a second. */
const TEST_SCRYPT_COST = { N: 1024, r: 8, p: 1 };
export const ADMIN_PIN = '4826';
const KEYSTONE = 'http://127.0.0.1:5000/v3';
const CLOUD_FILE = `${process.env.THINKIOSK_CLOUD_DIR ?? '/var/tmp/thinkiosk-cloud'}/cloud.json`;

export interface Person { name: string; password: string }

/** The static inventory's desktops, one per way of opening a desktop. */
export const DESKTOPS = {
  vnc: { id: 'lab-vnc', name: 'Lab VNC desk' },
  spice: { id: 'lab-linux', name: 'Lab Linux desk' },
  spiceUsb: { id: 'lab-linux-usb', name: 'Lab Linux desk with USB' },
  rdp: { id: 'lab-windows', name: 'Lab Windows desk' },
} as const;

export interface OpenStackSide {
  controller: ControllerProcess;
  alice: Person;
  bob: Person;
}

export interface Classroom {
  slot: number;
  workDir: string;
  network: ControllerNetwork;
  desktops: ClassroomDesktops;
  controller: ControllerProcess;
  /** Null when the test cloud does not answer; `openstackSkipped` says why. */
  openstack: OpenStackSide | null;
  openstackSkipped: string | null;
  kiosk: KioskProcess;
  kioskPid: number;
  /** Node inspectors of the kiosk and the static controller, for garbage collection before samples. */
  inspectors: { kiosk: { host: string; port: number }; controller: { host: string; port: number } };
  kioskDisplay: string;
  /** The X display of the VNC desktop (repainted to check a session is live). */
  vncDisplay: string;
  browser: Browser;
  chromiumPid: number;
  page: Page;
  /** Uncaught errors in the page, and console errors (noVNC logs dropped websockets there). */
  pageErrors: string[];
  consoleErrors: string[];
  people: Person[];
  idleLogoutSeconds: number;
  close(): Promise<void>;
}

export interface ClassroomOptions {
  slot: number;
  workDir: string;
  /** How many different people (user accounts) the static inventory has. */
  people: number;
  idleLogoutSeconds: number;
  log: (line: string) => void;
}

export async function openClassroom(o: ClassroomOptions): Promise<Classroom> {
  const base = 16140 + 30 * o.slot;
  const displayBase = 80 + 5 * o.slot;
  const ports = {
    localVnc: base + 1, localSpice: base + 2, localRdp: base + 3,
    vnc: base + 11, spice: base + 12, rdp: base + 13,
    controller: base + 20, openstack: base + 21,
    kioskInspector: base + 5, controllerInspector: base + 6,
  };
  mkdirSync(o.workDir, { recursive: true });
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const step of cleanups.splice(0).reverse()) await step().catch((error: unknown) => o.log(`cleanup: ${String(error)}`));
  };
  try {
    const people = Array.from({ length: o.people }, (_, i) => {
      const name = `pupil${String(i + 1).padStart(2, '0')}`;
      return { name, password: `${name}-pw-${(i * 7919 % 1000).toString(36)}` };
    });
    const network = await startControllerNetwork(o.slot);
    cleanups.push(() => network.close());
    const desktops = await startClassroomDesktops({
      workDir: path.join(o.workDir, 'desktops'), host: network.hostAddress, ports, displayBase,
      vncPassword: 'day-vnc', spicePassword: 'day-spice', people,
    });
    cleanups.push(() => desktops.stop());
    o.log(`desktops: VNC ${desktops.vnc.host}:${desktops.vnc.port}, SPICE ${desktops.spice.host}:${desktops.spice.port}, RDP ${desktops.rdp.host}:${desktops.rdp.port}`);

    const inventoryFile = path.join(o.workDir, 'inventory.yaml');
    writeFileSync(inventoryFile, await inventory(people, desktops));
    const sessionKey = Buffer.alloc(32, 0x5a).toString('base64');
    const controllerUrl = `http://${network.controllerAddress}:${ports.controller}`;
    const controller = await startControllerProcess({
      label: 'static controller', url: controllerUrl, configFile: path.join(o.workDir, 'controller.json'), wrap: network.wrap,
      nodeArgs: [`--inspect=${network.controllerAddress}:${ports.controllerInspector}`],
      config: {
        name: 'Classroom controller', backend: 'static', listen: { host: network.controllerAddress, port: ports.controller },
        sessionKeys: [sessionKey], static: { inventoryFile, probeTimeoutMs: 1000, relayTicketSeconds: 60 },
      },
    });
    cleanups.push(() => controller.stop());
    o.log(`static controller: ${controllerUrl} (pid ${controller.pid}, in namespace ${network.namespace})`);

    const { side: openstack, skipped: openstackSkipped } = await openOpenStackSide(o.workDir, ports.openstack, sessionKey);
    if (openstack) cleanups.push(() => openstack.controller.stop());
    o.log(openstack ? `OpenStack controller: ${openstack.controller.url} (pid ${openstack.controller.pid})` : `OpenStack part skipped: ${openstackSkipped}`);

    const kioskDisplay = `:${displayBase + 3}`;
    const xvfb: Daemon = startDaemon('Xvfb', [kioskDisplay, '-screen', '0', '1280x800x24', '-nolisten', 'tcp']);
    cleanups.push(() => xvfb.stop());
    await waitFor('the kiosk\'s Xvfb', () => exists(`/tmp/.X11-unix/X${displayBase + 3}`));

    // The admin has set idle logout; the admin screen offers minutes, settings.json holds seconds.
    const settingsDir = path.join(o.workDir, 'kiosk');
    mkdirSync(settingsDir, { recursive: true });
    writeFileSync(path.join(settingsDir, 'settings.json'), JSON.stringify({ idleLogoutSeconds: o.idleLogoutSeconds }));
    const kiosk = await startKiosk({
      settingsDir,
      preset: `# the classroom's kiosk\ncontroller = ${controllerUrl}\nlanguage = en\nadmin_pin = ${await hashPin(ADMIN_PIN)}\n`,
      // The inspector only lets the measurements collect garbage before each sample (inspector.ts).
      env: { DISPLAY: kioskDisplay, NODE_OPTIONS: `--inspect=127.0.0.1:${ports.kioskInspector}` },
    });
    cleanups.push(() => kiosk.stop());
    const kioskPid = pidsWithArgument(settingsDir).find((pid) => processName(pid) === 'node');
    if (!kioskPid) throw new Error('the kiosk process was not found by its settings directory');
    o.log(`kiosk: ${kiosk.url.replace(/#.*/, '')} (pid ${kioskPid}, display ${kioskDisplay})`);

    // A flag of our own finds this Chromium among the other tests' (for its memory).
    const marker = `--thinkiosk-day=${o.slot}-${process.pid}`;
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', marker], headless: true });
    cleanups.push(() => browser.close());
    const chromiumPids = pidsWithArgument(marker);
    const chromiumPid = chromiumPids.find((pid) => !chromiumPids.includes(parentOf(pid)));
    if (!chromiumPid) throw new Error('Chromium\'s browser process was not found');
    const { page } = await openKioskPage(browser, kiosk);
    const pageErrors: string[] = [];
    const consoleErrors: string[] = [];
    // Where it was thrown (the page's own file or a vendored viewer's) tells whose defect it is.
    page.on('pageerror', (error) => pageErrors.push(`${error.message}${thrownAt(error.stack)}`));
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });

    return {
      slot: o.slot, workDir: o.workDir, network, desktops, controller, openstack, openstackSkipped, kiosk, kioskPid, kioskDisplay,
      inspectors: { kiosk: { host: '127.0.0.1', port: ports.kioskInspector }, controller: { host: network.controllerAddress, port: ports.controllerInspector } },
      vncDisplay: `:${displayBase}`, browser, chromiumPid, page, pageErrors, consoleErrors, people, idleLogoutSeconds: o.idleLogoutSeconds,
      close: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** " (at /vendor/spice/display.js:123:45)": the first frame of a page error's stack, without the origin. */
function thrownAt(stack: string | undefined): string {
  const frame = /\n\s+at (.+)/.exec(stack ?? '')?.[1];
  return frame ? ` (at ${frame.replace(/https?:\/\/[^/]+/g, '')})` : '';
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
}

async function inventory(people: Person[], desktops: ClassroomDesktops): Promise<string> {
  const hashes = await Promise.all(people.map((p) => hashPassword(p.password, TEST_SCRYPT_COST)));
  const everyone = `[${people.map((p) => p.name).join(', ')}]`;
  const { vnc, spice, rdp } = desktops;
  return `# The classroom: everyone sees the same four desktops (scrypt N=1024 keeps 30 logins fast; sites use the default).
users:
${people.map((p, i) => `  - { name: ${p.name}, password: "${hashes[i]}" }`).join('\n')}
desktops:
  - id: ${DESKTOPS.vnc.id}
    name: ${DESKTOPS.vnc.name}
    guestOs: { family: other }
    endpoints: { vnc: { host: ${vnc.host}, port: ${vnc.port}, password: ${vnc.password} } }
    users: ${everyone}
  - id: ${DESKTOPS.spice.id}
    name: ${DESKTOPS.spice.name}
    guestOs: { family: linux, distro: debian, version: "12" }
    endpoints: { spice: { host: ${spice.host}, port: ${spice.port}, password: ${spice.password} } }
    usbRedirection: false
    users: ${everyone}
  - id: ${DESKTOPS.spiceUsb.id}
    name: ${DESKTOPS.spiceUsb.name}
    guestOs: { family: linux, distro: debian, version: "12" }
    endpoints: { spice: { host: ${spice.host}, port: ${spice.port}, password: ${spice.password} } }
    users: ${everyone}
  - id: ${DESKTOPS.rdp.id}
    name: ${DESKTOPS.rdp.name}
    guestOs: { family: windows, distro: windows, version: "11" }
    addresses: [{ ip: ${rdp.host}, mac: "52:54:00:0d:a7:01", network: classroom }]
    endpoints: { rdp: { host: ${rdp.host}, port: ${rdp.port} } }
    users: ${everyone}
`;
}

/** The lead's test cloud, when it answers: a second controller in front of it (alice and bob). */
async function openOpenStackSide(workDir: string, port: number, sessionKey: string): Promise<{ side: OpenStackSide | null; skipped: string | null }> {
  try {
    const answer = await fetch(KEYSTONE, { signal: AbortSignal.timeout(3000) });
    if (!answer.ok) return { side: null, skipped: `Keystone at ${KEYSTONE} answered ${answer.status}` };
  } catch (error) {
    return { side: null, skipped: `Keystone at ${KEYSTONE} does not answer (${(error as Error).message}); the test cloud is not running` };
  }
  if (!existsSync(CLOUD_FILE)) return { side: null, skipped: `${CLOUD_FILE} is missing (the test cloud's seed did not run)` };
  const cloud = JSON.parse(readFileSync(CLOUD_FILE, 'utf8')) as { users?: Record<string, { password?: string }> };
  const alice = cloud.users?.alice?.password;
  const bob = cloud.users?.bob?.password;
  if (!alice || !bob) return { side: null, skipped: `${CLOUD_FILE} has no passwords for alice and bob` };
  const url = `http://127.0.0.1:${port}`;
  const controller = await startControllerProcess({
    label: 'OpenStack controller', url, configFile: path.join(workDir, 'openstack-controller.json'),
    config: {
      name: 'Classroom cloud', listen: { host: '127.0.0.1', port }, sessionKeys: [sessionKey],
      openstack: { authUrl: KEYSTONE, defaultProject: 'kiosk', timeoutSeconds: 15 },
    },
  });
  return { side: { controller, alice: { name: 'alice', password: alice }, bob: { name: 'bob', password: bob } }, skipped: null };
}
