/** Prometheus text exposition for the few series the shim keeps; no client library needed. */

type Labels = Record<string, string>;

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const entry = this.values.get(key) ?? { labels, value: 0 };
    entry.value += by;
    this.values.set(key, entry);
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${labelText(labels)} ${value}`);
    return lines.join('\n');
  }
}

/** A value read when /metrics is asked for (how many relayed consoles are open now). */
class Gauge {
  constructor(readonly name: string, readonly help: string, private readonly read: () => number) {}
  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, `${this.name} ${this.read()}`].join('\n');
  }
}

class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string) {}
  observe(labels: Labels, seconds: number): void {
    const key = labelText(labels);
    const s = this.series.get(key) ?? { labels, counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
    BUCKETS.forEach((bound, i) => { if (seconds <= bound) s.counts[i]! += 1; });
    s.sum += seconds;
    s.count += 1;
    this.series.set(key, s);
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      BUCKETS.forEach((bound, i) => lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: String(bound) })} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
      lines.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`);
      lines.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return lines.join('\n');
  }
}

export class Metrics {
  readonly requests = new Counter('thinkiosk_http_requests_total', 'Requests served, by route and outcome (HTTP status).');
  readonly requestSeconds = new Histogram('thinkiosk_http_request_duration_seconds', 'Time to answer a request, by route and outcome.');
  readonly upstreamSeconds = new Histogram('thinkiosk_upstream_request_duration_seconds', 'Time of calls to OpenStack, by service and outcome.');
  readonly logins = new Counter('thinkiosk_logins_total', 'Login attempts, by result (ok, invalid, locked, error).');
  readonly relays = new Counter('thinkiosk_relay_connections_total', 'Console connections through the controller\'s relay (static backend), by protocol and result (ok, refused, unreachable).');

  readonly probes = new Counter('thinkiosk_desktop_probes_total', 'Polite checks of static desktops\' servers, by protocol and what they found (up, down, refusing, unprobeable).');
  private readonly gauges: Gauge[] = [];

  /** A gauge whose value is read at each scrape. */
  gauge(name: string, help: string, read: () => number): void {
    this.gauges.push(new Gauge(name, help, read));
  }

  render(): string {
    return [this.requests, this.requestSeconds, this.upstreamSeconds, this.logins, this.relays, this.probes, ...this.gauges].map((m) => m.render()).join('\n') + '\n';
  }
}
