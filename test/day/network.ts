/**
 * The classroom's network: the controller lives in its own network namespace, reached from the
 * kiosk over a veth pair, so the test can pull the cable between them (link down) and plug it back
 * in, exactly as a switch port or a Wi-Fi drop would. The desktops stay on this host; small TCP
 * forwarders put them on the host's end of the pair, where both the controller (through the link)
 * and the kiosk's native viewers (locally) reach them by the same address.
 *
 * Needs root (ip netns, ip link). Names: `tkday<slot>` (namespace) and `tkday<slot>h` / `tkday<slot>c`
 * (host and controller ends); addresses 10.89.<slot>.1 (host) and 10.89.<slot>.2 (controller).
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ControllerNetwork {
  /** Network namespace the controller runs in. */
  namespace: string;
  /** This host's end of the link (the kiosk and the desktops' forwarders). */
  hostAddress: string;
  /** The controller's end. */
  controllerAddress: string;
  /** Link down: packets between kiosk and controller go nowhere, connections stall. */
  drop(): Promise<void>;
  restore(): Promise<void>;
  /** The command line that runs `command` inside the controller's namespace. */
  wrap(command: string, args: string[]): { command: string; args: string[] };
  /** Sockets established inside the namespace (ss -tnH state established), for leak checks. */
  establishedInside(): Promise<string[]>;
  close(): Promise<void>;
}

async function ip(...args: string[]): Promise<void> {
  try {
    await run('ip', args, { timeout: 15_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`ip ${args.join(' ')} failed: ${stderr || String(error)}`);
  }
}

async function quietly(...args: string[]): Promise<void> {
  await run('ip', args, { timeout: 15_000 }).catch(() => undefined);
}

/** slot 0..9: the day test uses 0, the soak 1 (they may run side by side). */
export async function startControllerNetwork(slot: number): Promise<ControllerNetwork> {
  if (!Number.isInteger(slot) || slot < 0 || slot > 9) throw new Error(`network slot ${slot} is not 0..9`);
  if (process.getuid?.() !== 0) throw new Error('the classroom day needs root (network namespaces)');
  const namespace = `tkday${slot}`;
  const hostEnd = `tkday${slot}h`;
  const controllerEnd = `tkday${slot}c`;
  const hostAddress = `10.89.${slot}.1`;
  const controllerAddress = `10.89.${slot}.2`;
  // A run that was killed leaves its namespace and link behind; only ours, by name.
  await quietly('netns', 'del', namespace);
  await quietly('link', 'del', hostEnd);
  await ip('netns', 'add', namespace);
  try {
    await ip('link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', controllerEnd);
    await ip('link', 'set', controllerEnd, 'netns', namespace);
    await ip('addr', 'add', `${hostAddress}/24`, 'dev', hostEnd);
    await ip('link', 'set', hostEnd, 'up');
    await ip('-n', namespace, 'addr', 'add', `${controllerAddress}/24`, 'dev', controllerEnd);
    await ip('-n', namespace, 'link', 'set', controllerEnd, 'up');
    await ip('-n', namespace, 'link', 'set', 'lo', 'up');
  } catch (error) {
    await quietly('netns', 'del', namespace);
    await quietly('link', 'del', hostEnd);
    throw error;
  }
  return {
    namespace, hostAddress, controllerAddress,
    drop: () => ip('link', 'set', hostEnd, 'down'),
    restore: async () => {
      await ip('link', 'set', hostEnd, 'up');
      // The link's route comes back with it; wait until the controller's end answers again.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        const routes = (await run('ip', ['route', 'show', 'dev', hostEnd])).stdout;
        if (routes.includes(`10.89.${slot}.0/24`)) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`the route over ${hostEnd} did not come back within 10 s`);
    },
    wrap: (command, args) => ({ command: 'ip', args: ['netns', 'exec', namespace, command, ...args] }),
    establishedInside: async () => {
      const { stdout } = await run('ip', ['netns', 'exec', namespace, 'ss', '-tnH', 'state', 'established'], { timeout: 15_000 });
      return stdout.split('\n').map((line) => line.trim()).filter(Boolean);
    },
    close: async () => {
      await quietly('netns', 'del', namespace);
      await quietly('link', 'del', hostEnd);
    },
  };
}

/**
 * A plain TCP forwarder (from → to). It closes each side when the other closes, so a connection
 * left open at the desktop always means one left open by whoever connected to the forwarder.
 */
export interface Forwarder {
  /** Connections currently forwarded. */
  readonly open: number;
  close(): Promise<void>;
}

export async function startForwarder(from: { host: string; port: number }, to: { host: string; port: number }): Promise<Forwarder> {
  const pairs = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(to);
    pairs.add(client);
    const end = (): void => {
      pairs.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(from.port, from.host, () => resolve());
  });
  return {
    get open() { return pairs.size; },
    close: () => new Promise((resolve) => {
      for (const socket of pairs) socket.destroy();
      server.close(() => resolve());
    }),
  };
}
