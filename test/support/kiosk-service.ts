/**
 * The kiosk's one API (app/core/kiosk-service.ts) built for unit tests that call it method by
 * method: real settings on disk and the real console relay, with stand-ins, named as such, for what
 * would touch the machine: the admin system tools (nmcli, PipeWire...; the PIN check and hashing
 * inside are the real ones) and the native viewers (xfreerdp, remote-viewer).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import type { KioskEvent, KioskState, NativeOutcome } from '../../app/core/kiosk-api.js';
import { KioskConsoleRelay } from '../../app/core/kiosk-console-relay.js';
import { KioskService, type AdminTools, type NativeViewers, type NativeViewerSession } from '../../app/core/kiosk-service.js';
import { Settings } from '../../app/core/settings.js';
import { hashPin, PinGuard } from '../../app/core/system/admin-pin.js';

/** Stand-in for app/core/system's tools: the real PIN guard and hash, counters for the rest. */
export function adminStandIn(): AdminTools & { locks: number; networkCalls: number } {
  const guard = new PinGuard();
  const tools = {
    locks: 0,
    networkCalls: 0,
    lockAll: async () => { tools.locks += 1; },
    verifyPin: (pin: string, hash: string) => guard.check(pin, hash),
    hashPin: (pin: string) => hashPin(pin),
    networkStatus: async () => { tools.networkCalls += 1; return { devices: [] }; },
  };
  const unused = async (): Promise<never> => { throw new Error('not used by this test'); };
  return new Proxy(tools, { get: (target, name) => (name in target ? target[name as keyof typeof target] : unused) }) as unknown as AdminTools & typeof tools;
}

/** Stand-in for the native viewers: nothing is launched, and the viewers' display is unknown. */
export const noViewers: NativeViewers = {
  startRdp: () => { throw new Error('no viewer in this test'); },
  startSpice: () => { throw new Error('no viewer in this test'); },
  stopAll: async () => undefined,
  inputIdleMs: async () => { throw new Error('no display in this test'); },
};

export type ViewerTarget = Parameters<NativeViewers['startRdp']>[0] | Parameters<NativeViewers['startSpice']>[0];

/** One viewer the stand-in "started": the test ends it as the real viewer's process would end. */
export interface StandInViewer extends NativeViewerSession {
  readonly target: ViewerTarget;
  readonly ctrlAltDels: number;
  readonly stopped: boolean;
  end(outcome: NativeOutcome, message: string): void;
}

/**
 * Stand-in for the native viewers that records what the service asked to start, with the viewers'
 * X display reporting `displayIdleMs` since its last input (null: the display cannot be asked).
 */
export class RecordingViewers implements NativeViewers {
  readonly started: StandInViewer[] = [];
  displayIdleMs: number | null = null;

  startRdp(target: Parameters<NativeViewers['startRdp']>[0]): NativeViewerSession {
    return this.start('rdp', target);
  }

  startSpice(target: Parameters<NativeViewers['startSpice']>[0]): NativeViewerSession {
    return this.start('spice', target);
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.started.map((viewer) => viewer.stop()));
  }

  async inputIdleMs(): Promise<number> {
    if (this.displayIdleMs === null) throw new Error('no display in this test');
    return this.displayIdleMs;
  }

  /** The viewers still running. */
  get running(): StandInViewer[] {
    return this.started.filter((viewer) => !viewer.stopped);
  }

  private start(protocol: 'rdp' | 'spice', target: ViewerTarget): StandInViewer {
    let finish: (result: { outcome: NativeOutcome; message: string }) => void = () => undefined;
    const result = new Promise<{ outcome: NativeOutcome; message: string }>((resolve) => { finish = resolve; });
    let stopped = false;
    let ctrlAltDels = 0;
    const viewer: StandInViewer = {
      id: `viewer-${this.started.length + 1}`,
      protocol,
      target,
      started: Promise.resolve(),
      result,
      get stopped() { return stopped; },
      get ctrlAltDels() { return ctrlAltDels; },
      end: (outcome, message) => { stopped = true; finish({ outcome, message }); },
      stop: async () => { if (!stopped) viewer.end('ended', 'The connection was closed.'); },
      sendCtrlAltDel: async () => { ctrlAltDels += 1; },
    };
    this.started.push(viewer);
    return viewer;
  }
}

export interface ServiceUnderTest {
  service: KioskService;
  settings: Settings;
  admin: ReturnType<typeof adminStandIn>;
  events: KioskEvent[];
  logs: string[];
  dir: string;
}

export interface ServiceOptions {
  /** A fresh settings directory is made in here. */
  parentDir: string;
  netbooted?: boolean;
  preset?: Partial<ReturnType<Settings['read']>>;
  adminIdleSeconds?: number;
  native?: NativeViewers;
}

export function kioskService(options: ServiceOptions): ServiceUnderTest {
  const dir = mkdtempSync(path.join(options.parentDir, 'kiosk-'));
  const settings = new Settings(dir);
  if (options.preset) settings.update(options.preset);
  const admin = adminStandIn();
  const logs: string[] = [];
  const service = new KioskService({
    settings, admin, native: options.native ?? noViewers, relay: new KioskConsoleRelay(), log: (level, message) => logs.push(`${level} ${message}`),
    netbooted: options.netbooted ?? false, bootSource: options.netbooted ? 'netboot from 10.0.0.2' : 'local disk', fullscreenViewers: false,
    ...(options.adminIdleSeconds ? { adminIdleSeconds: options.adminIdleSeconds } : {}),
  });
  const events: KioskEvent[] = [];
  service.subscribe((event) => events.push(event));
  return { service, settings, admin, events, logs, dir };
}

export async function ok<T = KioskState>(k: ServiceUnderTest, method: string, args: unknown = {}): Promise<T> {
  const result = await k.service.call(method, args);
  assert.ok(result.ok, `${method} failed: ${JSON.stringify(!result.ok && result.error)}`);
  return result.value as T;
}

export async function refused(k: ServiceUnderTest, method: string, args: unknown = {}): Promise<{ kind: string; message: string }> {
  const result = await k.service.call(method, args);
  assert.equal(result.ok, false, `${method} should have been refused`);
  return (result as { ok: false; error: { kind: string; message: string } }).error;
}

/** Resolves with the first event `matches` accepts (also one already received), or rejects after `timeoutMs`. */
export async function eventOf(k: ServiceUnderTest, matches: (event: KioskEvent) => boolean, timeoutMs: number): Promise<KioskEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = k.events.find(matches);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no such event within ${timeoutMs} ms; events: ${JSON.stringify(k.events)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
