/**
 * The boot server's command line (run as root by the image's boot server unit):
 *
 *   node dist/pxe/main.js serve  [--config FILE] [--preset FILE] [--netboot DIR] [--state DIR]
 *   node dist/pxe/main.js render [--config FILE] [--netboot DIR] [--state DIR]   writes the state, prints dnsmasq's configuration
 *   node dist/pxe/main.js status [--state DIR]                                   prints the running server's status (JSON)
 *
 * serve runs until SIGTERM/SIGINT; it serves only when the configuration says `enabled: true` or
 * the boot partition's thinkiosk.conf says `boot_server = on` (off by default).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { bootServerSwitchedOn, loadBootServerConfig } from './config.js';
import { DEFAULT_NETBOOT_DIR, DEFAULT_STATE_DIR, prepareBootServerState, readBootServerStatus, startBootServer } from './boot-server.js';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    config: { type: 'string', default: '/boot/firmware/thinkiosk-boot-server.yaml' },
    preset: { type: 'string', default: '/boot/firmware/thinkiosk.conf' },
    netboot: { type: 'string', default: DEFAULT_NETBOOT_DIR },
    state: { type: 'string', default: DEFAULT_STATE_DIR },
    dnsmasq: { type: 'string', default: '/usr/sbin/dnsmasq' },
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

async function main(): Promise<number> {
  const command = positionals[0] ?? 'serve';
  const paths = { netbootDir: args.netboot, stateDir: args.state, dnsmasq: args.dnsmasq };
  if (command === 'status') {
    const status = readBootServerStatus(args.state);
    say(status ? JSON.stringify(status, null, 2) : `the boot server has not run here (no status in ${args.state})`);
    return status?.state === 'running' ? 0 : 3;
  }
  const config = loadBootServerConfig(args.config);
  if (command === 'render') {
    const prepared = prepareBootServerState(config, paths, args.config);
    process.stdout.write(prepared.dnsmasqConf);
    for (const problem of prepared.files.problems) say(`# problem: ${problem}`);
    return 0;
  }
  if (command !== 'serve') {
    say(`unknown command "${command}": serve, render or status`);
    return 2;
  }
  if (!config.enabled && !presetSaysOn(args.preset)) {
    say(`boot server: off (enabled: false in ${args.config}, no "boot_server = on" in ${args.preset})`);
    return 0;
  }
  // Signals are taken before anything starts: a stop during start-up still stops dnsmasq.
  let stopRequested: string | null = null;
  let onStop: (signal: string) => void = (signal) => (stopRequested = signal);
  process.once('SIGTERM', () => onStop('SIGTERM'));
  process.once('SIGINT', () => onStop('SIGINT'));
  const server = await startBootServer(config, paths, { source: args.config, log: say });
  return new Promise((resolve) => {
    onStop = (signal: string): void => {
      say(`boot server: stopping (${signal})`);
      void server.stop().then(() => resolve(0));
    };
    if (stopRequested) onStop(stopRequested);
    server.onExit((error) => {
      say(`boot server: ${error ?? 'dnsmasq ended'}`);
      void server.stop().then(() => resolve(1));
    });
  });
}

main().then((code) => process.exit(code), (error: Error) => {
  say(`boot server: cannot start: ${error.message}`);
  process.exit(1);
});
