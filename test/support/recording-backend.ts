/**
 * A KioskBackend that records every call that reaches it and lets a test push events. Used where
 * the test's question is "did this call get through to the backend?", which the real backend
 * (app/core's KioskService) does not reveal; it answers every call with `{ ok: true, value: { echo } }`.
 */
import type { KioskBackend, KioskEvent, Result } from '../../app/core/kiosk-api.js';

export class RecordingBackend implements KioskBackend {
  readonly calls: { method: string; args: unknown }[] = [];
  private readonly listeners = new Set<(event: KioskEvent) => void>();
  /** Set to make `call` throw, as a buggy backend would. */
  throwOnCall: Error | null = null;

  async call(method: string, args: unknown): Promise<Result<unknown>> {
    this.calls.push({ method, args });
    if (this.throwOnCall) throw this.throwOnCall;
    return { ok: true, value: { echo: method } };
  }

  subscribe(listener: (event: KioskEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  push(event: KioskEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  get subscribers(): number {
    return this.listeners.size;
  }
}
