/**
 * What the controller knows about whether a static desktop's remote-desktop servers are up — the
 * only sign it has that a machine it does not manage is switched on — without ever becoming a
 * nuisance to them, however many kiosks show their lists and for however long:
 *   - what is sent: a polite, complete exchange of the server's own protocol (desktop-probe.ts),
 *     never a bare connect-and-close, which VNC servers count as a failed login;
 *   - how often: one endpoint is asked at most once per `probeIntervalMs` (default a minute),
 *     and only when some kiosk is looking at a list that shows it; a hundred kiosks refreshing
 *     share that one answer. Real console connections through the relay count as answers too.
 *     Sooner only where it costs the server nothing or something just changed: a server found
 *     down is asked again after `downRecheckMs` (5 s; asking a server that is not there bothers
 *     nobody, and it is back in the list as soon as it answers), and one whose relayed console
 *     the server itself just ended is asked at the next list;
 *   - when "unknown": when the last answer is older than `staleMs` and a new one did not come
 *     within `listWaitMs`, and for endpoints that cannot be asked politely (a VNC server that
 *     wants more than the inventory's password, or refuses it): those are left alone for
 *     `quietMs` after one try, and the kiosk may still connect to them.
 */
import { probeDesktop, type ProbeOutcome, type ProbeTarget } from './desktop-probe.js';

export type EndpointState = 'up' | 'down' | 'refusing' | 'unknown';
export interface EndpointStatus {
  state: EndpointState;
  /** Why it is down, refusing or unknown, in a few words (for the desktop's fault and the log). */
  reason: string | null;
}
export type DesktopProtocol = 'vnc' | 'rdp' | 'spice';

export interface ReachabilityOptions {
  probeTimeoutMs: number;
  probeIntervalMs?: number;
  /** How soon a server found down is asked again. */
  downRecheckMs?: number;
  listWaitMs?: number;
  staleMs?: number;
  quietMs?: number;
  probe?: (protocol: DesktopProtocol, target: ProbeTarget, timeoutMs: number) => Promise<ProbeOutcome>;
  now?: () => number;
  /** Told once per change of an endpoint's state (for the log). */
  onChange?: (protocol: DesktopProtocol, target: ProbeTarget, outcome: ProbeOutcome) => void;
  /** Told of every probe's outcome (for /metrics). */
  onProbe?: (protocol: DesktopProtocol, outcome: ProbeOutcome) => void;
}

interface Entry {
  outcome: ProbeOutcome | null;
  at: number;
  /** When the next probe may be sent (a list after this time sends one). */
  dueAt: number;
  inFlight: Promise<void> | null;
  /** No polite probe possible before this time. */
  quietUntil: number;
}

const MAX_ENTRIES = 10_000;

export class Reachability {
  private readonly entries = new Map<string, Entry>();
  private readonly probeIntervalMs: number;
  private readonly downRecheckMs: number;
  private readonly listWaitMs: number;
  private readonly staleMs: number;
  private readonly quietMs: number;
  private readonly now: () => number;
  /** Probes sent since start, by protocol: for tests, the benchmark and /metrics. */
  readonly probesSent = { vnc: 0, rdp: 0, spice: 0 };

  constructor(private readonly options: ReachabilityOptions) {
    this.probeIntervalMs = options.probeIntervalMs ?? 60_000;
    this.downRecheckMs = Math.min(options.downRecheckMs ?? 5000, this.probeIntervalMs);
    this.listWaitMs = options.listWaitMs ?? options.probeTimeoutMs;
    this.staleMs = options.staleMs ?? 5 * this.probeIntervalMs;
    this.quietMs = options.quietMs ?? 3_600_000;
    this.now = options.now ?? Date.now;
  }

  /** The endpoint's state for a desktop list: a cached answer, or a probe if one is due (waiting briefly for it). */
  async status(protocol: DesktopProtocol, target: ProbeTarget): Promise<EndpointStatus> {
    const key = keyOf(protocol, target);
    let entry = this.entries.get(key);
    const now = this.now();
    if (!entry) {
      if (this.entries.size >= MAX_ENTRIES) this.prune(now);
      entry = { outcome: null, at: 0, dueAt: 0, inFlight: null, quietUntil: 0 };
      this.entries.set(key, entry);
    }
    const due = !entry.inFlight && now >= entry.quietUntil && (entry.outcome === null || now >= entry.dueAt);
    if (due) entry.inFlight = this.ask(protocol, target, entry);
    if (entry.inFlight) await Promise.race([entry.inFlight, delay(this.listWaitMs)]);
    return this.view(entry, this.now());
  }

  /** What a real connection (the console relay) learned: as good as a probe, and it cost the server nothing extra. */
  observe(protocol: DesktopProtocol, target: ProbeTarget, outcome: ProbeOutcome): void {
    const key = keyOf(protocol, target);
    const entry = this.entries.get(key) ?? { outcome: null, at: 0, dueAt: 0, inFlight: null, quietUntil: 0 };
    this.record(protocol, target, entry, outcome);
    this.entries.set(key, entry);
  }

  /**
   * The server ended a relayed console by itself (shut down, restarted, crashed — or just a person
   * logging off): what is known may be stale, so the next list asks again, once.
   */
  suspect(protocol: DesktopProtocol, target: ProbeTarget): void {
    const entry = this.entries.get(keyOf(protocol, target));
    if (entry) entry.dueAt = 0;
  }

  private async ask(protocol: DesktopProtocol, target: ProbeTarget, entry: Entry): Promise<void> {
    this.probesSent[protocol] += 1;
    try {
      const outcome = await (this.options.probe ?? probeDesktop)(protocol, target, this.options.probeTimeoutMs);
      this.options.onProbe?.(protocol, outcome);
      this.record(protocol, target, entry, outcome);
    } finally {
      entry.inFlight = null;
    }
  }

  private record(protocol: DesktopProtocol, target: ProbeTarget, entry: Entry, outcome: ProbeOutcome): void {
    const changed = entry.outcome?.state !== outcome.state;
    entry.outcome = outcome;
    entry.at = this.now();
    entry.dueAt = entry.at + (outcome.state === 'down' ? this.downRecheckMs : this.probeIntervalMs);
    // A server that cannot be asked politely, or that refuses us right now, is left alone for a
    // while: asking again would only add to its count of failures.
    if (outcome.state === 'unprobeable') entry.quietUntil = entry.at + this.quietMs;
    else if (outcome.state === 'refusing') entry.quietUntil = entry.at + Math.min(this.quietMs, 5 * this.probeIntervalMs);
    else entry.quietUntil = 0;
    if (changed) this.options.onChange?.(protocol, target, outcome);
  }

  private view(entry: Entry, now: number): EndpointStatus {
    const outcome = entry.outcome;
    if (!outcome || now - entry.at > this.staleMs) return { state: 'unknown', reason: null };
    switch (outcome.state) {
      case 'up': return { state: 'up', reason: null };
      case 'down': return { state: 'down', reason: outcome.reason };
      case 'refusing': return { state: 'refusing', reason: outcome.reason };
      case 'unprobeable': return { state: 'unknown', reason: outcome.reason };
    }
  }

  private prune(now: number): void {
    for (const [key, entry] of this.entries) if (!entry.inFlight && now - entry.at > this.staleMs) this.entries.delete(key);
  }
}

function keyOf(protocol: DesktopProtocol, target: ProbeTarget): string {
  return `${protocol}\n${target.host}\n${target.port}`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
