/**
 * node:test reporter: one line per test (✔/✖ with duration, failures with their message), and a
 * closing "N passed, N failed, N skipped" line that CI reads.
 */
interface TestEventData {
  name: string;
  nesting: number;
  file?: string;
  skip?: boolean | string;
  todo?: boolean | string;
  details?: { duration_ms?: number; type?: string; error?: { message?: string; cause?: unknown } };
}
interface TestEvent { type: string; data: TestEventData }

export default async function* reporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for await (const event of source) {
    const { data } = event;
    // A file that fails while loading says why only on its stderr: pass that through.
    if (event.type === 'test:stderr') {
      yield `  [stderr] ${(event.data as { message?: string }).message ?? ''}`;
      continue;
    }
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (data.details?.type === 'suite') continue;
    const indent = '  '.repeat(data.nesting);
    const ms = data.details?.duration_ms?.toFixed(0) ?? '?';
    if (data.skip || data.todo) {
      skipped += 1;
      yield `${indent}- ${data.name} (skipped${typeof data.skip === 'string' ? `: ${data.skip}` : ''})\n`;
    } else if (event.type === 'test:pass') {
      passed += 1;
      yield `${indent}✔ ${data.name} (${ms} ms)\n`;
    } else {
      failed += 1;
      const error = data.details?.error;
      const cause = error?.cause instanceof Error ? error.cause.message : error?.cause !== undefined ? String(error.cause) : '';
      yield `${indent}✖ ${data.name} (${ms} ms)\n${indent}    ${(cause || error?.message || 'failed').slice(0, 800).split('\n').join(`\n${indent}    `)}\n`;
    }
  }
  yield `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`;
}
