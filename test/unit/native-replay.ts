/** Replays a recorded viewer run (test/fixtures/native/) through the launcher's own line splitter and a parser. */
import { z } from 'zod';
import type { LineMeaning, NativeResult, ViewerOutputParser } from '../../app/core/native/native-types.js';
import { LineSplitter } from '../../app/core/native/output-tail.js';
import { fixture } from './fixtures.js';

const Recorded = z.record(z.string(), z.object({ command: z.array(z.string()), exit: z.object({ exitCode: z.number(), signal: z.number() }) }));

export interface Replayed {
  /** Index of the line that meant "connected", or null. */
  connectedAtLine: number | null;
  /** The first "decided" meaning (a viewer waiting in a dialog) and its line, or null. */
  decided: { line: number; result: NativeResult } | null;
  /** What the parser makes of the recorded exit. */
  result: NativeResult;
  lines: string[];
}

export function recordedRun(name: string): { output: string; command: string[]; exit: { exitCode: number; signal: number } } {
  const entry = Recorded.parse(JSON.parse(fixture('native/recorded.json')))[name];
  if (!entry) throw new Error(`no recorded run ${name} in test/fixtures/native/recorded.json`);
  return { output: fixture(`native/${name}.txt`), ...entry };
}

export function replay(name: string, parser: ViewerOutputParser): Replayed {
  const run = recordedRun(name);
  const splitter = new LineSplitter();
  // Feed in uneven chunks, as a pty delivers them.
  const chunks = run.output.match(/[\s\S]{1,97}/g) ?? [];
  const lines = [...chunks.flatMap((chunk) => splitter.feed(chunk)), ...splitter.flush()];
  let connectedAtLine: number | null = null;
  let decided: Replayed['decided'] = null;
  lines.forEach((line, i) => {
    const meaning: LineMeaning | null = parser.line(line);
    if (meaning?.kind === 'connected' && connectedAtLine === null) connectedAtLine = i;
    if (meaning?.kind === 'decided' && !decided) decided = { line: i, result: meaning.result };
  });
  return { connectedAtLine, decided, result: parser.finish(run.exit), lines };
}
