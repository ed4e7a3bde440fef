/**
 * The boot server's command line (run as root by the image's boot server unit):
 *
 *   node dist/pxe/main.js serve  [--config FILE] [--preset FILE] [--kiosk-settings FILE] [--switch FILE] [--watch] [--netboot DIR] [--state DIR]
 *   node dist/pxe/main.js render [--config FILE] [--preset FILE] [--kiosk-settings FILE] [--netboot DIR] [--state DIR]   writes the state, prints dnsmasq's configuration
 *   node dist/pxe/main.js status [--state DIR]                                   prints the running server's status (JSON)
 *
 * serve runs until SIGTERM/SIGINT. It serves when the admin screen's switch says on; before an
 * admin chose, when the configuration says `enabled: true` or the boot partition's thinkiosk.conf
 * says `boot_server = on` (off by default). Without --watch it ends at once when off; with
 * --watch it stays, writes an "off" status, and follows the switch. Netbooted kiosks get the
 * box's admin PIN (thinkiosk.conf's admin_pin, else the one set on its admin screen) unless the
 * configuration gives one (pxe/admin-pin.ts).
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { parseArgs } from 'node:util';
import { bootServerSwitchedOn, loadBootServerConfig, type BootServerConfig } from './config.js';
import {
  DEFAULT_NETBOOT_DIR, prepareBootServerState, startBootServer, writeFailedStatus, writeOffStatus, type BootServer,
} from './boot-server.js';
import { DEFAULT_STATE_DIR, DEFAULT_SWITCH_PATH, readBootServerStatus, readBootServerSwitch } from '../contract/boot-server-files.js';
import { hashClientPins, readBoxPin } from './admin-pin.js';

/** The kiosk's settings store on the image (THINKIOSK_SETTINGS_DIR of the kiosk service). */
const DEFAULT_KIOSK_SETTINGS = '/var/lib/thinkiosk/settings/settings.json';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    config: { type: 'string', default: '/boot/firmware/thinkiosk-boot-server.yaml' },
    preset: { type: 'string', default: '/boot/firmware/thinkiosk.conf' },
    netboot: { type: 'string', default: DEFAULT_NETBOOT_DIR },
    state: { type: 'string', default: DEFAULT_STATE_DIR },
    dnsmasq: { type: 'string', default: '/usr/sbin/dnsmasq' },
    /** The admin screen's switch (contract/boot-server-files.ts). */
    switch: { type: 'string', default: DEFAULT_SWITCH_PATH },
    /** Keep running while switched off and follow the switch (the image's service). */
    watch: { type: 'boolean', default: false },
    /** The box's kiosk settings: its admin PIN, for netbooted kiosks when thinkiosk.conf has none (admin-pin.ts). */
    'kiosk-settings': { type: 'string', default: DEFAULT_KIOSK_SETTINGS },
  },
});

const say = (line: string): void => void process.stdout.write(`${line}\n`);

function presetSaysOn(path: string): boolean {
  try {
    return bootServerSwitchedOn(readFileSync(path, 'utf8'));
  } catch {
    return false;
  }
}

/** Whether to serve, and why: the admin's switch, once set, wins over the files' defaults. */
function decide(config: BootServerConfig): { on: boolean; reason: string } {
  const chosen = readBootServerSwitch(args.switch);
  if (chosen) return { on: chosen.enabled, reason: `switched ${chosen.enabled ? 'on' : 'off'} on the admin screen at ${chosen.changedAt}` };
  if (config.enabled) return { on: true, reason: `enabled: true in ${args.config}` };
  if (presetSaysOn(args.preset)) return { on: true, reason: `boot_server = on in ${args.preset}` };
  return { on: false, reason: `off by default (not switched on on the admin screen, no "enabled: true" in ${args.config}, no "boot_server = on" in ${args.preset})` };
}

