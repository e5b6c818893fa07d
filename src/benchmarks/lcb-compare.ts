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

/**
 * Functional (LeetCode) problems: LCB compares the call result with the JSON-decoded expected output
 * using Python `==`. That comparison must not run inside the judged program's process (an object can
 * claim to equal anything, and the process can reach whatever the driver holds), so the driver only
 * serialises the result into plain tagged data and the comparison happens here, with Python's rules
 * for the values a JSON document can hold: `True == 1 == 1.0`, ints and floats compared exactly,
 * NaN equal to nothing, a tuple never equal to a list, dicts equal by key set and values.
 */
export type PyValue =
  | { type: 'none' }
  | { type: 'bool'; value: boolean }
  | { type: 'int'; value: bigint }
  | { type: 'float'; value: number }
  | { type: 'str'; value: string }
  | { type: 'list'; items: PyValue[] }
  | { type: 'tuple'; items: PyValue[] }
  | { type: 'dict'; entries: Array<[PyValue, PyValue]> }
  /** Any other Python type: equal to no JSON value (a set, an instance of the program's own class). */
  | { type: 'other'; typeName: string };

/** The number a bool, int or float stands for in a comparison, or undefined for other types. */
function numeric(value: PyValue): { int: bigint } | { float: number } | undefined {
  if (value.type === 'bool') return { int: value.value ? 1n : 0n };
  if (value.type === 'int') return { int: value.value };
  if (value.type === 'float') return { float: value.value };
  return undefined;
}

/** Python's exact int/float equality (no rounding of the int to a double). */
function intEqualsFloat(int: bigint, float: number): boolean {
  return Number.isFinite(float) && Number.isInteger(float) && BigInt(float) === int;
}

/** Python `a == b` for values built from JSON documents and plain Python data. */
export function pythonEquals(a: PyValue, b: PyValue): boolean {
  const x = numeric(a);
  const y = numeric(b);
  if (x || y) {
    if (!x || !y) return false;
    if ('int' in x) return 'int' in y ? x.int === y.int : intEqualsFloat(x.int, y.float);
    return 'int' in y ? intEqualsFloat(y.int, x.float) : x.float === y.float;
  }
  switch (a.type) {
    case 'none':
      return b.type === 'none';
    case 'str':
      return b.type === 'str' && a.value === b.value;
    case 'list':
    case 'tuple':
      return b.type === a.type && a.items.length === b.items.length && a.items.every((item, i) => pythonEquals(item, b.items[i] as PyValue));
    case 'dict': {
      if (b.type !== 'dict' || a.entries.length !== b.entries.length) return false;
      return a.entries.every(([key, value]) => {
        const match = b.entries.find(([otherKey]) => pythonEquals(key, otherKey));
        return match !== undefined && pythonEquals(value, match[1]);
      });
    }
    default:
      return false;
  }
}

/** Python's `repr` of such a value, cut to `limit` characters (for one-line verdict details). */
export function pythonRepr(value: PyValue, limit = 200): string {
  const parts: string[] = [];
  let length = 0;
  const push = (text: string) => {
    parts.push(text);
    length += text.length;
  };
  const walk = (v: PyValue): void => {
    if (length > limit) return;
    switch (v.type) {
      case 'none':
        return push('None');
      case 'bool':
        return push(v.value ? 'True' : 'False');
      case 'int':
        return push(v.value.toString());
      case 'float':
        return push(Number.isNaN(v.value) ? 'nan' : v.value === Infinity ? 'inf' : v.value === -Infinity ? '-inf' : Number.isInteger(v.value) && Math.abs(v.value) < 1e16 ? `${v.value}.0` : String(v.value));
      case 'str':
        return push(`'${v.value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`);
      case 'list':
      case 'tuple': {
        push(v.type === 'list' ? '[' : '(');
        v.items.forEach((item, i) => {
          if (i > 0) push(', ');
          walk(item);
        });
        return push(v.type === 'list' ? ']' : v.items.length === 1 ? ',)' : ')');
      }
      case 'dict': {
        push('{');
        v.entries.forEach(([key, item], i) => {
          if (i > 0) push(', ');
          walk(key);
          push(': ');
          walk(item);
        });
        return push('}');
      }
      case 'other':
        return push(`<${v.typeName} object>`);
    }
  };
  walk(value);
  const text = parts.join('');
  return text.length > limit ? `${text.slice(0, limit - 3)}...` : text;
}

/**
 * Python's `json.loads` of an expected output, keeping what `JSON.parse` would lose: integers stay
 * exact (bigint) and apart from floats (`2` is an int, `2.0` a float), `NaN`/`Infinity` are accepted,
 * and a repeated key keeps its last value. Throws a SyntaxError on text Python would refuse.
 */
