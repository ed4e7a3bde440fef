/**
 * What a day may not leave behind once the last person has logged out: a viewer or shell under the
 * kiosk (or one that escaped it — found by the kiosk's HOME in its environment), a console the
 * controller still relays, a connection to a desktop from anyone, or a connection from the kiosk
 * to the controller that outlives the controller's keep-alive time.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Classroom } from './classroom.js';
import { descendantsOf, processName, processesWithEnvironment } from './measure.js';

const run = promisify(execFile);

/** The controller closes idle keep-alive connections after 5 s; a relayed console has no such end. */
const SETTLE_MS = 15_000;

export async function leftBehind(room: Classroom): Promise<string[]> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const problems = await look(room);
    if (!problems.length || Date.now() > deadline) return problems;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function look(room: Classroom): Promise<string[]> {
  const problems: string[] = [];
  const under = descendantsOf(room.kioskPid);
  if (under.length) problems.push(`processes still running under the kiosk: ${under.map((pid) => `${processName(pid)} (${pid})`).join(', ')}`);
  const escaped = processesWithEnvironment(`HOME=${room.kiosk.settingsDir}`, [room.kioskPid, ...under]);
  if (escaped.length) problems.push(`processes the kiosk started that escaped it: ${escaped.map((p) => `${p.name} (${p.pid})`).join(', ')}`);

  const desktopPorts = new Set([...room.desktops.serverPorts, room.desktops.vnc.port, room.desktops.spice.port, room.desktops.rdp.port]);
  const desktopHosts = ['127.0.0.1', room.network.hostAddress];
  const peer = (fields: string[]): { host: string; port: number } => {
    const text = fields[3]!;
    return { host: text.slice(0, text.lastIndexOf(':')), port: Number(text.slice(text.lastIndexOf(':') + 1)) };
  };
  const established = async (inside: boolean): Promise<string[][]> => {
    const lines = inside ? await room.network.establishedInside() : (await run('ss', ['-tnH', 'state', 'established'], { timeout: 15_000 })).stdout.split('\n');
    return lines.map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 4);
  };
  const toDesktops = (rows: string[][]): string[] => rows.filter((f) => desktopPorts.has(peer(f).port) && desktopHosts.includes(peer(f).host)).map((f) => `${f[2]} → ${f[3]}`);

  const here = await established(false);
  const fromHost = toDesktops(here);
  if (fromHost.length) problems.push(`connections to the desktops still open on this host: ${fromHost.join(', ')}`);
  const fromController = toDesktops(await established(true));
  if (fromController.length) problems.push(`the controller's connections to the desktops still open: ${fromController.join(', ')}`);
  const controller = new URL(room.controller.url).host;
  const toController = here.filter((f) => f[3] === controller);
  if (toController.length) problems.push(`${toController.length} connection(s) from the kiosk to the controller still open (a relayed console, or a request that never ended)`);
  if (room.desktops.forwarded()) problems.push(`${room.desktops.forwarded()} console connection(s) still forwarded to the VNC/SPICE servers`);
  const { current } = room.controller.relayEvents();
  if (current.opened !== current.closed) problems.push(`the running controller's relay logged ${current.opened} consoles opened and ${current.closed} closed`);
  return problems;
}
