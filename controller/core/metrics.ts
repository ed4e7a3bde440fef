/**
 * What Prometheus scrapes from the controller: a few series of its own (requests, upstream calls,
 * logins, relayed consoles, desktop probes, gauges read at each scrape) and the process's
 * (CPU, memory, event loop; prefixed thinkiosk_), on a prom-client Registry of this controller's
 * own — not prom-client's global one, as tests run several controllers in one process. Modules
 * with series of their own register them on `registry`.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds, from a fast in-memory answer to a cloud call near its timeout. */
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'thinkiosk_http_requests_total', help: 'Requests served, by route and outcome (HTTP status).',
    labelNames: ['route', 'status'] as const, registers: [this.registry],
  });
  readonly requestSeconds = new Histogram({
    name: 'thinkiosk_http_request_duration_seconds', help: 'Time to answer a request, by route and outcome.',
    labelNames: ['route', 'status'] as const, buckets: SECONDS_BUCKETS, registers: [this.registry],
  });
  readonly upstreamSeconds = new Histogram({
    name: 'thinkiosk_upstream_request_duration_seconds', help: 'Time of calls to OpenStack, by service and outcome.',
    labelNames: ['service', 'outcome'] as const, buckets: SECONDS_BUCKETS, registers: [this.registry],
  });
  readonly logins = new Counter({
    name: 'thinkiosk_logins_total', help: 'Login attempts, by result (ok, invalid, locked, error).',
    labelNames: ['result'] as const, registers: [this.registry],
  });
  readonly relays = new Counter({
    name: 'thinkiosk_relay_connections_total', help: 'Console connections through the controller\'s relay (static backend), by protocol and result (ok, refused, unreachable).',
    labelNames: ['protocol', 'result'] as const, registers: [this.registry],
  });
  readonly probes = new Counter({
    name: 'thinkiosk_desktop_probes_total', help: 'Polite checks of static desktops\' servers, by protocol and what they found (up, down, refusing, unprobeable).',
    labelNames: ['protocol', 'state'] as const, registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'thinkiosk_' });
  }

  /** A gauge whose value is read at each scrape (how many relayed consoles are open now). */
  gauge(name: string, help: string, read: () => number): void {
    new Gauge({ name, help, registers: [this.registry], collect() { this.set(read()); } });
  }

  /** The Prometheus text of every series; served with `contentType`. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
