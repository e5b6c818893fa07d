import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareStdout, describeMismatch, parsePythonDecimal, strippedLines } from './lcb-compare.js';

test('strippedLines strips the text, splits on \\n and strips each line', () => {
  assert.deepEqual(strippedLines('\n\n a b  \r\nc\t\n\n'), ['a b', 'c']);
  assert.deepEqual(strippedLines(''), ['']);
  // U+FEFF is not Python whitespace, so it survives the strip; U+0085 is.
  assert.deepEqual(strippedLines('\ufeffx\u0085'), ['\ufeffx']);
});

test('whitespace LCB ignores: trailing spaces, final newline, CRLF, blank lines at the ends', () => {
  assert.deepEqual(compareStdout('YES  \r\nNO\r\n\n\n', 'YES\nNO\n'), { match: true });
  assert.deepEqual(compareStdout('\n\nT', 'T\n'), { match: true });
});

test('whitespace LCB does not ignore: a blank line inside, doubled spaces between words, case', () => {
  assert.equal(compareStdout('a\n\nb', 'a\nb').match, false);
  const doubled = compareStdout('hello  world', 'hello world');
  assert.equal(doubled.match, false);
  assert.equal(describeMismatch(doubled), 'line 1: expected "hello world", got "hello  world"');
  assert.equal(compareStdout('yes', 'YES').match, false);
});

test('numeric lines compare as Python Decimals: 1.0 = 1, 1e2 = 100, but no tolerance', () => {
  assert.equal(compareStdout('1.0 1e2 -0 +5', '1 100 0 5').match, true);
  assert.equal(compareStdout('2  3   4', '2 3 4').match, true);
  assert.equal(compareStdout('0.3333333', '0.33333333').match, false);
  assert.equal(compareStdout('1 2', '1 2 3').match, false);
  assert.equal(compareStdout('inf -Infinity', 'Infinity -inf').match, true);
  assert.equal(compareStdout('nan', 'NaN').match, false);
  assert.equal(compareStdout('1_000', '1000').match, true);
  assert.equal(compareStdout('0x10', '16').match, false);
});

test('line counts must agree', () => {
  const comparison = compareStdout('1\n2\n3', '1\n2');
  assert.deepEqual(comparison, { match: false, reason: 'line_count', expectedLines: 2, actualLines: 3 });
  assert.equal(describeMismatch(comparison), 'expected 2 line(s), got 3');
});

test('parsePythonDecimal accepts what Decimal() accepts and nothing else', () => {
  for (const ok of ['1', '-1.5', '.5', '5.', '1E+3', '1e-3', '+0', 'Inf', '-infinity', 'sNaN12', '1__0']) {
    assert.ok(parsePythonDecimal(ok), ok);
  }
  for (const bad of ['', '.', 'e5', '1e', '1.2.3', '--1', '0x1', 'one', '1,000', '½']) {
    assert.equal(parsePythonDecimal(bad), undefined, bad);
  }
  assert.deepEqual(parsePythonDecimal('12.500'), { kind: 'finite', negative: false, coefficient: 125n, exponent: -1 });
  assert.deepEqual(parsePythonDecimal('-0.000'), { kind: 'finite', negative: false, coefficient: 0n, exponent: 0 });
});
