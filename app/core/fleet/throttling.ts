/**
 * A Raspberry Pi's power and heat flags, as its firmware keeps them: `vcgencmd get_throttled`
 * prints them as `throttled=0x50005`. Bits (Raspberry Pi documentation, "vcgencmd"):
 *   0 under-voltage now, 1 ARM frequency capped now, 2 throttled now, 3 soft temperature limit now,
 *   16 under-voltage has occurred since boot, 17 frequency capping has occurred,
 *   18 throttling has occurred, 19 soft temperature limit has occurred.
 *
 * Where vcgencmd is missing (Debian's image has no userland of the Pi's firmware), the same word is
 * read from the firmware driver of Raspberry Pi kernels
 * (`/sys/devices/platform/soc/soc:firmware/get_throttled`, hexadecimal), and under Debian's own
 * kernel from the `rpi_volt` hardware monitor (`in0_lcrit_alarm`: under-voltage now, nothing else
 * known). Off a Pi there is none of these: null.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Throttling } from '../../../contract/fleet.js';
import { runTool } from '../system/run-tool.js';

export function decodeThrottled(word: number): Throttling {
  const bit = (n: number): boolean => Math.floor(word / 2 ** n) % 2 === 1;
  return {
    underVoltage: bit(0),
    frequencyCapped: bit(1),
    throttled: bit(2),
    softTemperatureLimit: bit(3),
    underVoltageSinceBoot: bit(16),
    throttledSinceBoot: bit(18),
  };
}

/** `throttled=0x50005` → 0x50005; null when the text is not that. */
export function parseVcgencmdThrottled(stdout: string): number | null {
  const match = /throttled=(0x[0-9a-f]+)/i.exec(stdout);
  return match ? Number.parseInt(match[1]!, 16) : null;
}

export interface ThrottlingSources {
  /** Where /sys is looked for (a fixture tree in tests). */
  root: string;
  /** The vcgencmd command, or null to not ask it. */
  vcgencmd: string | null;
}

export async function readThrottling(sources: ThrottlingSources): Promise<Throttling | null> {
  if (sources.vcgencmd) {
    try {
      const run = await runTool(sources.vcgencmd, ['get_throttled'], { service: 'The Raspberry Pi firmware', missing: 'vcgencmd is not installed.', timeoutMs: 3000 });
      const word = run.code === 0 ? parseVcgencmdThrottled(run.stdout) : null;
      if (word !== null) return decodeThrottled(word);
    } catch {
      // not installed or no answer: the kernel may still know
    }
  }
  const firmware = await readText(join(sources.root, 'sys/devices/platform/soc/soc:firmware/get_throttled'));
  if (firmware !== null && /^(0x)?[0-9a-f]+$/i.test(firmware)) return decodeThrottled(Number.parseInt(firmware.replace(/^0x/i, ''), 16));
  const hwmonDir = join(sources.root, 'sys/class/hwmon');
  for (const entry of await readdir(hwmonDir).catch(() => [] as string[])) {
    if ((await readText(join(hwmonDir, entry, 'name'))) !== 'rpi_volt') continue;
    const alarm = await readText(join(hwmonDir, entry, 'in0_lcrit_alarm'));
    if (alarm === null) continue;
    return { underVoltage: alarm === '1', frequencyCapped: false, throttled: false, softTemperatureLimit: false, underVoltageSinceBoot: alarm === '1', throttledSinceBoot: false };
  }
  return null;
}

async function readText(file: string): Promise<string | null> {
  try {
    return (await readFile(file, 'utf8')).replace(/\0/g, '').trim();
  } catch {
    return null;
  }
}
