/**
 * The kiosk's fleet agent (app/core/fleet/fleet-agent.ts) as tests build it: the real kiosk service
 * (test/support/kiosk-service.ts), real settings, files and healing in a fresh settings directory,
 * the real controller client (ControllerClient over HTTP, against whatever controller the test runs
 * or an address where none answers), and stand-ins, named as such, for what would touch the box:
 * restarting the app, rebooting, capturing the screen, the boot server switch. The inventory is
 * read from a fixture tree (a Pi 4 whose network card has a fixed MAC) so enrolments are
 * repeatable.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { presetSystemUnder } from '../../contract/preset/preset-system.js';
import { ControllerClient } from '../../app/core/controller-client.js';
import { FleetAgent, type FleetAgentOptions } from '../../app/core/fleet/fleet-agent.js';
import { FleetFiles } from '../../app/core/fleet/fleet-files.js';
import { Healing } from '../../app/core/fleet/healing.js';
import type { KioskPreset } from '../../app/core/preset.js';
import type { StoredSettings } from '../../app/core/settings.js';
import { kioskService, type ServiceUnderTest } from './kiosk-service.js';

/** A PNG of 1×1 pixel: what the screen-capture stand-in "takes". */
export const ONE_PIXEL_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

/** A Pi 4's tree: its wired card's MAC, its model, an uptime. */
export function piTree(parentDir: string, mac = 'dc:a6:32:01:02:03'): string {
  const root = mkdtempSync(path.join(parentDir, 'pi-'));
  const files: Record<string, string> = {
    'proc/device-tree/model': 'Raspberry Pi 4 Model B Rev 1.4\0',
    'proc/uptime': '321.50 600.00\n',
    'sys/class/net/eth0/address': `${mac}\n`,
    'sys/devices/eth0/.keep': '',
  };
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), content);
  }
  symlinkSync('../../../devices/eth0', path.join(root, 'sys/class/net/eth0/device'));
  return root;
}

export interface AgentUnderTest extends ServiceUnderTest {
  agent: FleetAgent;
  files: FleetFiles;
  healing: Healing;
  /** What the stand-ins were asked to do. */
  restarts: number;
  reboots: number;
  captures: number;
  bootServer: boolean[];
}

export interface AgentOptions {
  parentDir: string;
  preset?: Partial<StoredSettings>;
  bootPreset?: KioskPreset;
  fleetToken?: string | null;
  bootId?: string | null;
  mac?: string;
  /** Time zones and keyboard layouts: a root with these (default: this machine's). */
  presetRoot?: string;
  now?: () => Date;
  /** Before the agent is built (e.g. fleet files a previous run left). */
  prepare?: (files: FleetFiles) => void;
  more?: Partial<FleetAgentOptions>;
}

export function fleetAgent(options: AgentOptions): AgentUnderTest {
  const k = kioskService({ parentDir: options.parentDir, ...(options.preset ? { preset: options.preset } : {}) });
  const files = new FleetFiles(k.dir);
  options.prepare?.(files);
  const now = options.now ?? (() => new Date());
  const log = (level: 'info' | 'warn' | 'error', message: string): void => void k.logs.push(`${level} ${message}`);
  const healing = new Healing({ files, settingsFile: k.settings.path, bootId: options.bootId ?? 'boot-1', now, log });
  healing.recordStart();
  const inventoryRoot = piTree(options.parentDir, options.mac);
  const under: AgentUnderTest = { ...k, agent: undefined as unknown as FleetAgent, files, healing, restarts: 0, reboots: 0, captures: 0, bootServer: [] };
  under.agent = new FleetAgent({
    settingsDir: k.dir, settings: k.settings, seat: k.service, healing,
    bootPreset: options.bootPreset ?? {}, fleetToken: options.fleetToken ?? null, kioskVersion: '0.1.0-test',
    controller: (url) => new ControllerClient(url, { retries: 0, timeoutMs: 3000 }),
    inventory: { root: inventoryRoot, hostname: () => 'lab3-kiosk-07', networkInterfaces: () => ({}), vcgencmd: null, displays: async () => [] },
    bootId: options.bootId ?? 'boot-1',
    imagePresetProblems: () => [],
    presetSystem: presetSystemUnder(options.presetRoot ?? '/'),
    setBootServer: async (enabled) => void under.bootServer.push(enabled),
    restartApp: () => void (under.restarts += 1),
    reboot: async () => void (under.reboots += 1),
    captureScreen: async () => {
      under.captures += 1;
      return ONE_PIXEL_PNG;
    },
    now,
    log,
    ...options.more,
  });
  k.service.attachFleet(() => under.agent.status());
  return under;
}
