/**
 * The last lines a viewer printed, kept for the kiosk's log when a session fails. Bounded in lines
 * and line length, and with the session's secrets replaced before a line is stored, in case a
 * viewer ever prints one (none of the recorded runs did).
 */
export class OutputTail {
  private readonly lines: string[] = [];

  constructor(
    private readonly secrets: readonly string[],
    private readonly maxLines = 200,
    private readonly maxLineLength = 400,
  ) {}

  push(line: string): void {
    let clean = line;
    for (const secret of this.secrets) {
      if (secret) clean = clean.split(secret).join('********');
    }
    if (clean.length > this.maxLineLength) clean = `${clean.slice(0, this.maxLineLength)}…`;
    this.lines.push(clean);
    if (this.lines.length > this.maxLines) this.lines.splice(0, this.lines.length - this.maxLines);
  }

  snapshot(): string[] {
    return [...this.lines];
  }
}

/** Splits pty output into lines: CR/LF line ends, ANSI colour codes (GLib colours tty output) removed. */
export class LineSplitter {
  private pending = '';

  /** Adds output; returns the lines it completed. */
  feed(chunk: string): string[] {
    // eslint-disable-next-line no-control-regex -- ESC starts the colour codes being removed
    const text = this.pending + chunk.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    const parts = text.split(/\r?\n/);
    this.pending = parts.pop() ?? '';
    return parts.map((part) => part.replace(/\r/g, '')).filter((part) => part.trim() !== '');
  }

  /** Output after the last line end: where a prompt waiting for an answer shows up. */
  get partial(): string {
    return this.pending;
  }

  /** Forget the partial line (its prompt has been answered). */
  clearPartial(): void {
    this.pending = '';
  }

  /** The unterminated rest, once the process has gone. */
  flush(): string[] {
    const rest = this.pending.replace(/\r/g, '');
    this.pending = '';
    return rest.trim() ? [rest] : [];
  }
}
