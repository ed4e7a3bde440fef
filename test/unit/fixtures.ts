/** Recorded answers from the test cloud (scripts/test-cloud), read from test/fixtures/. */
import { readFileSync } from 'node:fs';

export function fixture(name: string): string {
  return readFileSync(new URL(`../../../test/fixtures/${name}`, import.meta.url), 'utf8');
}
