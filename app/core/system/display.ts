/**
 * The screen settings of whichever display server the kiosk runs under: wlr-randr under Wayland
 * (cage on the appliance), xrandr under X. Decided per call from the environment, because the
 * browser shell can be started under either.
 */
import { SystemError } from './system-error.js';
import { WlrRandr } from './wlr-randr.js';
import { Xrandr, type DisplayOutput } from './xrandr.js';

export type { DisplayOutput } from './xrandr.js';

export interface DisplayOptions {
  env?: NodeJS.ProcessEnv;
  xrandrCommand?: string;
  wlrRandrCommand?: string;
}

export class Displays {
  constructor(private readonly options: DisplayOptions = {}) {}

  async outputs(): Promise<DisplayOutput[]> {
    return this.tool().outputs();
  }

  async setMode(output: string, mode: string): Promise<void> {
    return this.tool().setMode(output, mode);
  }

  private tool(): Xrandr | WlrRandr {
    const env = this.options.env ?? process.env;
    if (env.WAYLAND_DISPLAY) return new WlrRandr({ command: this.options.wlrRandrCommand, env });
    if (env.DISPLAY) return new Xrandr({ command: this.options.xrandrCommand, env });
    throw new SystemError('system', 'The kiosk is not running on a display server, so there are no screen settings to change.', 'neither WAYLAND_DISPLAY nor DISPLAY is set');
  }
}
