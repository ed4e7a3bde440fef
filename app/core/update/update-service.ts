/**
 * Root's update service (rootfs-overlay/etc/systemd/system/thinkiosk-update*.{path,service,timer},
 * thinkiosk-health-gate.service):
 *
 *   node dist/app/core/update/update-service.js gate      at every boot: the health gate, then the
 *                                                         settings' target once
 *   node dist/app/core/update/update-service.js request   the kiosk's request file (path unit)
 *   node dist/app/core/update/update-service.js target    the settings' target (timer, fleet file changed)
 *
 * The kiosk's user only names a source; the keys, the downgrade permission and the trial's length
 * are root's (the image's key directory, thinkiosk.conf and the fleet's file). Exit status 0 unless
 * the service itself could not run (a failed install is a status, not a crash).
 */
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { TRUSTED_KEYS_DIR } from '../../../contract/update-bundle.js';
import type { Slot } from '../../../contract/update-status.js';
import { REQUEST_DIR } from '../fleet/system-actions.js';
import { runTool } from '../system/run-tool.js';
import { layoutDisk, listBlockDevices } from './block-devices.js';
import { BootSlots } from './boot-slots.js';
import { readHealth, runHealthGate } from './health-gate.js';
import { runningArchitecture } from './install.js';
import { readPartitionTable, slotTargetOf } from './partitions.js';
import { loadTrustedKeys } from './signing-keys.js';
import type { SlotTarget } from './slot-target.js';
import { UpdateAgent } from './update-agent.js';
import { takeRequest } from './take-request.js';
import { UPDATE_REQUEST_FILE } from './update-request.js';
import { loadUpdateSettings } from './update-settings.js';
import { UpdateState } from './update-state.js';
import { releaseVersion, StatusReporter } from './update-status-report.js';
import { chooseBundleIn, mountSticks } from './usb-bundles.js';

/** Partition numbers of the root slots in the A/B layout (image/ab-slots.md). */
const SLOT_PARTITION: Readonly<Record<Slot, number>> = { a: 2, b: 3 };

async function slotTarget(slot: Slot): Promise<SlotTarget> {
  const disk = layoutDisk(await listBlockDevices());
  return slotTargetOf(await readPartitionTable(disk), slot.toUpperCase(), { root: SLOT_PARTITION[slot] });
}

async function reboot(): Promise<void> {
  await runTool('systemctl', ['reboot'], { service: 'systemd', missing: 'systemctl is not installed.' });
}

function log(message: string): void {
  console.log(`thinkiosk-update: ${message}`);
}

async function main(command: string | undefined): Promise<number> {
  const runningVersion = releaseVersion((() => { try { return readFileSync('/etc/thinkiosk-release', 'utf8'); } catch { return null; } })());
  const architecture = runningArchitecture();
  if (!architecture) { log(`this machine's architecture (${process.arch}) has no update bundles`); return 1; }
  const slots = new BootSlots();
  const state = new UpdateState();
  const status = new StatusReporter(state, runningVersion);
  const agent = new UpdateAgent({
    slots, state, status, runningVersion, architecture,
    settings: () => loadUpdateSettings(),
    trustedKeys: () => loadTrustedKeys(TRUSTED_KEYS_DIR),
    slotTarget, reboot, log,
    download: (url) => {
      // Loaded only for a download (memory: see bundle-cli.ts).
      const stream = import('got').then(({ default: got }) => got.stream(url, { timeout: { connect: 15_000, response: 30_000 }, retry: { limit: 0 } }));
      return lazyStream(stream);
    },
    openFile: (file) => createReadStream(file, { highWaterMark: 256 * 1024 }),
    mountSticks: () => mountSticks('/run/thinkiosk/update/usb'),
    chooseBundle: (dirs) => chooseBundleIn(dirs, loadTrustedKeys(TRUSTED_KEYS_DIR), architecture),
  });
  switch (command) {
    case 'gate': {
      const result = await runHealthGate({ slots, state, status, runningVersion, settings: () => loadUpdateSettings(), health: () => readHealth(), reboot, log });
      log(`health gate: ${result}`);
      if (result === 'normal' || result === 'committed' || result === 'did-not-finish') await agent.handle({ source: 'target' });
      return 0;
    }
    case 'request': {
      const taken = takeRequest(join(REQUEST_DIR, UPDATE_REQUEST_FILE));
      if (taken === null) return 0;
      if ('junk' in taken) { log(`ignored a request that is not one: ${taken.junk}`); return 0; }
      log(`request: ${JSON.stringify(taken.request)}`);
      log(`result: ${await agent.handle(taken.request)}`);
      return 0;
    }
    case 'target':
      log(`target: ${await agent.handle({ source: 'target' })}`);
      return 0;
    default:
      log('the command must be gate, request or target');
      return 2;
  }
}

/** A stream that is made asynchronously (got is imported on first use), passed through as it comes. */
function lazyStream(made: Promise<NodeJS.ReadableStream>): Readable {
  const out = new PassThrough();
  made.then((stream) => {
    stream.on('error', (error: Error) => out.destroy(error));
    stream.pipe(out);
  }, (error: Error) => out.destroy(error));
  return out;
}

process.exitCode = await main(process.argv[2]);
