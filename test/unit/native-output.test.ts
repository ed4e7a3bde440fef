import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter, OutputTail } from '../../app/core/native/output-tail.js';

test('output tail: secrets replaced, lines and length bounded', () => {
  const tail = new OutputTail(['hunter2', ''], 3, 20);
  tail.push('password is hunter2, again hunter2');
  assert.deepEqual(tail.snapshot(), ['password is ********…']);
  for (const n of [1, 2, 3, 4]) tail.push(`line ${n}`);
  assert.deepEqual(tail.snapshot(), ['line 2', 'line 3', 'line 4']);
});

test('line splitter: CR/LF, colour codes, partial prompt kept apart until answered', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.feed('(remote-viewer:1): virt-viewer-\x1b[1;32mDEBUG\x1b[0m: a\r\nsec'), ['(remote-viewer:1): virt-viewer-DEBUG: a']);
  assert.deepEqual(s.feed('ond\r\n\r\nPassword: '), ['second']);
  assert.equal(s.partial, 'Password: ');
  s.clearPartial();
  assert.deepEqual(s.feed('\r\nlast'), []);
  assert.deepEqual(s.flush(), ['last']);
  assert.deepEqual(s.flush(), []);
});