export function parsePythonJson(text: string): PyValue {
  let at = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at offset ${at}`);
  };
  const space = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at] as string)) at++;
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;
  // eslint-disable-next-line no-control-regex -- JSON forbids raw control characters in strings
  const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
  const value = (depth: number): PyValue => {
    if (depth > 1000) fail('nesting too deep');
    space();
    const c = text[at];
    if (c === '{') {
      at++;
      const entries = new Map<string, PyValue>();
      space();
      if (text[at] === '}') {
        at++;
        return { type: 'dict', entries: [] };
      }
      for (;;) {
        space();
        if (text[at] !== '"') fail('expected a string key');
        const key = (value(depth + 1) as { value: string }).value;
        space();
        if (text[at++] !== ':') fail('expected ":"');
        entries.set(key, value(depth + 1));
        space();
        const next = text[at++];
        if (next === '}') break;
        if (next !== ',') fail('expected "," or "}"');
      }
      return { type: 'dict', entries: [...entries].map(([k, v]) => [{ type: 'str', value: k }, v]) };
    }
    if (c === '[') {
      at++;
      const items: PyValue[] = [];
      space();
      if (text[at] === ']') {
        at++;
        return { type: 'list', items };
      }
      for (;;) {
        items.push(value(depth + 1));
        space();
        const next = text[at++];
        if (next === ']') break;
        if (next !== ',') fail('expected "," or "]"');
      }
      return { type: 'list', items };
    }
    if (c === '"') {
      STRING.lastIndex = at;
      const match = STRING.exec(text) ?? fail('bad string');
      at += match[0].length;
      return { type: 'str', value: JSON.parse(match[0]) as string };
    }
    for (const [word, result] of [
      ['null', { type: 'none' }],
      ['true', { type: 'bool', value: true }],
      ['false', { type: 'bool', value: false }],
      ['NaN', { type: 'float', value: NaN }],
      ['Infinity', { type: 'float', value: Infinity }],
      ['-Infinity', { type: 'float', value: -Infinity }],
    ] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return result;
      }
    }
    NUMBER.lastIndex = at;
    const match = NUMBER.exec(text) ?? fail('unexpected character');
    at += match[0].length;
    return match[1] === undefined && match[2] === undefined ? { type: 'int', value: BigInt(match[0]) } : { type: 'float', value: Number(match[0]) };
  };
  const result = value(0);
  space();
  if (at !== text.length) fail('extra data');
  return result;
}

/**
 * Decodes the driver's serialisation of a call result (see `functionalDriver`): JSON where `null`,
 * booleans, strings and arrays (lists) stand for themselves, a safe integer is a JSON number, and
 * `{"i": "digits"}`, `{"f": "repr"}`, `{"t": [...]}`, `{"d": [[k, v], ...]}`, `{"o": "type name"}`
 * carry big ints, floats, tuples, dicts and other types. Undefined when the text is not that shape.
 */
export function decodePythonResult(text: string): PyValue | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const FLOAT_WORDS: Partial<Record<string, number>> = { nan: NaN, inf: Infinity, '-inf': -Infinity };
  const decode = (v: unknown, depth: number): PyValue | undefined => {
    if (depth > 1000) return undefined;
    if (v === null) return { type: 'none' };
    if (typeof v === 'boolean') return { type: 'bool', value: v };
    if (typeof v === 'string') return { type: 'str', value: v };
    if (typeof v === 'number') return Number.isSafeInteger(v) ? { type: 'int', value: BigInt(v) } : undefined;
    if (Array.isArray(v)) {
      const items = v.map((item) => decode(item, depth + 1));
      return items.every((item) => item !== undefined) ? { type: 'list', items: items as PyValue[] } : undefined;
    }
    if (typeof v !== 'object') return undefined;
    const keys = Object.keys(v);
    if (keys.length !== 1) return undefined;
    const tag = keys[0] as string;
    const body = (v as Record<string, unknown>)[tag];
    if (tag === 'i' && typeof body === 'string' && /^-?\d+$/.test(body)) return { type: 'int', value: BigInt(body) };
    if (tag === 'f' && typeof body === 'string') {
      const word = FLOAT_WORDS[body];
      if (word !== undefined) return { type: 'float', value: word };
      return /^-?\d+(?:\.\d*)?(?:e[-+]?\d+)?$/.test(body) ? { type: 'float', value: Number(body) } : undefined;
    }
    if (tag === 't' && Array.isArray(body)) {
      const list = decode(body, depth + 1);
      return list?.type === 'list' ? { type: 'tuple', items: list.items } : undefined;
    }
    if (tag === 'd' && Array.isArray(body)) {
      const entries: Array<[PyValue, PyValue]> = [];
      for (const pair of body) {
        if (!Array.isArray(pair) || pair.length !== 2) return undefined;
        const key = decode(pair[0], depth + 1);
        const value = decode(pair[1], depth + 1);
        if (!key || !value) return undefined;
        entries.push([key, value]);
      }
      return { type: 'dict', entries };
    }
    if (tag === 'o' && typeof body === 'string') return { type: 'other', typeName: body };
    return undefined;
  };
  return decode(raw, 0);
}
