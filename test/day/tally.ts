/**
 * The day's ledger: every attempt a person made (log in, refresh the list, connect, reconnect, log
 * out), what was expected at that moment and what they saw; and the figures a closing note wants —
 * connects, failures by cause (expected at that moment or not), and which attempts went wrong.
 */
import type { Seen } from './kiosk-screen.js';

export type Step = 'login' | 'refresh' | 'connect' | 'reconnect' | 'session' | 'list' | 'logout' | 'idle-logout' | 'admin';

/**
 * What a moment of the day allows: the thing works, and/or one of these causes with its sentence.
 * `any-sentence`: whatever the page says, as long as it is a sentence that offers a way on (an
 * error box or "connection lost" with Reconnect) — not silence, a wrong picture or an internal error.
 */
export interface Expectation {
  works: boolean;
  causes: readonly string[] | 'any-sentence';
  /** The moment, in words, for the report ("controller stopped", "link down"). */
  moment: string;
}

export const WORKS: Expectation = { works: true, causes: [], moment: 'normal' };

export interface Attempt {
  person: number;
  user: string;
  step: Step;
  /** e.g. "vnc Lab VNC desk". */
  what: string;
  expected: Expectation;
  seen: Seen;
  /** Seen matches what the moment allows. */
  ok: boolean;
}

export class Tally {
  readonly attempts: Attempt[] = [];

  record(person: number, user: string, step: Step, what: string, expected: Expectation, seen: Seen): Attempt {
    const ok = seen.works ? expected.works : allows(expected, seen.cause);
    const attempt = { person, user, step, what, expected, seen, ok };
    this.attempts.push(attempt);
    return attempt;
  }

  get unexpected(): Attempt[] {
    return this.attempts.filter((a) => !a.ok);
  }

  /** Connects and reconnects: how many, how many worked, failures by cause. */
  connects(): { total: number; worked: number; expectedFailures: Map<string, number>; unexpectedFailures: Map<string, number> } {
    const connects = this.attempts.filter((a) => a.step === 'connect' || a.step === 'reconnect');
    const expectedFailures = new Map<string, number>();
    const unexpectedFailures = new Map<string, number>();
    for (const a of connects) {
      if (a.seen.works) continue;
      const map = a.ok ? expectedFailures : unexpectedFailures;
      map.set(a.seen.cause, (map.get(a.seen.cause) ?? 0) + 1);
    }
    return { total: connects.length, worked: connects.filter((a) => a.seen.works).length, expectedFailures, unexpectedFailures };
  }

  count(step: Step): { total: number; worked: number } {
    const of = this.attempts.filter((a) => a.step === step);
    return { total: of.length, worked: of.filter((a) => a.seen.works).length };
  }
}

const NOT_A_SENTENCE = new Set(['nothing-shown', 'wrong-picture', 'internal', 'exception']);

function allows(expected: Expectation, cause: string): boolean {
  return expected.causes === 'any-sentence' ? !NOT_A_SENTENCE.has(cause) : expected.causes.includes(cause);
}

export function causes(map: Map<string, number>): string {
  return map.size ? [...map].sort((a, b) => b[1] - a[1]).map(([cause, n]) => `${cause} ${n}`).join(', ') : 'none';
}

export function describeAttempt(a: Attempt): string {
  const allowed = a.expected.causes === 'any-sentence' ? 'a sentence' : a.expected.causes.join('/');
  const expected = a.expected.works ? (allowed ? `works or ${allowed}` : 'works') : allowed;
  const seen = a.seen.works ? 'worked' : `${a.seen.cause}: "${a.seen.sentence.slice(0, 200)}"`;
  return `person ${a.person} (${a.user}) ${a.step} ${a.what} [${a.expected.moment}]: expected ${expected}, saw ${seen} after ${(a.seen.ms / 1000).toFixed(1)} s`;
}
