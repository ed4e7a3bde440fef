/**
 * Assembles the kiosk's Node side: settings (+ the boot partition's preset), the controller
 * service, the console relay and the local web server. Both shells start exactly this: Electron
 * with calls over IPC (`rpcOverHttp: false`), the browser shell with calls over HTTP.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_STATE_DIR } from '../../contract/boot-server-files.js';
import { presetSystemUnder } from '../../contract/preset/preset-system.js';
import { ControllerClient } from './controller-client.js';
import { FleetAgent } from './fleet/fleet-agent.js';
import { FleetFiles } from './fleet/fleet-files.js';
import { currentBootId, Healing } from './fleet/healing.js';
import { systemInventorySources } from './fleet/inventory.js';
import { ScreenCapture } from './fleet/screen-capture.js';
import { requestReboot, restartBySignal } from './fleet/system-actions.js';
import { ControllerProbe, HealthMarkers } from './health-markers.js';
import { KioskConsoleRelay } from './kiosk-console-relay.js';
import type { KioskBackend, Language } from './kiosk-api.js';
import { KioskService, type AdminTools, type NativeViewers } from './kiosk-service.js';
import { LaunchKeys } from './launch-keys.js';
import { startLocalServer, type LocalListener } from './local-server.js';
import { readPreset } from './preset.js';
import { Settings } from './settings.js';
import { createSystemAdminTools } from './system/admin-tools.js';
import { BootServerSwitch } from './system/boot-server-switch.js';
import { Displays } from './system/display.js';
import { LogBuffer } from './system/log-buffer.js';
import { KioskUpdates } from './update/kiosk-updates.js';

export interface KioskRuntime {
  /** The page, with no secret in it: the browser shell adds a launch's one-time token (`#boot=`). */
  url: string;
  origin: string;
  backend: KioskBackend;
  /** The browser shell's: one key per Chromium launch (null under Electron, whose calls go over IPC). */
  launchKeys: LaunchKeys | null;
  close(): Promise<void>;
}

export interface KioskRuntimeOptions {
  rpcOverHttp: boolean;
  /**
   * The browser shell's own, made before this runtime so Chromium could start first (listenLocal):
   * the page's server socket, already listening, and the launch keys its token belongs to.
   */
  listening?: LocalListener;
  launchKeys?: LaunchKeys;
  settingsDir?: string;
  /** The boot partition's preset file (default /boot/firmware/thinkiosk.conf). */
  presetFile?: string;
  port?: number;
  fullscreenViewers?: boolean;
  native?: NativeViewers;
  admin?: AdminTools;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  onPageLoaded?: () => void;
  /**
   * The controller's fleet (app/core/fleet): enrolment, check-ins, settings, commands, self-healing.
   * Default on (THINKIOSK_FLEET=off turns it off); it calls nobody until a controller is set.
   */
  fleet?: boolean;
  /** How the shell ends itself for the fleet's restart-app command (default: SIGTERM to this process). */
  restartApp?: () => void;
  /** How the box is rebooted for the fleet's reboot command (default: the image's request to root). */
  reboot?: () => Promise<void>;
  /**
   * Where the kiosk leaves its health markers for root's update gate (default /run/thinkiosk/health,
   * or THINKIOSK_HEALTH_DIR).
   */
  healthDir?: string;
  /**
   * Root's update service as the admin screen reaches it: its status file (default
   * /run/thinkiosk/update/status.json, or THINKIOSK_UPDATE_STATUS) and the request directory it
   * watches (default /run/thinkiosk/requests, or THINKIOSK_REQUEST_DIR).
   */
  updates?: KioskUpdates;
}

/** dist/app/core → repository (or installed app) root. */
const APP_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export function systemLanguage(env: NodeJS.ProcessEnv = process.env): Language {
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  return /^zh/i.test(locale) ? 'zh-CN' : 'en';
}

