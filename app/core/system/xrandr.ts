/**
 * Screen outputs and modes under X (the browser-shell kiosk on Xorg, and tests on Xvfb/Xvnc) through
 * `xrandr --query`, whose layout is stable: an output line per connector, then its modes indented,
 * '*' marking the current one.
 */
import { z } from 'zod';
import { DisplayOutput } from '../kiosk-api.js';
import { firstErrorLine, runTool, type ToolRun } from './run-tool.js';
import { SystemError } from './system-error.js';

export type DisplayOutput = z.infer<typeof DisplayOutput>;

const OUTPUT_LINE = /^(\S+) (connected|disconnected|unknown connection)\b/;
const MODE_LINE = /^\s+(\S+)\s+(.*)$/;

/** Connected outputs of `xrandr --query`, modes in xrandr's order (the preferred one first). */
export function parseXrandr(stdout: string): DisplayOutput[] {
  const outputs: DisplayOutput[] = [];
  let current: DisplayOutput | null = null;
  for (const line of stdout.split('\n')) {
    const output = OUTPUT_LINE.exec(line);
    if (output) {
      // A disconnected connector cannot show anything, so it is not offered.
      current = output[2] === 'disconnected' ? null : { name: output[1]!, modes: [], current: null };
      if (current) outputs.push(current);
      continue;
    }
    const mode = MODE_LINE.exec(line);
    if (!mode || !current) continue;
    const name = mode[1]!;
    if (!current.modes.includes(name)) current.modes.push(name);
    if (mode[2]!.includes('*')) current.current = name;
  }
  return outputs.map((o) => DisplayOutput.parse(o));
}

export class Xrandr {
  constructor(private readonly options: { command?: string; env?: NodeJS.ProcessEnv } = {}) {}

  async outputs(): Promise<DisplayOutput[]> {
    return parseXrandr((await this.xrandr(['--query'], 'read the screen settings')).stdout);
  }

  async setMode(outputName: string, mode: string): Promise<void> {
    const output = (await this.outputs()).find((o) => o.name === outputName);
    // xrandr only warns ("output HDMI-9 not found; ignoring") and exits 0 for an unknown output.
    if (!output) throw noSuchOutput(outputName);
    if (!output.modes.includes(mode)) throw noSuchMode(outputName, mode, output.modes);
    await this.xrandr(['--output', outputName, '--mode', mode], `switch ${outputName} to ${mode}`);
    const after = (await this.outputs()).find((o) => o.name === outputName);
    if (after?.current !== mode) {
      throw new SystemError('system', `The screen did not switch to ${mode}. Try another resolution.`, `xrandr: ${outputName} is at ${after?.current ?? 'nothing'} after --mode ${mode}`);
    }
  }

  private async xrandr(args: string[], action: string): Promise<ToolRun> {
    const run = await runTool(this.options.command ?? 'xrandr', args, { service: 'The display server', missing: 'The screen tool xrandr is not installed on this kiosk. The system image needs the x11-xserver-utils package.', env: this.options.env, timeoutMs: 10_000 });
    if (run.code !== 0) throw xrandrFailure(run, action);
    return run;
  }
}

export function xrandrFailure(run: ToolRun, action: string): SystemError {
  const detail = `xrandr exit ${run.code}: ${firstErrorLine(run.stderr)}`;
  if (/Can't open display/i.test(run.stderr)) {
    return new SystemError('system', 'The kiosk cannot reach its display server (X). Restart the kiosk.', detail);
  }
  return new SystemError('system', `The kiosk could not ${action}. Try another resolution; if it keeps failing, restart the kiosk.`, detail);
}

export function noSuchOutput(name: string): SystemError {
  return new SystemError('invalid-input', `There is no screen called ${name} any more (unplugged?). Reopen the display settings.`, `output ${JSON.stringify(name)} not connected`);
}

export function noSuchMode(output: string, mode: string, modes: readonly string[]): SystemError {
  return new SystemError('invalid-input', `${output} does not offer ${mode}. Choose one of the listed resolutions.`, `mode ${JSON.stringify(mode)} not in ${modes.join(', ')}`);
}
