/**
 * NetworkManager through `nmcli -t` (terse: one record a line, fields split by ':', and ':' or '\'
 * inside a value escaped with '\'): the network devices, a Wi-Fi scan and joining a Wi-Fi network.
 *
 * The Wi-Fi password never appears on a command line (where `ps` would show it to every local user)
 * and is never written to disk by the kiosk: nmcli reads it as a password file from a named pipe
 * (`connection up ... passwd-file <fifo>`, see secret-pipe.ts; nmcli reads non-regular files to
 * their end), and NetworkManager, asking for the secret, gets it from nmcli acting as its secret
 * agent. That path also works for a saved profile whose old password is wrong: NetworkManager tries
 * the saved one, fails, and asks the agent for a new one. (`nmcli --ask` with the password typed
 * into its prompt would work too, but which prompts come, in what order, depends on the network.)
 */
import { z } from 'zod';
import { NetworkDevice, WifiNetwork } from '../kiosk-api.js';
import { firstErrorLine, runTool, type ToolRun } from './run-tool.js';
import { withSecretPipe } from './secret-pipe.js';
import { SystemError } from './system-error.js';

export type NetworkDevice = z.infer<typeof NetworkDevice>;
export type WifiNetwork = z.infer<typeof WifiNetwork>;

export interface NmcliOptions {
  /** The nmcli binary (tests point this elsewhere). */
  command?: string;
  /** Environment for nmcli, e.g. DBUS_SYSTEM_BUS_ADDRESS of a test bus. */
  env?: NodeJS.ProcessEnv;
  /** Seconds NetworkManager may take to join a network before we give up. */
  connectSeconds?: number;
}

/** nmcli's documented exit codes (nmcli(1), "EXIT STATUS") that we act on. */
const EXIT = { activationFailed: 4, notRunning: 8, notFound: 10 } as const;

/** Splits one terse line on the ':' that are not escaped, and removes the escapes. */
export function splitTerse(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '\\' && i + 1 < line.length) {
      current += line[++i]!;
    } else if (ch === ':') {
      fields.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  fields.push(current);
  return fields;
}

function terseRecords(stdout: string, fieldCount: number, what: string): string[][] {
  return stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const fields = splitTerse(line);
      if (fields.length !== fieldCount) {
        throw new SystemError('system', 'NetworkManager gave an answer the kiosk does not understand. Restart the kiosk; if it keeps happening, the system image needs an update.', `nmcli ${what}: expected ${fieldCount} fields, got ${fields.length} in ${JSON.stringify(line)}`);
      }
      return fields;
    });
}

/** `nmcli -t -f DEVICE,TYPE,STATE,CONNECTION device status` */
export function parseDeviceStatus(stdout: string): NetworkDevice[] {
  return terseRecords(stdout, 4, 'device status').map(([device, type, state, connection]) =>
    NetworkDevice.parse({ device, type, state, connection: connection ? connection : null }),
  );
}

/**
 * `nmcli -t -f IN-USE,BSSID,SSID,SIGNAL,SECURITY device wifi list`: one line per access point, so
 * a network with several access points is listed once, with its strongest signal. Hidden networks
 * (empty SSID) cannot be chosen from a list and are left out. Strongest first, the joined one on top.
 */
export function parseWifiList(stdout: string): WifiNetwork[] {
  const bySsid = new Map<string, WifiNetwork>();
  for (const [inUse, , ssid, signalText, security] of terseRecords(stdout, 5, 'device wifi list')) {
    if (!ssid) continue;
    const signal = Number(signalText);
    const network = WifiNetwork.parse({ ssid, signal: Number.isFinite(signal) ? signal : 0, security: security ?? '', inUse: inUse === '*' });
    const known = bySsid.get(ssid);
    if (!known) {
      bySsid.set(ssid, network);
    } else {
      bySsid.set(ssid, { ...(network.signal > known.signal ? network : known), inUse: known.inUse || network.inUse });
    }
  }
  return [...bySsid.values()].sort((a, b) => Number(b.inUse) - Number(a.inUse) || b.signal - a.signal || a.ssid.localeCompare(b.ssid));
}

