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

// Functional results: the driver's encoder (run by real CPython) and our comparison together must
// agree with Python's own `json.loads(expected) == result` on values built to collide.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { decodePythonResult, parsePythonJson, pythonEquals, pythonRepr } from './lcb-compare.js';
import { RESULT_ENCODER } from './lcb-program.js';

/** A value as JSON text (the expected side) and as a Python expression (the result side). */
interface Sample {
  json: string;
  python: string;
}
const scalar: fc.Arbitrary<Sample> = fc.constantFrom(
  { json: '1', python: '1' },
  { json: '1.0', python: '1.0' },
  { json: 'true', python: 'True' },
  { json: 'false', python: 'False' },
  { json: '0', python: '0' },
  { json: '-0.0', python: '-0.0' },
  { json: 'NaN', python: 'float("nan")' },
  { json: 'Infinity', python: 'float("inf")' },
  { json: '9007199254740993', python: '9007199254740993' },
  { json: '9007199254740992.0', python: '9007199254740992.0' },
  { json: '123456789012345678901234567890', python: '123456789012345678901234567890' },
  { json: '0.1', python: '0.1' },
  { json: '"1"', python: '"1"' },
  { json: '"a\\u00e9\\n"', python: '"a\\u00e9\\n"' },
  { json: 'null', python: 'None' },
);
const value: fc.Arbitrary<Sample> = fc.letrec<{ v: Sample }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('v'), { maxLength: 3 }).map((items) => ({ json: `[${items.map((i) => i.json).join(', ')}]`, python: `[${items.map((i) => i.python).join(', ')}]` })),
    fc.array(fc.tuple(fc.constantFrom('a', 'b'), tie('v')), { maxLength: 2 }).map((pairs) => ({
      json: `{${pairs.map(([k, v]) => `"${k}": ${v.json}`).join(', ')}}`,
      python: `{${pairs.map(([k, v]) => `"${k}": ${v.python}`).join(', ')}}`,
    })),
  ),
})).v;
/** Result-side values JSON cannot express (tuples, sets, int keys, subclasses, objects). */
const resultOnly: fc.Arbitrary<string> = fc.oneof(
  value.map((v) => v.python),
  value.map((v) => `(${v.python},)`),
  value.map((v) => `[(${v.python}, 1)]`),
  fc.constantFrom('{1: 2}', '{1}', 'frozenset()', 'object()', 'type("I", (int,), {})(1)', 'type("S", (str,), {})("1")', 'type("L", (list,), {})([1])'),
);

test('functional results: encoder + pythonEquals agree with CPython == (property, real python3)', () => {
  const cases = fc.sample(fc.tuple(value, fc.oneof(resultOnly, value.map((v) => v.python))), { numRuns: 400, seed: 16 });
  // Some pairs are equal by construction (the same sample on both sides).
  for (const v of fc.sample(value, { numRuns: 100, seed: 7 })) cases.push([v, v.python]);
  const script = `import json as _cir_json, sys\n${RESULT_ENCODER}for line in sys.stdin:\n    expected_json, expression = _cir_json.loads(line)\n    result = eval(expression)\n    print(_cir_json.dumps([bool(_cir_json.loads(expected_json) == result), _cir_dumps(_cir_encode(result))]))\n`;
  const input = cases.map(([expected, python]) => JSON.stringify([expected.json, python])).join('\n') + '\n';
  const lines = execFileSync('python3', ['-c', script], { input, encoding: 'utf8' }).trim().split('\n');
  assert.equal(lines.length, cases.length);
  let equal = 0;
  lines.forEach((line, i) => {
    const [pythonSays, encoded] = JSON.parse(line) as [boolean, string];
    const [expected, python] = cases[i] as [Sample, string];
    const result = decodePythonResult(encoded);
    assert.ok(result, `decodes ${encoded}`);
    assert.equal(pythonEquals(result, parsePythonJson(expected.json)), pythonSays, `${expected.json} == ${python} (encoded ${encoded})`);
    if (pythonSays) equal++;
  });
  assert.ok(equal >= 80, `enough equal pairs (${equal})`);
});

test('parsePythonJson keeps ints exact and apart from floats, and refuses what json.loads refuses', () => {
  assert.deepEqual(parsePythonJson(' [2, 2.0, 1e2, 12345678901234567890] '), {
    type: 'list',
    items: [
      { type: 'int', value: 2n },
      { type: 'float', value: 2 },
      { type: 'float', value: 100 },
      { type: 'int', value: 12345678901234567890n },
    ],
  });
  assert.deepEqual(parsePythonJson('{"a": 1, "a": 2}'), { type: 'dict', entries: [[{ type: 'str', value: 'a' }, { type: 'int', value: 2n }]] });
  for (const bad of ['', '[1,]', '01', '{a: 1}', '"\u0001"', '[1] 2', 'nan']) assert.throws(() => parsePythonJson(bad), SyntaxError, bad);
  assert.equal(pythonRepr(parsePythonJson('[1, "a", 2.0, null, {"k": true}]')), "[1, 'a', 2.0, None, {'k': True}]");
});

test('decodePythonResult refuses anything that is not the encoder\'s shape', () => {
  for (const bad of ['{"passed": true}', '1.5', '{"f": ""}', '{"i": "1.5"}', '{"t": 1}', '{"d": [[1]]}', '[{"x": 1}]', 'nope']) {
    assert.equal(decodePythonResult(bad), undefined, bad);
  }
});
