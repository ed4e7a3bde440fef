/**
 * After each person, at the login screen: the kiosk's and the static controller's process (memory,
 * JS heap after a full garbage collection, open files, threads, child processes), the page's JS
 * heap and DOM (nodes, event listeners) after a collection, and Chromium's process tree. Then the
 * least-squares slope per person of each, after warm-up, that says whether anything grows.
 */
import type { CDPSession } from 'playwright-core';
import type { Classroom } from './classroom.js';
import { connectInspector, type HeapProbe } from './inspector.js';
import { slope, treeUsage, usageOf, type Usage } from './measure.js';

/** People after the kiosk's start not counted in the slopes (first logins, first viewers, first cloud calls). */
export const WARM_UP_PEOPLE = 6;
/** The same after each start of the controller (it restarts during the day). */
export const CONTROLLER_WARM_UP_PEOPLE = 3;

export interface PageUsage { heapKiB: number; nodes: number; listeners: number; documents: number }

export interface Sample {
  /** 1-based, over the whole run. */
  person: number;
  user: string;
  kiosk: Usage | null;
  kioskHeapKiB: number | null;
  controller: Usage | null;
  controllerHeapKiB: number | null;
  controllerGeneration: number;
  page: PageUsage | null;
  /** Debian's Chromium that shows the page: browser, GPU, renderer and utility processes summed. */
  chromium: Usage | null;
}

export class Sampler {
  private kioskProbe: HeapProbe | null = null;
  private controllerProbe: { pid: number; probe: HeapProbe } | null = null;
  private cdp: CDPSession | null = null;

  constructor(private readonly room: Classroom) {}

  async sample(person: number, user: string): Promise<Sample> {
    const { room } = this;
    this.kioskProbe ??= await connectInspector(room.inspectors.kiosk.host, room.inspectors.kiosk.port).catch(() => null);
    if (this.controllerProbe?.pid !== room.controller.pid) {
      this.controllerProbe?.probe.close();
      const probe = await connectInspector(room.inspectors.controller.host, room.inspectors.controller.port).catch(() => null);
      this.controllerProbe = probe ? { pid: room.controller.pid, probe } : null;
    }
    const [kioskHeapKiB, controllerHeapKiB, page] = await Promise.all([
      this.kioskProbe?.collectAndMeasure() ?? null,
      this.controllerProbe?.probe.collectAndMeasure() ?? null,
      this.pageUsage(),
    ]);
    return {
      person, user,
      kiosk: usageOf(room.kioskPid), kioskHeapKiB,
      controller: usageOf(room.controller.pid), controllerHeapKiB, controllerGeneration: room.controller.generation,
      page, chromium: treeUsage(room.chromiumPid),
    };
  }

  private async pageUsage(): Promise<PageUsage | null> {
    try {
      this.cdp ??= await this.room.page.context().newCDPSession(this.room.page);
      await this.cdp.send('HeapProfiler.collectGarbage');
      const heap = await this.cdp.send('Runtime.getHeapUsage');
      const dom = await this.cdp.send('Memory.getDOMCounters');
      return { heapKiB: Math.round(heap.usedSize / 1024), nodes: dom.nodes, listeners: dom.jsEventListeners, documents: dom.documents };
    } catch {
      return null;
    }
  }

  close(): void {
    this.kioskProbe?.close();
    this.controllerProbe?.probe.close();
    void this.cdp?.detach().catch(() => undefined);
  }
}

export interface Slopes {
  kiosk: { rssKiB: number; pssKiB: number; heapKiB: number; fds: number; threads: number };
  controller: { rssKiB: number; pssKiB: number; heapKiB: number; fds: number; threads: number };
  page: { heapKiB: number; nodes: number; listeners: number };
  /** Printed, not limited: see report.ts. */
  chromium: { pssKiB: number; fds: number; processes: number };
  /** How many samples the slopes stand on. */
  points: { kiosk: number; controller: number };
}

/** Least squares within groups (each about its own mean): growth per person within one process's life. */
export function pooledSlope(groups: { x: number; y: number }[][]): number {
  let num = 0;
  let den = 0;
  for (const g of groups) {
    if (g.length < 2) continue;
    const mx = g.reduce((s, p) => s + p.x, 0) / g.length;
    const my = g.reduce((s, p) => s + p.y, 0) / g.length;
    for (const p of g) {
      num += (p.x - mx) * (p.y - my);
      den += (p.x - mx) ** 2;
    }
  }
  return den === 0 ? 0 : num / den;
}

export function slopes(samples: Sample[]): Slopes {
  const warm = samples.slice(WARM_UP_PEOPLE);
  const line = (pick: (s: Sample) => number | null | undefined): number => slope(warm.flatMap((s) => {
    const y = pick(s);
    return y === null || y === undefined ? [] : [{ x: s.person, y }];
  }));
  const generations = new Map<number, Sample[]>();
  for (const s of samples) if (s.controller) generations.set(s.controllerGeneration, [...(generations.get(s.controllerGeneration) ?? []), s]);
  const lives = [...generations.values()].map((g) => g.slice(CONTROLLER_WARM_UP_PEOPLE)).filter((g) => g.length >= 2);
  const ctl = (pick: (s: Sample) => number | null | undefined): number => pooledSlope(lives.map((g) => g.flatMap((s) => {
    const y = pick(s);
    return y === null || y === undefined ? [] : [{ x: s.person, y }];
  })));
  return {
    kiosk: {
      rssKiB: line((s) => s.kiosk?.rssKiB), pssKiB: line((s) => s.kiosk?.pssKiB), heapKiB: line((s) => s.kioskHeapKiB),
      fds: line((s) => s.kiosk?.fds), threads: line((s) => s.kiosk?.threads),
    },
    controller: {
      rssKiB: ctl((s) => s.controller?.rssKiB), pssKiB: ctl((s) => s.controller?.pssKiB), heapKiB: ctl((s) => s.controllerHeapKiB),
      fds: ctl((s) => s.controller?.fds), threads: ctl((s) => s.controller?.threads),
    },
    page: { heapKiB: line((s) => s.page?.heapKiB), nodes: line((s) => s.page?.nodes), listeners: line((s) => s.page?.listeners) },
    chromium: { pssKiB: line((s) => s.chromium?.pssKiB), fds: line((s) => s.chromium?.fds), processes: line((s) => (s.chromium ? s.chromium.descendants + 1 : null)) },
    points: { kiosk: warm.filter((s) => s.kiosk).length, controller: lives.reduce((n, g) => n + g.length, 0) },
  };
}
