/**
 * Runs one system tool (nmcli, pactl, xrandr, wlr-randr) without a shell, with a time limit, and
 * hands back what it printed and its exit code. A non-zero exit is a normal answer here: each module
 * knows what its tool's codes and messages mean. Only "not installed" and "did not answer in time"
 * are decided here, because they read the same for every tool.
 */
import { execFile } from 'node:child_process';
import { SystemError } from './system-error.js';

export interface ToolRun {
  stdout: string;
  stderr: string;
  /** 0 on success. */
  code: number;
}

export interface ToolOptions {
  /** The service as the technician knows it, e.g. "NetworkManager": for the time-out message. */
  service: string;
  /** What the technician reads when the binary is missing, e.g. "NetworkManager is not installed." */
  missing: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

const MAX_OUTPUT = 4 * 1024 * 1024;

export function runTool(command: string, args: readonly string[], options: ToolOptions): Promise<ToolRun> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  // C.UTF-8, not C: the tools must print their untranslated words (we parse them), but glib tools
  // such as nmcli turn every non-ASCII character of a network name into '?' under plain C, and pactl
  // writes decimal commas into its JSON under e.g. de_DE.
  const env = { ...(options.env ?? process.env), LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' };
  return new Promise((resolve, reject) => {
    const child = execFile(command, [...args], { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) return resolve({ stdout, stderr, code: 0 });
      const failure = error as NodeJS.ErrnoException & { killed?: boolean; code?: number | string; signal?: NodeJS.Signals | null };
      if (failure.code === 'ENOENT' || failure.code === 'EACCES') {
        return reject(new SystemError('system', options.missing, `${command}: ${failure.code}`));
      }
      if (failure.killed || failure.signal) {
        const seconds = Math.max(1, Math.round(timeoutMs / 1000));
        return reject(new SystemError('system', `${options.service} did not answer within ${seconds} second${seconds === 1 ? '' : 's'}. Try again in a moment.`, `${command} ${args.join(' ')}: killed after ${timeoutMs} ms (${failure.signal ?? 'timeout'}); stderr: ${stderr.trim()}`));
      }
      if (failure.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
        return reject(new SystemError('system', 'A system tool printed far more than expected. Try again; if it keeps happening, restart the kiosk.', `${command}: output over ${MAX_OUTPUT} bytes`));
      }
      resolve({ stdout, stderr, code: typeof failure.code === 'number' ? failure.code : 1 });
    });
    // An empty, closed stdin: a tool that unexpectedly prompts reads end-of-file instead of waiting.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end();
  });
}

/** The first line a tool wrote to stderr, without its "Error: " prefix: for log details. */
export function firstErrorLine(text: string): string {
  const line = text.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? '';
  return line.replace(/^Error:\s*/, '');
}