/** How a network's SECURITY column (e.g. "WPA1 WPA2", "WPA3", "WPA2 802.1X", "") decides joining it. */
export function wifiKeyManagement(security: string): 'none' | 'wpa-psk' | 'sae' | 'enterprise' | 'wep' {
  const words = new Set(security.split(/\s+/).filter(Boolean));
  if (words.size === 0) return 'none';
  if (words.has('802.1X')) return 'enterprise';
  if (words.has('WEP')) return 'wep';
  // WPA2/WPA3 transition networks accept WPA-PSK; only pure WPA3 needs SAE.
  if (words.has('WPA3') && !words.has('WPA2') && !words.has('WPA1')) return 'sae';
  return 'wpa-psk';
}

export class Nmcli {
  private readonly command: string;
  private readonly env: NodeJS.ProcessEnv | undefined;
  private readonly connectSeconds: number;

  constructor(options: NmcliOptions = {}) {
    this.command = options.command ?? 'nmcli';
    this.env = options.env;
    this.connectSeconds = options.connectSeconds ?? 45;
  }

  async devices(): Promise<NetworkDevice[]> {
    const run = await this.nmcli(['-t', '-f', 'DEVICE,TYPE,STATE,CONNECTION', 'device', 'status']);
    if (run.code !== 0) throw nmcliFailure(run, 'list the network devices');
    return parseDeviceStatus(run.stdout);
  }

  async wifiScan(): Promise<WifiNetwork[]> {
    const devices = await this.devices();
    if (!devices.some((d) => d.type === 'wifi')) throw noWifiAdapter('nmcli device status lists no wifi device');
    // 'auto' rescans only when NetworkManager's last scan is stale, so opening the screen twice
    // does not take the radio off channel twice.
    const run = await this.nmcli(['-t', '-f', 'IN-USE,BSSID,SSID,SIGNAL,SECURITY', 'device', 'wifi', 'list', '--rescan', 'auto'], 30_000);
    if (run.code !== 0) throw nmcliFailure(run, 'scan for Wi-Fi networks');
    return parseWifiList(run.stdout);
  }

  /** Joins `ssid` (which must be in range); returns a sentence for the screen. */
  async wifiConnect(ssid: string, password?: string): Promise<string> {
    const network = (await this.wifiScan()).find((n) => n.ssid === ssid);
    if (!network) {
      throw new SystemError('invalid-input', `The Wi-Fi network “${ssid}” is not in range. Scan again, or move the kiosk closer to the access point.`, `ssid ${JSON.stringify(ssid)} not in scan`);
    }
    const keyManagement = wifiKeyManagement(network.security);
    if (keyManagement === 'enterprise') {
      throw new SystemError('invalid-input', `“${ssid}” needs a personal login (WPA Enterprise), which this screen cannot set up. Ask your network administrator for a network with a shared password, or for a cable.`, `ssid ${JSON.stringify(ssid)}: ${network.security}`);
    }
    if (keyManagement === 'wep') {
      throw new SystemError('invalid-input', `“${ssid}” uses WEP, an old security scheme that is no longer safe and is not supported. Use another network or a cable.`, `ssid ${JSON.stringify(ssid)}: ${network.security}`);
    }
    if (keyManagement === 'none' || password === undefined || password === '') {
      // An open network, or a secured one with a profile that already holds its password.
      const run = await this.nmcli(['--wait', String(this.connectSeconds), 'device', 'wifi', 'connect', ssid], this.connectTimeoutMs());
      if (run.code !== 0) {
        const failure = nmcliConnectFailure(run, ssid, keyManagement !== 'none');
        // No password given and none saved: "not accepted" would puzzle; say what is missing.
        if (keyManagement !== 'none' && failure.kind === 'invalid-input' && /not accepted/.test(failure.message)) {
          throw new SystemError('invalid-input', `“${ssid}” needs a password. Enter it and try again.`, failure.detail);
        }
        throw failure;
      }
      return `Connected to “${ssid}”.`;
    }
    await this.ensureWifiProfile(ssid, keyManagement);
    await this.activate(ssid, `802-11-wireless-security.psk:${password}\n`);
    return `Connected to “${ssid}”.`;
  }

  /**
   * Brings up the saved profile `name`, handing NetworkManager `secrets` (password-file lines,
   * `setting.property:value`) through nmcli when it asks for them.
   */
  async activate(name: string, secrets: string): Promise<void> {
    const run = await withSecretPipe(secrets, (path) => this.nmcli(['--wait', String(this.connectSeconds), 'connection', 'up', 'id', name, 'passwd-file', path], this.connectTimeoutMs()));
    if (run.code !== 0) throw nmcliConnectFailure(run, name, true);
  }

