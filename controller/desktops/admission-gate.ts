/**
 * Keeps a rush of kiosks (everyone logging in at 8:00) from drowning the cloud. Sending an
 * overloaded service more at once only lengthens its queue until requests time out; the service
 * then still works through the abandoned ones (uwsgi cannot tell the client left) and everything
 * collapses. A gate lets `maxInFlight` calls through at a time, holds up to `maxWaiting` more in
 * order for at most `maxWaitMs`, and turns the rest away at once with an estimate of when to retry.
 */
import { ApiError } from '../core/api-error.js';

export interface GateOptions {
  maxInFlight: number;
  maxWaiting: number;
  maxWaitMs: number;
  /** What the kiosk shows when turned away, e.g. "Many people are logging in right now." */
  busyMessage: string;
  service: string;
}

interface Waiter { admit: () => void; timer: NodeJS.Timeout }

export class AdmissionGate {
  private inFlight = 0;
  private readonly waiting: Waiter[] = [];
  /** Recent call durations (ms), to estimate how long the queue takes to drain. */
  private averageMs = 300;

  constructor(private readonly options: GateOptions) {}

  get queued(): number { return this.waiting.length; }

  async run<T>(call: () => Promise<T>): Promise<T> {
    await this.admission();
    const started = Date.now();
    try {
      return await call();
    } finally {
      this.averageMs = 0.9 * this.averageMs + 0.1 * (Date.now() - started);
      this.inFlight -= 1;
      this.waiting.shift()?.admit();
    }
  }

  private admission(): Promise<void> {
    if (this.inFlight < this.options.maxInFlight) {
      this.inFlight += 1;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.options.maxWaiting) return Promise.reject(this.busy());
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        // The finishing call hands its slot straight over, so inFlight stays as it is.
        admit: () => { clearTimeout(waiter.timer); resolve(); },
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          reject(this.busy());
        }, this.options.maxWaitMs),
      };
      this.waiting.push(waiter);
    });
  }

  private busy(): ApiError {
    const drainSeconds = Math.ceil(((this.waiting.length + 1) * this.averageMs) / this.options.maxInFlight / 1000);
    const retryAfterSeconds = Math.min(60, Math.max(2, drainSeconds));
    return new ApiError('upstream-unavailable', `${this.options.busyMessage} Please try again in ${retryAfterSeconds} seconds.`,
      `${this.options.service} gate full: ${this.inFlight} in flight, ${this.waiting.length} waiting`, { service: this.options.service, retryAfterSeconds });
  }
}
