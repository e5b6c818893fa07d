import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ExecutionOutcome } from '../core/execution.js';
import { formatFeedback, referenceBannedCall, REFERENCE_EMPTY_OUTPUT_ERROR, truncateMiddle } from './feedback.js';

const ok = (stdout: string): ExecutionOutcome => ({ kind: 'ok', stdout, stderr: '', durationMs: 1 });

test('ok output is stripped and cut to 200 + "..." + 200 like the reference', () => {
  assert.equal(formatFeedback(ok('  42\n\n')), '42');
  const long = 'a'.repeat(150) + 'b'.repeat(150) + 'c'.repeat(150);
  const cut = formatFeedback(ok(long));
  assert.equal(cut, 'a'.repeat(150) + 'b'.repeat(50) + '...' + 'b'.repeat(50) + 'c'.repeat(150));
  assert.equal(cut.length, 403);
  assert.equal(formatFeedback(ok('x'.repeat(400))), 'x'.repeat(400)); // exactly 400 is kept
});

test('truncateMiddle matches Python slicing by code point (property)', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 600 }), fc.integer({ min: 1, max: 250 }), (text, keep) => {
      const chars = Array.from(text);
      const expected = chars.length > 2 * keep ? chars.slice(0, keep).join('') + '...' + chars.slice(-keep).join('') : text;
      assert.equal(truncateMiddle(text, keep), expected);
    }),
  );
});

test('errors report the last traceback line only; stdout before the error is dropped unless asked', () => {
  const error: ExecutionOutcome = {
    kind: 'error',
    errorType: 'ZeroDivisionError',
    message: 'division by zero',
    lastLine: 'ZeroDivisionError: division by zero',
    stdout: 'partial\n',
    stderr: 'Traceback ...',
    durationMs: 1,
  };
  assert.equal(formatFeedback(error), 'ZeroDivisionError: division by zero');
  assert.equal(formatFeedback(error, { stdoutOnError: true }), 'partial\nZeroDivisionError: division by zero');
});

test('timeouts, memory, crashes and sandbox failures have fixed texts', () => {
  assert.equal(formatFeedback({ kind: 'timeout', stdout: 'x', stderr: '', durationMs: 5000, limitMs: 5000 }), 'Timeout Error');
  assert.equal(formatFeedback({ kind: 'memory', stdout: '', stderr: '', durationMs: 1, limitMb: 1 }), 'MemoryError');
  assert.match(formatFeedback({ kind: 'crash', signal: 'SIGSEGV', stdout: '', stderr: '', durationMs: 1 }), /SIGSEGV/);
  assert.match(formatFeedback({ kind: 'infra_error', reason: 'gone', durationMs: 1 }), /^Sandbox Error: gone$/);
  assert.equal(formatFeedback({ kind: 'output_limit', stdout: ' 7 ', stderr: '', durationMs: 1, limitBytes: 1 }), '7');
});

test('empty output: empty by default, the reference quirk or a note on request', () => {
  assert.equal(formatFeedback(ok('')), '');
  assert.equal(formatFeedback(ok(' \n'), { emptyOutput: 'reference' }), REFERENCE_EMPTY_OUTPUT_ERROR);
  assert.equal(formatFeedback(ok(''), { emptyOutput: 'note' }), '(no output)');
  assert.equal(formatFeedback(ok('1'), { emptyOutput: 'reference' }), '1');
});

test('the reference bans input( and os.system( before running', () => {
  assert.equal(referenceBannedCall('n = int(input())'), true);
  assert.equal(referenceBannedCall('import os\nos.system("ls")'), true);
  assert.equal(referenceBannedCall('print(1)'), false);
});
