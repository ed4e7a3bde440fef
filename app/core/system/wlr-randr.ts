/**
 * Screen outputs and modes under a wlroots Wayland compositor through `wlr-randr`, which speaks the
 * wlr-output-management protocol. Debian 12's cage (0.1.4) does not offer that protocol, so there
 * the answer is a clear "cannot be changed here" with the way that does work (the kernel's video=
 * parameter), not a failure the technician cannot act on.
 */
import { DisplayOutput } from '../kiosk-api.js';
import { firstErrorLine, runTool, type ToolRun } from './run-tool.js';
import { noSuchMode, noSuchOutput, type DisplayOutput as Output } from './xrandr.js';
import { SystemError } from './system-error.js';

const HEAD_LINE = /^(\S+)(?:\s+"(.*)")?\s*$/;
const MODE_LINE = /^\s+(\d+)x(\d+) px(?:, [\d.]+ Hz)?(?: \(([^)]*)\))?\s*$/;
const ENABLED_LINE = /^\s+Enabled: (yes|no)\s*$/;

/** `wlr-randr` (no arguments) → outputs with their distinct WxH modes, preferred first. */
export function parseWlrRandr(stdout: string): Output[] {
  const outputs: Array<Output & { enabled: boolean; preferred: string | null }> = [];
  let current: (typeof outputs)[number] | null = null;
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    if (!/^\s/.test(line)) {
      const head = HEAD_LINE.exec(line);
      current = head ? { name: head[1]!, modes: [], current: null, enabled: true, preferred: null } : null;
      if (current) outputs.push(current);
      continue;
    }
    if (!current) continue;
    const enabled = ENABLED_LINE.exec(line);
    if (enabled) {
      current.enabled = enabled[1] === 'yes';
      continue;
    }
    const mode = MODE_LINE.exec(line);
    if (!mode || mode[1] === '0' || mode[2] === '0') continue; // 0x0: an output with no mode yet
    const name = `${mode[1]}x${mode[2]}`;
    const flags = (mode[3] ?? '').split(',').map((f) => f.trim());
    if (!current.modes.includes(name)) current.modes.push(name);
    if (flags.includes('current')) current.current = name;
    if (flags.includes('preferred') && !current.preferred) current.preferred = name;
  }
  return outputs.map(({ name, modes, current, enabled, preferred }) =>
    DisplayOutput.parse({
      name,
      modes: preferred ? [preferred, ...modes.filter((m) => m !== preferred)] : modes,
      current: enabled ? current : null,
    }),
  );
}

export class WlrRandr {
  constructor(private readonly options: { command?: string; env?: NodeJS.ProcessEnv } = {}) {}

  async outputs(): Promise<Output[]> {
    return parseWlrRandr((await this.wlrRandr([], 'read the screen settings')).stdout);
  }

  async setMode(outputName: string, mode: string): Promise<void> {
    const output = (await this.outputs()).find((o) => o.name === outputName);
    if (!output) throw noSuchOutput(outputName);
    if (!output.modes.includes(mode)) throw noSuchMode(outputName, mode, output.modes);
    await this.wlrRandr(['--output', outputName, '--on', '--mode', mode], `switch ${outputName} to ${mode}`);
  }

  private async wlrRandr(args: string[], action: string): Promise<ToolRun> {
    const run = await runTool(this.options.command ?? 'wlr-randr', args, { service: 'The display server', missing: 'The screen tool wlr-randr is not installed on this kiosk. The system image needs the wlr-randr package.', env: this.options.env, timeoutMs: 10_000 });
    if (run.code !== 0) throw wlrRandrFailure(run, action);
    return run;
  }
}

export function wlrRandrFailure(run: ToolRun, action: string): SystemError {
  const detail = `wlr-randr exit ${run.code}: ${firstErrorLine(run.stderr)}`;
  if (/doesn't support wlr-output-management/i.test(run.stderr)) {
    return new SystemError('system', 'The screen resolution cannot be changed from the kiosk: its display server (cage) does not allow it, so the monitor\'s preferred resolution is used. To force one, add e.g. video=HDMI-A-1:1280x720@60 to cmdline.txt on the boot partition.', detail);
  }
  if (/failed to connect to display/i.test(run.stderr)) {
    return new SystemError('system', 'The kiosk cannot reach its display server (Wayland). Restart the kiosk.', detail);
  }
  return new SystemError('system', `The kiosk could not ${action}. Try another resolution; if it keeps failing, restart the kiosk.`, detail);
}
