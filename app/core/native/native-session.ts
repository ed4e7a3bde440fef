/**
 * Supervises native viewers (xfreerdp for RDP, remote-viewer for SPICE) run in a pty through
 * node-pty: the pty is what lets xfreerdp prompt for the password with echo off, so the password
 * never has to be on its command line. Every session ends in exactly one NativeResult, whatever
 * happens: missing client, refused credentials, a viewer that hangs in a dialog (stopped by the
 * connect timeout), a server that goes away, or stop().
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { spawn, type IPty } from 'node-pty';
import { findBinary } from './find-binary.js';
import { FreerdpOutput, freerdpArgs, freerdpPromptReply, type FreerdpPrompt, type RdpCertificatePolicy } from './freerdp.js';
import { RdpTarget, SpiceTarget, type NativeResult, type ViewerOutputParser } from './native-types.js';
import { LineSplitter, OutputTail } from './output-tail.js';
import { RemoteViewerOutput, SPICE_SECURE_ATTENTION_KEYS, remoteViewerArgs, vvFileContent } from './remote-viewer.js';
import { createVvFifo, type VvFifo } from './vv-fifo.js';
import { inputIdleMs } from './x11-idle.js';
import { KeyPressError, pressKeysInWindowOf } from './x11-keys.js';

export { RdpTarget, SpiceTarget, type NativeResult } from './native-types.js';
export type { RdpCertificatePolicy } from './freerdp.js';

export interface NativeSession {
  readonly id: string;
  readonly protocol: 'rdp' | 'spice';
  /**
   * Resolves once the viewer is connected and showing the desktop. Rejects with a
   * NativeSessionEnded when the session ends before that (already handled, so an unobserved
   * rejection never crashes the process).
   */
  readonly started: Promise<void>;
  /** Always resolves, once the viewer process is gone. */
  readonly result: Promise<NativeResult>;
  stop(): Promise<void>;
  sendCtrlAltDel(): Promise<void>;
  /** The viewer's last output lines for the log (bounded; secrets replaced). */
  outputTail(): string[];
  /** The viewer's process id while it runs. */
  readonly pid: number | null;
}

export class NativeSessionEnded extends Error {
  constructor(readonly result: NativeResult) {
    super(result.message);
  }
}

export interface NativeLauncherOptions {
  /** Environment of the viewers: DISPLAY, HOME, XDG_RUNTIME_DIR, PATH. */
  env?: NodeJS.ProcessEnv;
  /**
   * Where xfreerdp keeps the certificates of the desktops it has seen (its XDG_CONFIG_HOME: FreeRDP 2
   * writes `freerdp/known_hosts2` there, FreeRDP 3 `freerdp/server/<host>_<port>.pem`). The kiosk
   * puts it on its settings partition, so a changed certificate is still refused after a reboot;
   * without it FreeRDP uses $HOME/.config, which is RAM on the image.
   */
  rdpConfigDir?: string;
  /** How long a viewer may take to show the desktop before it is stopped (default 30 s). */
  connectTimeoutMs?: number;
  binaries?: { xfreerdp?: string; remoteViewer?: string };
  rdpCertificates?: RdpCertificatePolicy;
}

export class NativeLauncher {
  private readonly sessions = new Set<ViewerSession>();
  private readonly env: NodeJS.ProcessEnv;
  private readonly connectTimeoutMs: number;

  constructor(private readonly options: NativeLauncherOptions = {}) {
    this.env = options.env ?? process.env;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 30_000;
  }

  startRdp(target: RdpTarget): NativeSession {
    const parsed = RdpTarget.safeParse(target);
    const configDir = this.options.rdpConfigDir;
    const env = configDir ? { ...this.env, XDG_CONFIG_HOME: configDir } : this.env;
    const session = new ViewerSession('rdp', env, this.connectTimeoutMs, parsed.success ? [target.password] : []);
    if (!parsed.success) {
      session.fail(invalidTarget(parsed.error.issues));
    } else {
      const t = parsed.data;
      void session.run({
        command: this.options.binaries?.xfreerdp ?? 'xfreerdp',
        ...(configDir ? { prepare: () => mkdir(configDir, { recursive: true, mode: 0o700 }).then(() => undefined) } : {}),
        missing: { outcome: 'client-missing', message: 'The RDP viewer (xfreerdp) is not installed on this kiosk. Ask your administrator to install the Debian package freerdp2-x11 (Debian 12) or freerdp3-x11 (Debian 13).' },
        args: freerdpArgs(t, this.options.rdpCertificates ?? 'tofu'),
        parser: new FreerdpOutput(t.host, t.port),
        answer: (partial) => freerdpPromptReply(partial, t),
        ctrlAltDelKeys: 'ctrl+alt+Delete',
      });
    }
    return this.track(session);
  }

