/**
 * A tar stream read entry by entry, front to back, as it arrives (npm's `tar` parses it): `next()`
 * gives the next entry once the previous one's body has been read to its end. Nothing is buffered
 * beyond a chunk or two: while an entry's body is not read, the parser tells the source to wait.
 *
 * Every failure comes out as an UpdateError: the source failing or ending inside the archive
 * (a cut connection, an incomplete file) is 'truncated'; an archive the parser cannot read is
 * 'not-a-bundle'.
 */
import { Readable, type Writable } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';
import { UpdateError } from './update-error.js';

export interface TarEntry {
  path: string;
  /** The body's length as the entry's header says. */
  size: number;
  /** 'File' for a regular file. */
  type: string;
  body: Readable;
}

/** The parser's own code when the input stopped inside an entry (strict mode makes it an error). */
function isTruncation(error: Error & { tarCode?: string }): boolean {
  return /truncated input|unexpected end/i.test(error.message);
}

export class TarEntryReader {
  private readonly parser: Parser;
  private readonly queue: TarEntry[] = [];
  private waiter: { resolve: (entry: TarEntry | undefined) => void; reject: (error: UpdateError) => void } | undefined;
  private failed: UpdateError | undefined;
  private ended = false;
  private current: Readable | undefined;

  constructor(private readonly source: Readable) {
    // strict: every problem the parser notices (a bad header, input ending inside an entry) is an
    // error, never a warning the install would not see.
    this.parser = new Parser({ strict: true, onReadEntry: (entry) => this.accept(entry) });
    this.parser.on('error', (error: Error) => this.fail(isTruncation(error)
      ? new UpdateError('truncated', TRUNCATED_MESSAGE, `tar: ${error.message}`)
      : new UpdateError('not-a-bundle', NOT_A_BUNDLE_MESSAGE, `tar: ${error.message}`)));
    this.parser.on('end', () => {
      this.ended = true;
      this.settle();
    });
    source.on('error', (error: Error) => this.fail(error instanceof UpdateError
      ? error
      : new UpdateError('truncated', TRUNCATED_MESSAGE, `source: ${error.message}`)));
    // Readable.pipe honours the parser's write() returning false and its 'drain'.
    source.pipe(this.parser as unknown as Writable);
  }

  /** Why reading stopped (the source failed, the archive is bad, fail() was called), if it did. */
  get failure(): UpdateError | undefined {
    return this.failed;
  }

  /** The next entry, or undefined at the end of the archive. */
  next(): Promise<TarEntry | undefined> {
    if (this.waiter) return Promise.reject(new Error('TarEntryReader.next called twice without waiting'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.settle();
    });
  }

  /** Stops reading: the source is destroyed (a download stops), a body being read fails with `error`. */
  fail(error: UpdateError): void {
    if (this.failed) return;
    this.failed = error;
    this.source.unpipe(this.parser as unknown as Writable);
    if (!this.source.destroyed) this.source.destroy();
    this.current?.destroy(error);
    this.settle();
  }

  /** Stops reading without an error (the caller has what it needs): the source is destroyed. */
  close(): void {
    this.source.unpipe(this.parser as unknown as Writable);
    if (!this.source.destroyed) this.source.destroy();
  }

  private accept(entry: ReadEntry): void {
    // A Node Readable over the entry: read() resumes the entry, a full buffer pauses it (and a
    // paused entry makes the parser ask the source to wait).
    const body = new Readable({ highWaterMark: 256 * 1024, read: () => { entry.resume(); } });
    // fail() may destroy a body before its reader has started; the reader learns it from `failure`
    // or from the destroyed stream, never as an uncaught 'error' event.
    body.on('error', () => undefined);
    entry.on('data', (chunk: Buffer) => { if (!body.push(chunk)) entry.pause(); });
    entry.on('end', () => body.push(null));
    entry.pause();
    this.queue.push({ path: entry.path, size: entry.size, type: entry.type, body });
    this.settle();
  }

  private settle(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    if (this.failed) {
      this.waiter = undefined;
      waiter.reject(this.failed);
    } else if (this.queue.length > 0) {
      this.waiter = undefined;
      const entry = this.queue.shift()!;
      this.current = entry.body;
      waiter.resolve(entry);
    } else if (this.ended) {
      this.waiter = undefined;
      waiter.resolve(undefined);
    }
  }
}

export const TRUNCATED_MESSAGE = 'The update ended before it was complete (the download was cut off or the file is incomplete). Try again.';
export const NOT_A_BUNDLE_MESSAGE = 'This is not a thinkiosk update bundle (.tkupdate), or it is damaged. Check the file or address and try again.';