  /** Creates a Wi-Fi profile named after the network unless one exists; nmcli would do the same. */
  private async ensureWifiProfile(ssid: string, keyManagement: 'wpa-psk' | 'sae'): Promise<void> {
    const list = await this.nmcli(['-t', '-f', 'NAME,TYPE', 'connection', 'show']);
    if (list.code !== 0) throw nmcliFailure(list, 'read the saved networks');
    const exists = terseRecords(list.stdout, 2, 'connection show').some(([name, type]) => name === ssid && type === '802-11-wireless');
    if (exists) return;
    const add = await this.nmcli(['connection', 'add', 'type', 'wifi', 'ifname', '*', 'con-name', ssid, 'ssid', ssid, 'wifi-sec.key-mgmt', keyManagement]);
    if (add.code !== 0) throw nmcliFailure(add, `save the Wi-Fi network “${ssid}”`);
  }

  private connectTimeoutMs(): number {
    // nmcli's own --wait ends first and says why; ours only catches a hung nmcli.
    return (this.connectSeconds + 15) * 1000;
  }

  private nmcli(args: string[], timeoutMs = 15_000): Promise<ToolRun> {
    return runTool(this.command, args, { service: 'NetworkManager', missing: 'NetworkManager is not installed on this kiosk, so the network cannot be changed here. The system image needs the network-manager package.', env: this.env, timeoutMs });
  }
}

/** What a failed join means to the technician; `name` is the network or profile. */
export function nmcliConnectFailure(run: ToolRun, name: string, secured: boolean): SystemError {
  const said = `${run.stderr}\n${run.stdout}`;
  const detail = `nmcli exit ${run.code}: ${firstErrorLine(run.stderr) || run.stdout.trim()}`;
  // NetworkManager's words when the access point refused the key (reason 7, "no secrets").
  if (secured && /Secrets were required|802-1X supplicant/i.test(said)) {
    return new SystemError('invalid-input', `The password for “${name}” was not accepted. Check it (capitals count) and try again.`, detail);
  }
  if (/No suitable device found|No Wi-Fi device found/i.test(said)) return noWifiAdapter(detail);
  if (/No network with SSID/i.test(said) || (run.code === EXIT.notFound && /not found/i.test(said))) {
    return new SystemError('invalid-input', `The Wi-Fi network “${name}” is not in range. Scan again, or move the kiosk closer to the access point.`, detail);
  }
  if (/Timeout .* expired|timed out/i.test(said)) {
    return new SystemError('system', `Joining “${name}” took too long. Check that the access point is in range and working, then try again.`, detail);
  }
  if (run.code === EXIT.activationFailed) {
    return new SystemError('system', `The kiosk could not join “${name}” (${reasonOf(said)}). Check the network's password and settings, then try again.`, detail);
  }
  return nmcliFailure(run, `join “${name}”`);
}

/** What any other failed nmcli call means; `action` completes "NetworkManager could not …". */
export function nmcliFailure(run: ToolRun, action: string): SystemError {
  const said = `${run.stderr}\n${run.stdout}`;
  const detail = `nmcli exit ${run.code}: ${firstErrorLine(run.stderr) || run.stdout.trim()}`;
  // Exit 8 when the bus is there but NetworkManager is not; with no D-Bus at all libnm cannot
  // even create its client. Either way, to the technician it is the same.
  if (run.code === EXIT.notRunning || /NetworkManager is not running|Could not create NMClient object/.test(said)) {
    return new SystemError('system', 'NetworkManager is not running, so the network cannot be changed here. Restart the kiosk; if that does not help, the system image needs repair.', detail);
  }
  if (/Not authorized|Insufficient privileges|not allowed/i.test(said)) {
    return new SystemError('system', 'NetworkManager did not allow the kiosk to change the network. The system image needs to grant the kiosk user network control (a polkit rule).', detail);
  }
  return new SystemError('system', `NetworkManager could not ${action} (${reasonOf(said)}). Try again; if it keeps failing, restart the kiosk.`, detail);
}

function noWifiAdapter(detail: string): SystemError {
  return new SystemError('system', 'This kiosk has no Wi-Fi adapter. Connect a network cable, or plug in a Wi-Fi adapter and scan again.', detail);
}

/** nmcli's own reason, short, for inside a sentence ("Error: Connection activation failed: X." → "X"). */
function reasonOf(said: string): string {
  const line = firstErrorLine(said.trim());
  const reason = line.replace(/^Connection activation failed:\s*/i, '').replace(/\.$/, '').trim();
  return reason.length > 0 && reason.length < 160 ? reason : 'no reason given';
}
