/**
 * Sound outputs through `pactl` talking to pipewire-pulse (the appliance runs PipeWire with its
 * PulseAudio server). pactl, not wpctl: `pactl -f json` is machine-readable, while `wpctl status` is
 * a tree drawn for people; and sink names (`node.name`) stay the same across reboots, where
 * PipeWire's numeric ids do not.
 */
import { z } from 'zod';
import { AudioOutput } from '../kiosk-api.js';
import { firstErrorLine, runTool, type ToolRun } from './run-tool.js';
import { SystemError } from './system-error.js';

export type AudioOutput = z.infer<typeof AudioOutput>;

/** PulseAudio's 100 %: volumes travel as integers on this scale. */
const VOLUME_NORM = 65536;

const Sink = z.object({
  name: z.string(),
  description: z.string().nullable().optional(),
  mute: z.boolean(),
  volume: z.record(z.string(), z.object({ value: z.number() })),
});
const Sinks = z.array(Sink);
const ServerInfo = z.object({ default_sink_name: z.string().nullable().optional() });

export interface AudioOptions {
  command?: string;
  /** Environment for pactl (XDG_RUNTIME_DIR or PULSE_SERVER locate the sound server). */
  env?: NodeJS.ProcessEnv;
}

/** `pactl -f json list sinks` plus the default sink's name → the outputs the admin screen lists. */
export function parseSinks(sinksJson: string, defaultSink: string | null): AudioOutput[] {
  const sinks = parseJson(Sinks, sinksJson, 'list sinks');
  return sinks.map((sink) => {
    const levels = Object.values(sink.volume).map((channel) => channel.value / VOLUME_NORM);
    const average = levels.length > 0 ? levels.reduce((a, b) => a + b, 0) / levels.length : null;
    return AudioOutput.parse({
      id: sink.name,
      name: sink.description || sink.name,
      isDefault: sink.name === defaultSink,
      // A muted output is silent whatever its level, so it shows as 0; setting a level unmutes it.
      volume: average === null ? null : sink.mute ? 0 : Math.round(average * 100) / 100,
    });
  });
}

/** `pactl -f json info` → the default sink's name. */
export function parseDefaultSink(infoJson: string): string | null {
  return parseJson(ServerInfo, infoJson, 'info').default_sink_name ?? null;
}

export class Audio {
  private readonly command: string;
  private readonly env: NodeJS.ProcessEnv | undefined;

  constructor(options: AudioOptions = {}) {
    this.command = options.command ?? 'pactl';
    this.env = options.env;
  }

  async outputs(): Promise<AudioOutput[]> {
    const info = await this.pactl(['-f', 'json', 'info'], 'read the sound settings');
    const sinks = await this.pactl(['-f', 'json', 'list', 'sinks'], 'list the sound outputs');
    return parseSinks(sinks.stdout, parseDefaultSink(info.stdout));
  }

  /** Makes `id` the output new sounds go to; with `volume` (1 = 100 %, up to 1.5) also sets its level. */
  async setOutput(id: string, volume?: number): Promise<void> {
    if (volume !== undefined && (!Number.isFinite(volume) || volume < 0 || volume > 1.5)) {
      throw new SystemError('invalid-input', 'The volume must be between 0 and 150 %.', `volume ${volume}`);
    }
    const known = await this.outputs();
    if (!known.some((output) => output.id === id)) {
      throw new SystemError('invalid-input', 'That sound output is no longer there (unplugged?). Reopen the sound settings and choose again.', `sink ${JSON.stringify(id)} not among ${known.map((o) => o.id).join(', ')}`);
    }
    await this.pactl(['set-default-sink', id], 'switch the sound output');
    if (volume !== undefined) {
      await this.pactl(['set-sink-volume', id, `${Math.round(volume * 100)}%`], 'change the volume');
      await this.pactl(['set-sink-mute', id, '0'], 'unmute the output');
    }
  }

  private async pactl(args: string[], action: string): Promise<ToolRun> {
    const run = await runTool(this.command, args, { service: 'The sound service', missing: 'The sound tools (pactl) are not installed on this kiosk. The system image needs the pulseaudio-utils package.', env: this.env, timeoutMs: 10_000 });
    if (run.code !== 0) throw pactlFailure(run, action);
    return run;
  }
}

/** What a failed pactl call means; `action` completes "The kiosk could not …". */
export function pactlFailure(run: ToolRun, action: string): SystemError {
  const detail = `pactl exit ${run.code}: ${firstErrorLine(run.stderr)}`;
  if (/Connection failure|Connection refused|pa_context_connect/i.test(run.stderr)) {
    return new SystemError('system', 'The sound service (PipeWire) is not running. Restart the kiosk; if there is still no sound, the system image needs repair.', detail);
  }
  if (/No such entity/i.test(run.stderr)) {
    return new SystemError('invalid-input', 'That sound output is no longer there (unplugged?). Reopen the sound settings and choose again.', detail);
  }
  return new SystemError('system', `The kiosk could not ${action}. Try again; if it keeps failing, restart the kiosk.`, detail);
}

function parseJson<T>(schema: z.ZodType<T>, text: string, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw unreadable(`pactl ${what}: not JSON (${String(error)})`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw unreadable(`pactl ${what}: ${parsed.error.message}`);
  return parsed.data;
}

function unreadable(detail: string): SystemError {
  return new SystemError('system', 'The sound service gave an answer the kiosk does not understand. Restart the kiosk; if it keeps happening, the system image needs an update.', detail);
}
