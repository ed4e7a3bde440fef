/**
 * The technician terminal of the admin screen: login shells in pseudo-terminals (node-pty), as the
 * user the kiosk runs as, because that is what the technician is entitled to, nothing more. Few at
 * once (each is a shell the kiosk must keep alive), and all of them end when the admin screen locks,
 * so no shell outlives the PIN that opened it.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { homedir, userInfo } from 'node:os';
import { spawn, type IPty } from 'node-pty';
import { isSecretName } from './secret-names.js';
import { SystemError } from './system-error.js';

export interface TerminalOptions {
  /** Open terminals at most (default 3). */
  maxTerminals?: number;
  /** The shell; default `$SHELL`, else /bin/bash. */
  shell?: string;
  /** Environment the shell starts from; default the kiosk's own, without its secrets. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface TerminalEvents {
  output: [terminalId: string, data: string];
  exit: [terminalId: string, exitCode: number, signal: number | null];
}

export class Terminals extends EventEmitter<TerminalEvents> {
  private readonly open_ = new Map<string, IPty>();
  private readonly maxTerminals: number;
  private readonly shell: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly cwd: string;

  constructor(options: TerminalOptions = {}) {
    super();
    this.maxTerminals = options.maxTerminals ?? 3;
    this.shell = options.shell ?? process.env.SHELL ?? '/bin/bash';
    this.env = shellEnvironment(options.env ?? process.env);
    this.cwd = options.cwd ?? safeHome();
  }

  get count(): number {
    return this.open_.size;
  }

  /** Starts a login shell sized `cols`×`rows`; returns its id. */
  open(cols: number, rows: number): string {
    if (this.open_.size >= this.maxTerminals) {
      throw new SystemError('conflict', `At most ${this.maxTerminals} terminals can be open at once. Close one first.`, `terminal limit ${this.maxTerminals} reached`);
    }
    const id = randomBytes(6).toString('hex');
    let pty: IPty;
    try {
      // "-l": a login shell reads the user's profile, as on a console login.
      pty = spawn(this.shell, ['-l'], { name: 'xterm-256color', cols, rows, cwd: this.cwd, env: this.env });
    } catch (error) {
      throw new SystemError('system', `The terminal could not start its shell (${this.shell}). The system image may be missing it.`, `node-pty spawn ${this.shell}: ${String(error)}`);
    }
    this.open_.set(id, pty);
    pty.onData((data) => this.emit('output', id, data));
    pty.onExit(({ exitCode, signal }) => {
      this.open_.delete(id);
      this.emit('exit', id, exitCode, signal ?? null);
    });
    return id;
  }

  input(id: string, data: string): void {
    this.get(id).write(data);
  }

  resize(id: string, cols: number, rows: number): void {
    this.get(id).resize(cols, rows);
  }

  /** Hangs up the terminal, as closing a terminal window does; its `exit` event follows. */
  close(id: string): void {
    this.get(id).kill('SIGHUP');
  }

  /** On admin lock: hang up every terminal. */
  closeAll(): void {
    for (const pty of this.open_.values()) pty.kill('SIGHUP');
  }

  private get(id: string): IPty {
    const pty = this.open_.get(id);
    if (!pty) throw new SystemError('not-found', 'That terminal has already closed. Open a new one.', `terminal ${id} not open`);
    return pty;
  }
}

/**
 * The shell gets the kiosk's environment minus anything secret-looking (session keys, tokens a
 * launcher may have set): a technician does not need them and a screenshot should not show them.
 */
export function shellEnvironment(base: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined && !isSecretName(name)) env[name] = value;
  }
  env.TERM = 'xterm-256color';
  return env;
}

function safeHome(): string {
  try {
    return userInfo().homedir || homedir();
  } catch {
    return '/';
  }
}
