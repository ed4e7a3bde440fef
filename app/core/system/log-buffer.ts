/**
 * The kiosk's recent log lines for the admin screen: a fixed-size ring (old lines drop off, memory
 * stays bounded however long the kiosk runs), each line also written to stderr, where journald picks
 * it up with its level (the "<N>" syslog prefix). Anything that looks like a password, token or PIN
 * is replaced before the line is kept or written, so neither the screen nor the journal holds one.
 */
import { z } from 'zod';
import { LogLine } from '../kiosk-api.js';
import { isSecretName } from './secret-names.js';

export type LogLine = z.infer<typeof LogLine>;
export type LogLevel = LogLine['level'];

const REDACTED = '[redacted]';
/** Longer messages are cut: one runaway tool output must not push everything else out. */
const MAX_MESSAGE = 2000;
const SYSLOG_PRIORITY: Record<LogLevel, number> = { error: 3, warn: 4, info: 6 };

/** Quoted JSON-style pairs: "password": "..." */
const QUOTED_PAIR = /("([^"\\]{1,100})"\s*:\s*)"((?:[^"\\]|\\.)*)"/g;
/** A name followed by ':' or '=': password=..., Authorization: Bearer ..., 802-11-wireless-security.psk:... */
const NAME_AND_SEPARATOR = /(?<![\w.-])([A-Za-z0-9][\w.-]{0,99})[ \t]*[=:][ \t]*/g;
/** Where a bare value ends. Spaces do not end it: a Wi-Fi passphrase may hold spaces, and cutting a
 * little too much from a log line is the safe mistake. */
const VALUE_END = /[&,;"'}\]\r\n]/;
/** A token with its scheme anywhere else: Bearer eyJ... */
const SCHEME_TOKEN = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g;
/** Credentials inside a URL: https://user:secret@host */
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi;

export function redact(text: string): string {
  const quoted = text
    .replace(URL_USERINFO, `$1${REDACTED}@`)
    .replace(QUOTED_PAIR, (whole, head: string, key: string) => (isSecretName(key) ? `${head}"${REDACTED}"` : whole));
  return redactBarePairs(quoted).replace(SCHEME_TOKEN, `$1 ${REDACTED}`);
}

/** Bare `name: value` pairs; a name that is no secret is stepped over, so its value is still scanned. */
function redactBarePairs(text: string): string {
  const names = new RegExp(NAME_AND_SEPARATOR);
  let out = '';
  let copied = 0;
  for (let m = names.exec(text); m; m = names.exec(text)) {
    if (!isSecretName(m[1]!)) continue;
    const valueStart = m.index + m[0].length;
    const length = text.slice(valueStart).search(VALUE_END);
    const valueEnd = length === -1 ? text.length : valueStart + length;
    if (valueEnd === valueStart || text.startsWith(REDACTED, valueStart)) continue;
    out += text.slice(copied, valueStart) + REDACTED;
    copied = valueEnd;
    names.lastIndex = valueEnd;
  }
  return out + text.slice(copied);
}

export interface LogBufferOptions {
  /** Lines kept; the oldest go first. */
  capacity?: number;
  /** Where each line also goes (stderr by default; tests collect it). */
  write?: (text: string) => void;
  now?: () => Date;
}

export class LogBuffer {
  private readonly ring: Array<LogLine | undefined>;
  private next = 0;
  private count = 0;
  private readonly write: (text: string) => void;
  private readonly now: () => Date;

  constructor(options: LogBufferOptions = {}) {
    const capacity = options.capacity ?? 500;
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`log capacity must be a positive integer, not ${capacity}`);
    this.ring = new Array<LogLine | undefined>(capacity);
    this.write = options.write ?? ((text) => process.stderr.write(text));
    this.now = options.now ?? (() => new Date());
  }

  log(level: LogLevel, message: string): LogLine {
    const clean = redact(message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}… (cut)` : message);
    const line: LogLine = { at: this.now().toISOString(), level, message: clean };
    this.ring[this.next] = line;
    this.next = (this.next + 1) % this.ring.length;
    this.count = Math.min(this.count + 1, this.ring.length);
    // One journal entry per line: fold any newlines the message carries.
    this.write(`<${SYSLOG_PRIORITY[level]}>${clean.replace(/\r?\n/g, ' ⏎ ')}\n`);
    return line;
  }

  info(message: string): void {
    this.log('info', message);
  }

  warn(message: string): void {
    this.log('warn', message);
  }

  error(message: string): void {
    this.log('error', message);
  }

  /** Oldest first. */
  lines(): LogLine[] {
    const start = (this.next - this.count + this.ring.length) % this.ring.length;
    const out: LogLine[] = [];
    for (let i = 0; i < this.count; i++) {
      const line = this.ring[(start + i) % this.ring.length];
      if (line) out.push(line);
    }
    return out;
  }
}
