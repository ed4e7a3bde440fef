/**
 * How fast the native viewers come up and what they weigh, against the local desktops
 * (scripts/local-desktops/start.ts) on an Xvfb of their own: for xfreerdp (RDP, NLA) and remote-viewer
 * (SPICE, ticket), BENCH_NATIVE_RUNS runs each (default 5), one at a time; per run the time from
 * start to `started`, to the picture on screen, and the viewer's RSS two seconds after the picture.
 * Prints medians; asserts nothing. Run: node dist/bench/native-viewers-bench.js
 * Uses ports 16040-16042 and X displays :53 (viewer), :54 and :55 (servers).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NativeLauncher, type NativeSession } from '../app/core/native/native-session.js';
import { startLocalDesktops } from '../scripts/local-desktops/start.js';
import { rssKiB, startViewerScreen } from '../test/support/viewer-screen.js';

const RUNS = Math.max(1, Number(process.env.BENCH_NATIVE_RUNS ?? 5));

interface Sample { startedMs: number; pictureMs: number | null; rssKiB: number | null }

function median(values: number[]): number | null {
  const sorted = [...values].sort((a, b) => a - b);
  if (!sorted.length) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(path.join(tmpdir(), 'thinkiosk-native-bench-'));
  const home = path.join(workDir, 'home');
  const runtime = path.join(workDir, 'runtime');
  mkdirSync(home);
  mkdirSync(runtime, { mode: 0o700 });
  const desktops = await startLocalDesktops({
    workDir: path.join(workDir, 'desktops'), vncPort: 16040, spicePort: 16041, rdpPort: 16042, displayBase: 54,
    vncPassword: 'vnc-pw', spicePassword: 'bench-ticket', rdpUser: 'bench', rdpPassword: 'bench-pass',
  });
  const screen = await startViewerScreen(53, workDir);
  const launcher = new NativeLauncher({ env: { PATH: process.env.PATH, DISPLAY: screen.display, HOME: home, XDG_RUNTIME_DIR: runtime, LANG: 'C.UTF-8' } });
  try {
    const measure = async (start: () => NativeSession): Promise<Sample> => {
      const t0 = Date.now();
      const session = start();
      await session.started;
      const startedMs = Date.now() - t0;
      const shot = await screen.waitForPattern(20_000);
      const pictureMs = shot.ok ? Date.now() - t0 : null;
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const rss = session.pid === null ? null : await rssKiB(session.pid);
      await session.stop();
      await session.result;
      // An empty screen between runs, so the next picture is the next viewer's.
      await new Promise((resolve) => setTimeout(resolve, 500));
      return { startedMs, pictureMs, rssKiB: rss };
    };
    const report = (name: string, samples: Sample[]) => {
      const pictures = samples.map((s) => s.pictureMs).filter((v): v is number => v !== null);
      const rss = samples.map((s) => s.rssKiB).filter((v): v is number => v !== null);
      console.log(`${name}: ${samples.length} runs; start→started median ${median(samples.map((s) => s.startedMs))} ms `
        + `(${samples.map((s) => s.startedMs).join(', ')}); start→picture median ${median(pictures) ?? '-'} ms; `
        + `RSS median ${Math.round((median(rss) ?? 0) / 1024)} MiB (${rss.map((v) => Math.round(v / 1024)).join(', ')})`);
    };
    const rdp: Sample[] = [];
    for (let i = 0; i < RUNS; i++) {
      rdp.push(await measure(() => launcher.startRdp({ ...desktops.rdp, usb: true, sound: true, fullscreen: true })));
    }
    report('xfreerdp (RDP, NLA, fullscreen)', rdp);
    const spice: Sample[] = [];
    for (let i = 0; i < RUNS; i++) {
      spice.push(await measure(() => launcher.startSpice({ ...desktops.spice, usb: true, fullscreen: true })));
    }
    report('remote-viewer (SPICE, ticket, kiosk mode)', spice);
  } finally {
    await launcher.stopAll();
    await screen.stop();
    await desktops.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`native-viewers-bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
