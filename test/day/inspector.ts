/**
 * The Node inspector of a process under measurement (started with --inspect=host:port), used for
 * one thing: a full garbage collection before each sample, then the JS heap in use. Without it a
 * Node process's RSS swings by megabytes with its collector's mood, and a leak of a few hundred
 * KiB per person would drown in that; with it, what stays is what is still referenced.
 * Test instrumentation only: the product never runs with an inspector.
 */
import { WebSocket } from 'ws';

export interface HeapProbe {
  /** Full GC, then the heap in use, in KiB; null when the process does not answer. */
  collectAndMeasure(): Promise<number | null>;
  close(): void;
}

export async function connectInspector(host: string, port: number): Promise<HeapProbe> {
  const deadline = Date.now() + 15_000;
  let url: string | undefined;
  while (!url) {
    try {
      const targets = await (await fetch(`http://${host}:${port}/json/list`, { signal: AbortSignal.timeout(3000) })).json() as { webSocketDebuggerUrl?: string }[];
      url = targets[0]?.webSocketDebuggerUrl;
    } catch {
      // not listening yet
    }
    if (!url) {
      if (Date.now() > deadline) throw new Error(`no Node inspector on ${host}:${port}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let nextId = 1;
  const waiting = new Map<number, (result: unknown) => void>();
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: unknown };
    if (message.id !== undefined) waiting.get(message.id)?.(message.error ? null : message.result);
    if (message.id !== undefined) waiting.delete(message.id);
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    for (const done of waiting.values()) done(null);
    waiting.clear();
  });
  const send = (method: string): Promise<unknown> => new Promise((resolve) => {
    if (socket.readyState !== WebSocket.OPEN) return resolve(null);
    const id = nextId++;
    const timer = setTimeout(() => { waiting.delete(id); resolve(null); }, 20_000);
    waiting.set(id, (result) => { clearTimeout(timer); resolve(result); });
    socket.send(JSON.stringify({ id, method }));
  });
  return {
    async collectAndMeasure() {
      if ((await send('HeapProfiler.collectGarbage')) === null) return null;
      const usage = await send('Runtime.getHeapUsage') as { usedSize?: number } | null;
      return usage?.usedSize === undefined ? null : Math.round(usage.usedSize / 1024);
    },
    close: () => socket.terminate(),
  };
}