  startSpice(target: SpiceTarget): NativeSession {
    const parsed = SpiceTarget.safeParse(target);
    const session = new ViewerSession('spice', this.env, this.connectTimeoutMs, parsed.success && target.password ? [target.password] : []);
    if (!parsed.success) {
      session.fail(invalidTarget(parsed.error.issues));
    } else {
      const t = parsed.data;
      void session.run({
        command: this.options.binaries?.remoteViewer ?? 'remote-viewer',
        missing: { outcome: 'client-missing', message: 'The SPICE viewer (remote-viewer) is not installed on this kiosk. Ask your administrator to install the Debian package virt-viewer.' },
        args: (vvPath) => remoteViewerArgs(t, vvPath),
        connectionFile: vvFileContent(t),
        parser: new RemoteViewerOutput(t.host, t.port),
        answer: () => null,
        // remote-viewer turns its secure-attention hotkey into Ctrl+Alt+Del for the guest; the
        // combination itself would be taken by the kiosk's X server or window manager first.
        ctrlAltDelKeys: SPICE_SECURE_ATTENTION_KEYS,
        // Debian 12's libspice-server (0.15.1, QEMU 7.2) segfaults, taking the VM down with it,
        // when a client leaves while its display channel is still starting: 3 of 8 runs that
        // stopped remote-viewer right after it connected killed the local QEMU; after 300 ms none did.
        settleMs: 1000,
      });
    }
    return this.track(session);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.sessions].map((session) => session.stop()));
  }

  /** Milliseconds since the last keyboard or mouse input on the viewers' X display (throws XIdleError when unknown). */
  inputIdleMs(): Promise<number> {
    return inputIdleMs(this.env.DISPLAY, this.env);
  }

  private track(session: ViewerSession): NativeSession {
    this.sessions.add(session);
    void session.result.then(() => this.sessions.delete(session));
    return session;
  }
}

interface ViewerPlan {
  command: string;
  /** Runs before the viewer starts (e.g. creating its configuration directory). */
  prepare?: () => Promise<void>;
  missing: NativeResult;
  args: string[] | ((connectionFilePath: string) => string[]);
  /** Handed to the viewer through a FIFO whose path goes into args. */
  connectionFile?: string;
  parser: ViewerOutputParser;
  answer: (partial: string) => { prompt: FreerdpPrompt; reply: string } | null;
  ctrlAltDelKeys: string;
  /** stop() waits until the session has been connected this long (see startSpice). */
  settleMs?: number;
}

