/**
 * LiveCodeBench's output comparison for standard-input problems, reproduced exactly
 * (lcb_runner/evaluation/testing_util.py: get_stripped_lines, convert_line_to_decimals, grade_stdio):
 * strip both texts, split on `\n`, strip each line; equal line counts; a line pair matches when the
 * strings are equal or when both are whitespace-separated lists of Python `Decimal`s that are equal
 * element by element. No float tolerance, no case folding: that is how LCB grades.
 */

/** Exactly the characters Python's `str.isspace()` accepts (JS `\s` adds U+FEFF and lacks U+001C-U+001F, U+0085). */
const PY_WHITESPACE = '[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const STRIP = new RegExp(`^${PY_WHITESPACE}+|${PY_WHITESPACE}+$`, 'gu');
const SPLIT = new RegExp(`${PY_WHITESPACE}+`, 'u');

export function pyStrip(text: string): string {
  return text.replace(STRIP, '');
}

/** `[line.strip() for line in text.strip().split("\n")]`. */
export function strippedLines(text: string): string[] {
  return pyStrip(text)
    .split('\n')
    .map((line) => pyStrip(line));
}

/** A Python `Decimal` reduced to a canonical form for equality. */
type DecimalValue =
  | { kind: 'finite'; negative: boolean; coefficient: bigint; exponent: number }
  | { kind: 'infinity'; negative: boolean }
  | { kind: 'nan' };

const FINITE = /^([+-])?(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:e([+-]?\d+))?$/i;
const INFINITY = /^([+-])?(?:inf|infinity)$/i;
const NAN = /^[+-]?s?nan\d*$/i;

/** Parses one token as CPython's `Decimal(str)` would (it drops every `_`); undefined when invalid. */
export function parsePythonDecimal(token: string): DecimalValue | undefined {
  const text = token.replace(/_/g, '');
  if (NAN.test(text)) return { kind: 'nan' };
  const infinity = INFINITY.exec(text);
  if (infinity) return { kind: 'infinity', negative: infinity[1] === '-' };
  const match = FINITE.exec(text);
  if (!match) return undefined;
  const integerPart = match[2] ?? '';
  const fraction = match[3] ?? match[4] ?? '';
  let digits = (integerPart + fraction).replace(/^0+/, '');
  let exponent = Number(match[5] ?? '0') - fraction.length;
  if (digits === '') return { kind: 'finite', negative: false, coefficient: 0n, exponent: 0 };
  // Canonical form: no trailing zeros in the coefficient (Decimal('1.0') == Decimal('1')).
  const trimmed = digits.replace(/0+$/, '');
  exponent += digits.length - trimmed.length;
  digits = trimmed;
  return { kind: 'finite', negative: match[1] === '-', coefficient: BigInt(digits), exponent };
}

function decimalEquals(a: DecimalValue, b: DecimalValue): boolean {
  if (a.kind === 'nan' || b.kind === 'nan') return false;
  if (a.kind === 'infinity' || b.kind === 'infinity') {
    return a.kind === b.kind && a.negative === b.negative;
  }
  return a.negative === b.negative && a.coefficient === b.coefficient && a.exponent === b.exponent;
}

/** `convert_line_to_decimals`: undefined when some token is not a number. */
function lineToDecimals(line: string): DecimalValue[] | undefined {
  const tokens = line === '' ? [] : line.split(SPLIT).filter((t) => t !== '');
  const values: DecimalValue[] = [];
  for (const token of tokens) {
    const value = parsePythonDecimal(token);
    if (!value) return undefined;
    values.push(value);
  }
  return values;
}

export type StdioComparison =
  | { match: true }
  | { match: false; reason: 'line_count'; expectedLines: number; actualLines: number }
  | { match: false; reason: 'line'; line: number; expected: string; actual: string };

/** Compares a program's stdout with the expected output the way LCB's `grade_stdio` does. */
export function compareStdout(actual: string, expected: string): StdioComparison {
  const actualLines = strippedLines(actual);
  const expectedLines = strippedLines(expected);
  if (actualLines.length !== expectedLines.length) {
    return { match: false, reason: 'line_count', expectedLines: expectedLines.length, actualLines: actualLines.length };
  }
  for (let index = 0; index < actualLines.length; index++) {
    const a = actualLines[index] ?? '';
    const e = expectedLines[index] ?? '';
    if (a === e) continue;
    const aValues = lineToDecimals(a);
    const eValues = aValues ? lineToDecimals(e) : undefined;
    if (
      aValues &&
      eValues &&
      aValues.length === eValues.length &&
      aValues.every((value, i) => decimalEquals(value, eValues[i] as DecimalValue))
    ) {
      continue;
    }
    return { match: false, reason: 'line', line: index + 1, expected: e, actual: a };
  }
  return { match: true };
}

/** One line describing a mismatch, with long lines cut. */
export function describeMismatch(comparison: StdioComparison): string {
  if (comparison.match) return 'match';
  const cut = (s: string) => JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s);
  if (comparison.reason === 'line_count') {
    return `expected ${comparison.expectedLines} line(s), got ${comparison.actualLines}`;
  }
  return `line ${comparison.line}: expected ${cut(comparison.expected)}, got ${cut(comparison.actual)}`;
}
