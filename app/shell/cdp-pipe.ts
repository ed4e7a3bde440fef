/**
 * The Chrome DevTools Protocol over `--remote-debugging-pipe`: JSON messages separated by NUL
 * bytes, written to Chromium's file descriptor 3 and read from its descriptor 4. Only the process
 * that started Chromium holds those descriptors, so unlike a debugging port no other program (and
 * no web page) can reach it.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Readable, Writable } from 'node:stream';

type Message = { id?: number; method?: string; params?: unknown; result?: unknown; error?: { message: string }; sessionId?: string };

export class CdpError extends Error {}

export class CdpPipe {
  private nextId = 0;
  private buffered = '';
  private readonly decoder = new StringDecoder('utf8');
  private closed = false;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly listeners = new Map<string, Set<(params: never) => void>>();

  constructor(private readonly toChromium: Writable, fromChromium: Readable) {
    fromChromium.on('data', (chunk: Buffer) => this.receive(this.decoder.write(chunk)));
    const end = () => this.close(new CdpError('Chromium closed its debugging pipe'));
    fromChromium.on('end', end);
    fromChromium.on('error', end);
    toChromium.on('error', end);
  }

  /** Sends a command; resolves with its result, rejects with Chromium's error or when the pipe closes. */
  send<T = unknown>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> {
    if (this.closed) return Promise.reject(new CdpError('Chromium closed its debugging pipe'));
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.toChromium.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }

  on<P>(event: string, listener: (params: P) => void): void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener as (params: never) => void);
    this.listeners.set(event, set);
  }

  close(error = new CdpError('debugging pipe closed')): void {
    if (this.closed) return;
    this.closed = true;
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
    this.toChromium.end();
  }

  private receive(text: string): void {
    this.buffered += text;
    let end: number;
    while ((end = this.buffered.indexOf('\0')) >= 0) {
      const raw = this.buffered.slice(0, end);
      this.buffered = this.buffered.slice(end + 1);
      let message: Message;
      try {
        message = JSON.parse(raw) as Message;
      } catch {
        continue; // not ours to understand; Chromium only ever sends JSON here
      }
      if (message.id !== undefined) {
        const waiting = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error) waiting?.reject(new CdpError(message.error.message));
        else waiting?.resolve(message.result);
      } else if (message.method) {
        for (const listener of this.listeners.get(message.method) ?? []) (listener as (params: unknown) => void)(message.params);
      }
    }
  }
}