export async function startKioskRuntime(options: KioskRuntimeOptions): Promise<KioskRuntime> {
  // One log: the journal (stderr) and the ring the admin screen shows, secrets redacted.
  const logBuffer = new LogBuffer();
  const log = options.log ?? ((level: 'info' | 'warn' | 'error', message: string) => void logBuffer.log(level, message));
  const settingsDir = options.settingsDir ?? process.env.THINKIOSK_SETTINGS_DIR ?? join(homedir(), '.config', 'thinkiosk');
  mkdirSync(settingsDir, { recursive: true });
  // The start journal first: a crash loop's repair may put back an older settings.json.
  const fleetOn = options.fleet ?? process.env.THINKIOSK_FLEET !== 'off';
  const bootId = currentBootId();
  const healing = fleetOn ? new Healing({ files: new FleetFiles(settingsDir), settingsFile: join(settingsDir, 'settings.json'), bootId, now: () => new Date(), log }) : null;
  const startOutcome = healing?.recordStart() ?? { crashed: false, safeStart: false };
  const settings = new Settings(settingsDir);

  const presetFile = options.presetFile ?? process.env.THINKIOSK_PRESET ?? '/boot/firmware/thinkiosk.conf';
  const reading = readPreset(presetFile);
  let presetProblem: string | null = null;
  if (reading) {
    if (reading.problems.length) {
      presetProblem = reading.problems.join('\n');
      log('warn', `preset ${presetFile}: ${presetProblem}`);
    }
    // Applied when new or edited since last time, so later changes made in the admin screen stick.
    if (reading.fingerprint !== settings.read().appliedPreset) {
      const { controller, language, adminPinHash, idleLogoutSeconds, usbRedirection } = reading.preset;
      settings.update({
        ...(controller ? { controllerUrl: controller, controllerName: null, controllerBackend: null } : {}),
        ...(language ? { language } : {}),
        ...(adminPinHash ? { adminPinHash } : {}),
        ...(idleLogoutSeconds !== undefined ? { idleLogoutSeconds } : {}),
        ...(usbRedirection !== undefined ? { nativeSpiceForUsb: usbRedirection } : {}),
        appliedPreset: reading.fingerprint,
      });
      log('info', `preset ${presetFile} applied`);
    }
  }

  // The image's own preset keys (Wi-Fi, time zone, host name...) are checked at boot by the image,
  // which leaves its findings in this file: shown on the same setup screen as the kiosk's own.
  const imageProblems = readImageProblems(process.env.THINKIOSK_PRESET_PROBLEMS);
  if (imageProblems) presetProblem = presetProblem ? `${presetProblem}\n${imageProblems}` : imageProblems;

  const bootSource = process.env.THINKIOSK_BOOT_SOURCE || null;
  // The update gate's markers (health-markers.ts): this start's, so an earlier run's are removed.
  const markers = new HealthMarkers(options.healthDir ?? (process.env.THINKIOSK_HEALTH_DIR || undefined), log);
  markers.clear();
  const controllerProbe = new ControllerProbe({
    markers, log,
    controller: () => settings.read().controllerUrl,
    identify: (url) => {
      const { caFile } = settings.read();
      return new ControllerClient(url, { ...(caFile ? { caFile } : {}), bootSource: bootSource ?? 'local disk', retries: 0 }).identity();
    },
  });
  const bootServer = new BootServerSwitch({ settingsDir, stateDir: process.env.THINKIOSK_BOOT_SERVER_STATE || DEFAULT_STATE_DIR, netbootedFrom: bootSource });
  let fleet: FleetAgent | null = null;
  // Root's update service as the admin screen (and the fleet's check-in) sees it.
  const updates = options.updates ?? new KioskUpdates(process.env.THINKIOSK_UPDATE_STATUS || undefined, process.env.THINKIOSK_REQUEST_DIR || undefined);
  const relay = new KioskConsoleRelay({ caFile: settings.read().caFile, onLog: (message) => log('warn', message) });
  const service = new KioskService({
    settings, relay, log, presetProblem,
    native: options.native ?? (await defaultNativeViewers(settingsDir)),
    admin: options.admin ?? createSystemAdminTools({
      emit: (event) => service.emit(event),
      log: logBuffer,
      controller: () => {
        const { controllerUrl, caFile } = settings.read();
        return controllerUrl ? { url: controllerUrl, caFile } : null;
      },
      bootServer,
    }),
    systemLanguage: systemLanguage(),
    bootSource: bootSource ?? 'local disk',
    netbooted: bootSource !== null,
    adminIdleSeconds: positiveNumber(process.env.THINKIOSK_ADMIN_IDLE_SECONDS) ?? 180,
    autoConnect: reading?.preset.autoConnect ?? null,
    fullscreenViewers: options.fullscreenViewers ?? true,
    updates,
    onPageLoaded: () => {
      void fleet?.markReady();
      markers.ready(settings.read().controllerUrl);
      void controllerProbe.start();
      options.onPageLoaded?.();
    },
  });
  if (healing) {
    fleet = new FleetAgent({
      settingsDir, settings, seat: service, healing, bootId,
      bootPreset: reading?.preset ?? {}, fleetToken: reading?.fleetToken ?? null,
      kioskVersion: kioskVersion(),
      updateStatus: () => updates.view().status,
      controller: (url) => {
        const { caFile } = settings.read();
        return new ControllerClient(url, { ...(caFile ? { caFile } : {}), bootSource: bootSource ?? 'local disk', retries: 0 });
      },
      inventory: systemInventorySources(() => new Displays().outputs()),
      imagePresetProblems: () => (readImageProblems(process.env.THINKIOSK_PRESET_PROBLEMS) ?? '').split('\n').filter(Boolean),
      presetSystem: presetSystemUnder('/'),
      setBootServer: bootSource ? null : async (enabled) => void (await bootServer.set(enabled)),
      restartApp: options.restartApp ?? restartBySignal,
      reboot: options.reboot ?? (() => requestReboot()),
      captureScreen: () => new ScreenCapture().capture(),
      safeStart: startOutcome.safeStart,
      log,
    });
    service.attachFleet(() => fleet?.status() ?? null);
    void fleet.start();
  }
  // Asked in the background: the page is not held for it (at boot the network is often not up yet,
  // and the login screen shows the address until the name arrives and is put in its place).
  // Not awaited any more, so a failure it did not expect must not become an unhandled rejection (which ends the shell).
  service.learnControllerName().catch((error: unknown) => log('warn', `controller name: ${error instanceof Error ? error.message : String(error)}`));
  const launchKeys = options.rpcOverHttp ? (options.launchKeys ?? new LaunchKeys()) : null;
  const server = await startLocalServer({
    backend: service, relay, log, ...(launchKeys ? { launchKeys } : {}), ...(options.port ? { port: options.port } : {}),
    ...(options.listening ? { listening: options.listening } : {}),
    roots: [
      { prefix: '/vendor/novnc/', directory: join(APP_ROOT, 'node_modules/@novnc/novnc/') },
      { prefix: '/vendor/spice/', directory: join(APP_ROOT, 'node_modules/@spice-project/spice-html5/src/') },
      { prefix: '/', directory: join(APP_ROOT, 'dist/www/app/ui/') },
    ],
  });
  log('info', `kiosk page at ${server.url} (settings ${settings.path})`);
  return {
    url: server.url,
    origin: server.origin,
    backend: service,
    launchKeys,
    close: async () => {
      controllerProbe.stop();
      await fleet?.close();
      await service.close();
      await server.close();
    },
  };
}

/** The kiosk app's version (package.json next to dist/, in the repository and in the image). */
function kioskVersion(): string {
  try {
    return String((JSON.parse(readFileSync(join(APP_ROOT, 'package.json'), 'utf8')) as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

// The native launcher (app/core/native) is loaded lazily so a broken native module (node-pty built
// for another Node) shows up as a failed connect with its reason, not as no kiosk at all.
async function defaultNativeViewers(settingsDir: string): Promise<NativeViewers> {
  const { createNativeViewers } = await import('./native-viewers.js');
  return createNativeViewers({ settingsDir });
}

/** A number of seconds from the environment (tests shorten timers this way), or undefined. */
function positiveNumber(value: string | undefined): number | undefined {
  const number = Number(value);
  return value && Number.isFinite(number) && number > 0 ? number : undefined;
}

function readImageProblems(file: string | undefined): string | null {
  if (!file) return null;
  try {
    const text = readFileSync(file, 'utf8').trim();
    return text ? text.slice(0, 4000) : null;
  } catch {
    return null; // no file: no problems
  }
}