async function main(): Promise<number> {
  const command = positionals[0] ?? 'serve';
  const paths = { netbootDir: args.netboot, stateDir: args.state, dnsmasq: args.dnsmasq };
  if (command === 'status') {
    const reading = readBootServerStatus(args.state);
    if (reading.kind === 'missing') say(`the boot server has not run here (no status in ${args.state})`);
    if (reading.kind === 'unreadable') say(`the boot server's status in ${args.state} ${reading.why}`);
    if (reading.kind === 'ok') say(JSON.stringify(reading.status, null, 2));
    return reading.kind === 'ok' && reading.status.state === 'running' ? 0 : 3;
  }
  let config: BootServerConfig;
  try {
    config = loadBootServerConfig(args.config);
  } catch (error) {
    // The admin screen shows the status: a broken configuration is said there too, not only in the journal.
    writeFailedStatus(args.state, (error as Error).message);
    throw error;
  }
  if (command === 'render') {
    const pins = await hashClientPins(config, readBoxPin(args.preset, args['kiosk-settings']));
    const prepared = prepareBootServerState(pins.config, paths, args.config);
    process.stdout.write(prepared.dnsmasqConf);
    for (const problem of [...prepared.files.problems, ...pins.problems]) say(`# problem: ${problem}`);
    return 0;
  }
  if (command !== 'serve') {
    say(`unknown command "${command}": serve, render or status`);
    return 2;
  }
  // Signals are taken before anything starts, and for good (process.on, not once): a stop during
  // start-up is kept and acted on once dnsmasq runs, and a second signal while stopping cannot end
  // this process with the default action and leave dnsmasq behind. A leftover of a killed server is
  // stopped at the next start (stopLeftoverDnsmasq).
  let stopRequested: string | null = null;
  let onStop: (signal: string) => void = (signal) => (stopRequested ??= signal);
  process.on('SIGTERM', () => onStop('SIGTERM'));
  process.on('SIGINT', () => onStop('SIGINT'));
  process.on('SIGHUP', () => onStop('SIGHUP'));

  let server: BootServer | null = null;
  let finished = false;
  return new Promise((resolve) => {
    const finish = (code: number): void => {
      if (finished) return;
      finished = true;
      unwatchFile(args.switch);
      // After any start or stop under way, so dnsmasq is never started after this stop.
      void (queue = queue.then(async () => {
        await server?.stop();
        resolve(code);
      }));
    };
    onStop = (signal: string): void => {
      say(`boot server: stopping (${signal})`);
      finish(0);
    };
    // One start or stop at a time, in the order asked.
    let queue: Promise<void> = Promise.resolve();
    const apply = (): void => {
      void (queue = queue.then(async () => {
        if (finished) return;
        const { on, reason } = decide(config);
        if (on && !server) {
          say(`boot server: on (${reason})`);
          try {
            // Read at every start: a PIN changed since is handed out from the next start on.
            const boxPin = readBoxPin(args.preset, args['kiosk-settings']);
            const started = await startBootServer(config, paths, { source: args.config, log: say, reason, boxPin });
            server = started;
            started.onExit((error) => {
              say(`boot server: ${error ?? 'dnsmasq ended'}`);
              // The service manager restarts the whole service (a fresh dnsmasq, the state rewritten).
              finish(1);
            });
          } catch (error) {
            say(`boot server: cannot start: ${(error as Error).message}`);
            if (!args.watch) finish(1);
          }
        } else if (!on && server) {
          say(`boot server: off (${reason})`);
          await server.stop();
          server = null;
          writeOffStatus(config, args.state, reason);
        } else if (!on) {
          say(`boot server: off (${reason})`);
          writeOffStatus(config, args.state, reason);
          if (!args.watch) finish(0);
        }
      }));
    };
    apply();
    if (stopRequested) onStop(stopRequested);
    // --watch (the image's service): follow the admin screen's switch. Polled: the file may not
    // exist yet, and the settings partition may be mounted after this starts.
    if (args.watch) watchFile(args.switch, { interval: 1000 }, apply);
  });
}

main().then((code) => process.exit(code), (error: Error) => {
  say(`boot server: cannot start: ${error.message}`);
  process.exit(1);
});
