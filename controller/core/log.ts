/**
 * The controller's log: one JSON line per event on stderr, what a journal or a log shipper wants,
 * e.g. {"level":"info","time":"2025-03-03T08:00:00.000Z","event":"login","user":"alice","from":"10.0.3.27"}.
 * Callers name the event and give its fields; pino writes the line.
 */
import { pino, type DestinationStream } from 'pino';

export type LogLevel = 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
}

/** A Logger writing JSON lines to `destination`. */
export function jsonLines(destination: DestinationStream): Logger {
  const lines = pino({
    base: null, // no pid or hostname on every line: the journal knows both
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, destination);
  return { log: (level, event, fields = {}) => lines[level]({ event, ...fields }) };
}

/** The process's log on stderr, written synchronously so a line logged just before exit is not lost. */
export const jsonLogger: Logger = jsonLines(pino.destination({ fd: 2, sync: true }));

export const silentLogger: Logger = { log() {} };
