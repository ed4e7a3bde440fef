/**
 * Whether a remote-desktop server accepts TCP connections: the static backend's only sign that a
 * desktop is switched on. Answers are kept for a few seconds and concurrent asks share one probe,
 * so a rush of kiosks listing desktops does not become a rush of connections to every desktop.
 */
import net from 'node:net';

export function probeTcp(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => { clearTimeout(timer); socket.destroy(); resolve(ok); };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export class Reachability {
  private readonly answers = new Map<string, { up: Promise<boolean>; until: number }>();

  constructor(
    private readonly timeoutMs: number,
    private readonly keepMs = 3000,
    private readonly probe: (host: string, port: number, timeoutMs: number) => Promise<boolean> = probeTcp,
  ) {}

  /** `fresh`: ask again now (before handing out a console, an old "up" is not good enough). */
  isUp(host: string, port: number, { fresh = false } = {}): Promise<boolean> {
    const key = `${host}\n${port}`;
    const now = Date.now();
    const cached = this.answers.get(key);
    if (cached && (cached.until === Infinity || (!fresh && cached.until > now))) return cached.up;
    // Until the probe settles, concurrent callers share it (until = Infinity marks "in flight").
    const entry = { up: this.probe(host, port, this.timeoutMs), until: Infinity };
    this.answers.set(key, entry);
    void entry.up.then(() => { entry.until = Date.now() + this.keepMs; });
    if (this.answers.size > 10_000) this.prune(now);
    return entry.up;
  }

  private prune(now: number): void {
    for (const [key, entry] of this.answers) if (entry.until < now) this.answers.delete(key);
  }
}
