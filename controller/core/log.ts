/** One JSON line per event on stderr: what a journal or a log shipper wants. */
export type LogLevel = 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
}

export const jsonLogger: Logger = {
  log(level, event, fields = {}) {
    process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }) + '\n');
  },
};

export const silentLogger: Logger = { log() {} };