/** How often one prompt is answered before the session counts as refused (a prompt loop). */
const MAX_ANSWERS_PER_PROMPT = 2;
/** How long a viewer gets to exit after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 2000;

class ViewerSession implements NativeSession {
  readonly id = randomUUID();
  readonly started: Promise<void>;
  readonly result: Promise<NativeResult>;
  private resolveStarted!: () => void;
  private rejectStarted!: (error: NativeSessionEnded) => void;
  private resolveResult!: (result: NativeResult) => void;
  private pty: IPty | null = null;
  private isStarted = false;
  private done = false;
  private stopRequested = false;
  /** Set when the supervisor, not the viewer, decided the outcome (timeout, dialog, prompt loop). */
  private verdict: NativeResult | null = null;
  private exited: Promise<void> | null = null;
  private keys = 'ctrl+alt+Delete';
  private settleMs = 0;
  private startedAt = 0;
  private readonly tail: OutputTail;

  constructor(
    readonly protocol: 'rdp' | 'spice',
    private readonly env: NodeJS.ProcessEnv,
    private readonly connectTimeoutMs: number,
    secrets: string[],
  ) {
    this.tail = new OutputTail(secrets);
    this.started = new Promise<void>((resolve, reject) => {
      this.resolveStarted = resolve;
      this.rejectStarted = reject;
    });
    this.started.catch(() => undefined);
    this.result = new Promise<NativeResult>((resolve) => {
      this.resolveResult = resolve;
    });
  }

  get pid(): number | null {
    return this.done ? null : this.pty?.pid ?? null;
  }

  outputTail(): string[] {
    return this.tail.snapshot();
  }

  /** Ends a session that never got a process. */
  fail(result: NativeResult): void {
    if (this.done) return;
    this.done = true;
    this.rejectStarted(new NativeSessionEnded(result));
    this.resolveResult(result);
  }

  async run(plan: ViewerPlan): Promise<void> {
    let fifo: VvFifo | null = null;
    try {
      this.keys = plan.ctrlAltDelKeys;
      this.settleMs = plan.settleMs ?? 0;
      // A kiosk environment without PATH still has Debian's viewers in the usual places.
      const binary = await findBinary(plan.command, this.env.PATH ?? '/usr/local/bin:/usr/bin:/bin');
      if (!binary) return this.fail(plan.missing);
      await plan.prepare?.();
      if (plan.connectionFile !== undefined) fifo = await createVvFifo(this.env.XDG_RUNTIME_DIR);
      if (this.stopRequested) return this.fail({ outcome: 'ended', message: 'The connection was cancelled.' });
      const args = typeof plan.args === 'function' ? plan.args(fifo?.path ?? '') : plan.args;
      this.launch(binary, args, plan);
      if (fifo && plan.connectionFile !== undefined) {
        await fifo.deliver(plan.connectionFile, () => this.done || this.verdict !== null);
        await fifo.remove();
      }
    } catch (error) {
      // Spawning or the FIFO failed: a system problem, reported in words, with the cause for the log.
      this.tail.push(`launcher: ${error instanceof Error ? error.message : String(error)}`);
      if (this.pty && !this.done) {
        this.verdict ??= { outcome: 'failed', message: 'The viewer could not be started. Try again; if it keeps happening, tell your administrator.' };
        void this.kill();
      } else {
        this.fail({ outcome: 'failed', message: 'The viewer could not be started. Try again; if it keeps happening, tell your administrator.' });
      }
    } finally {
      await fifo?.remove().catch(() => undefined);
    }
  }

  private launch(binary: string, args: string[], plan: ViewerPlan): void {
    const pty = spawn(binary, args, { name: 'xterm', cols: 200, rows: 50, env: this.env });
    this.pty = pty;
    const lines = new LineSplitter();
    const answered = new Map<FreerdpPrompt, number>();
    const timer = setTimeout(() => {
      if (this.isStarted || this.done) return;
      this.verdict ??= {
        outcome: 'timeout',
        message: `The desktop did not show up within ${Math.round(this.connectTimeoutMs / 1000)} seconds, so the connection was stopped. Try again; if it keeps happening, tell your administrator.`,
      };
      void this.kill();
    }, this.connectTimeoutMs);

    const onLine = (line: string): void => {
      this.tail.push(line);
      const meaning = plan.parser.line(line);
      if (meaning?.kind === 'connected' && !this.isStarted && !this.verdict) {
        this.isStarted = true;
        this.startedAt = Date.now();
        clearTimeout(timer);
        this.resolveStarted();
      } else if (meaning?.kind === 'decided') {
        this.verdict ??= meaning.result;
        void this.kill();
      }
    };

    pty.onData((data) => {
      for (const line of lines.feed(data)) onLine(line);
      const prompt = plan.answer(lines.partial);
      if (!prompt) return;
      lines.clearPartial();
      const count = (answered.get(prompt.prompt) ?? 0) + 1;
      answered.set(prompt.prompt, count);
      this.tail.push(`launcher: answered the ${prompt.prompt} prompt`);
      if (count > MAX_ANSWERS_PER_PROMPT) {
        // Asked again and again: the viewer keeps rejecting what it is given.
        this.verdict ??= { outcome: 'wrong-password', cause: 'logon-failure', message: 'The desktop did not accept your user name or password. Check them and connect again.' };
        void this.kill();
        return;
      }
      pty.write(prompt.reply);
    });

    this.exited = new Promise<void>((resolve) => {
      pty.onExit(({ exitCode, signal }) => {
        clearTimeout(timer);
        for (const line of lines.flush()) onLine(line);
        const exit = { exitCode, signal: signal ?? 0 };
        this.tail.push(`launcher: exited with code ${exitCode}${exit.signal ? `, signal ${exit.signal}` : ''}`);
        const parsed = plan.parser.finish(exit);
        const result = this.verdict ?? (this.stopRequested ? { outcome: 'ended' as const, message: 'The session was closed.' } : parsed);
        this.done = true;
        if (!this.isStarted) this.rejectStarted(new NativeSessionEnded(result));
        this.resolveResult(result);
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    this.stopRequested = true;
    if (this.done) return;
    if (!this.pty) {
      // Not spawned yet (looking up the binary): run() sees stopRequested and ends the session.
      await this.result;
      return;
    }
    const settling = this.isStarted ? this.startedAt + this.settleMs - Date.now() : 0;
    if (settling > 0) {
      await Promise.race([this.result, new Promise((resolve) => setTimeout(resolve, settling))]);
    }
    await this.kill();
  }

  /** Ends the viewer's whole process group: SIGTERM, then SIGKILL after a grace period. */
  private async kill(): Promise<void> {
    const pty = this.pty;
    if (!pty || this.done) return;
    // node-pty starts the viewer as a session leader, so its pid is also its process group:
    // signalling -pid reaches helpers it started too.
    signalGroup(pty.pid, 'SIGTERM');
    const exited = this.exited ?? Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace-over'>((resolve) => {
      timer = setTimeout(() => resolve('grace-over'), STOP_GRACE_MS);
    });
    if ((await Promise.race([exited, graceOver])) === 'grace-over') {
      signalGroup(pty.pid, 'SIGKILL');
      await exited;
    }
    clearTimeout(timer);
  }

  async sendCtrlAltDel(): Promise<void> {
    const pid = this.pid;
    if (!this.isStarted || pid === null) {
      throw new KeyPressError('The desktop is not connected, so Ctrl+Alt+Del cannot be sent.', `session ${this.id} not running`);
    }
    await pressKeysInWindowOf(pid, this.keys, this.env);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Group already gone; fall back to the process itself in case it left the group.
    try {
      process.kill(pid, signal);
    } catch {
      // gone as well
    }
  }
}

function invalidTarget(issues: readonly { path: PropertyKey[]; message: string }[]): NativeResult {
  const issue = issues[0];
  const field = issue ? issue.path.map(String).join('.') : 'target';
  // The value itself may be the password: name the field, never the value.
  return { outcome: 'failed', message: `The connection details are not usable (${field} ${issue?.message ?? 'is invalid'}). Tell your administrator.` };
}
