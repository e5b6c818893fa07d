import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isEquivalent } from './equivalence.js';
import { answerCases } from './testing/labelled.js';

const cases = answerCases();
const sections = [...new Set(cases.map((c) => c.section))];

test('the labelled suite has at least 400 cases, with negatives in every benchmark style', () => {
  assert.ok(cases.length >= 400, `only ${cases.length} cases`);
  assert.ok(cases.filter((c) => !c.expected).length >= 150);
  for (const name of ['aime', 'amc', 'math500', 'minerva', 'olympiadbench', 'olymmath', 'gpqa', 'tricky negatives']) {
    assert.ok(sections.some((s) => s.startsWith(name)), `no section for ${name}`);
  }
});

for (const section of sections) {
  test(`labelled: ${section}`, () => {
    const wrong = cases
      .filter((c) => c.section === section)
      .map((c) => ({ c, verdict: isEquivalent(c.gold, c.predicted) }))
      .filter(({ c, verdict }) => verdict.correct !== c.expected)
      .map(({ c, verdict }) => `${c.expected ? 'missed' : 'false positive'}: ${c.gold} ≡ ${c.predicted} (${verdict.reason}${verdict.detail ? `: ${verdict.detail}` : ''})`);
    assert.deepEqual(wrong, []);
  });
}

test('verdicts name the step that decided', () => {
  assert.equal(isEquivalent('\\frac12', '\\frac{1}{2}').reason, 'string');
  assert.equal(isEquivalent('025', '25').reason, 'numeric');
  assert.equal(isEquivalent('(x+1)^2', 'x^2+2x+1').reason, 'symbolic');
  assert.equal(isEquivalent('(1,2]', '[1,2]').reason, 'structural');
  assert.equal(isEquivalent('B', '(B)').reason, 'choice');
  assert.deepEqual(isEquivalent('5', '   '), { correct: false, reason: 'no-answer', detail: 'empty prediction' });
  const broken = isEquivalent('5', '\\frac{1}{');
  assert.equal(broken.correct, false);
  assert.equal(broken.reason, 'parse-error');
  assert.match(broken.detail ?? '', /predicted/);
});

test('a spent time budget gives a timeout verdict, not an exception', () => {
  const verdict = isEquivalent('x^2+2x+1', '(x+1)^2', { timeBudgetMs: -1 });
  assert.deepEqual({ correct: verdict.correct, reason: verdict.reason }, { correct: false, reason: 'timeout' });
});

test('the numeric tolerance is an option (OlympiadBench error tolerance)', () => {
  assert.equal(isEquivalent('27.39', '27.4').correct, false);
  assert.equal(isEquivalent('27.39', '27.4', { relativeTolerance: 0.01 }).correct, true);
  assert.equal(isEquivalent('\\frac{1}{3}', '0.333', { relativeTolerance: 1e-2 }).correct, true);
  // Exact answers stay exact whatever the tolerance.
  assert.equal(isEquivalent('100', '101', { relativeTolerance: 0.1 }).correct, false);
});

test('percent can be read as a fraction or not', () => {
  assert.equal(isEquivalent('50\\%', '0.5').correct, true);
  assert.equal(isEquivalent('50\\%', '0.5', { percentAsFraction: false }).correct, false);
  assert.equal(isEquivalent('50\\%', '50').correct, true);
});

test('Math-Verify false positives reported upstream are negatives here', () => {
  assert.equal(isEquivalent('\\pm 2021', '2021').correct, false);
  assert.equal(isEquivalent('\\frac{1}{2004!}', '\\frac{1}{2006!}').correct, false);
  assert.equal(isEquivalent('x = 2', 'x = 3').correct, false);
  assert.equal(isEquivalent('a + b = 5', 'a + b = 6').correct, false);
});

const integer = fc.integer({ min: -1_000_000, max: 1_000_000 });

test('property: an integer equals itself in other spellings and differs from its neighbours', () => {
  fc.assert(
    fc.property(integer, (n) => {
      assert.equal(isEquivalent(String(n), `${n}.0`).correct, true);
      assert.equal(isEquivalent(String(n), `\\boxed{${n}}`).correct, true);
      assert.equal(isEquivalent(String(n), `x = ${n}`).correct, true);
      assert.equal(isEquivalent(String(n), String(n + 1)).correct, false);
      if (n !== 0) assert.equal(isEquivalent(String(n), String(-n)).correct, false);
      if (n > 0) assert.equal(isEquivalent(String(n), n.toLocaleString('en-US')).correct, true);
    }),
    { numRuns: 150 },
  );
});

test('property: a fraction equals its reduced form and its quotient, not its reciprocal', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 999 }), fc.integer({ min: 1, max: 999 }), fc.integer({ min: 2, max: 9 }), (a, b, k) => {
      assert.equal(isEquivalent(`\\frac{${a}}{${b}}`, `\\dfrac{${a * k}}{${b * k}}`).correct, true);
      assert.equal(isEquivalent(`\\frac{${a}}{${b}}`, `${a}/${b}`).correct, true);
      if (a !== b) assert.equal(isEquivalent(`\\frac{${a}}{${b}}`, `\\frac{${b}}{${a}}`).correct, false);
    }),
    { numRuns: 150 },
  );
});

test('property: sets ignore order, tuples do not', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: -50, max: 50 }), { minLength: 2, maxLength: 6 }), (items) => {
      const reversed = [...items].reverse();
      assert.equal(isEquivalent(`\\{${items.join(',')}\\}`, `\\{${reversed.join(', ')}\\}`).correct, true);
      assert.equal(isEquivalent(items.join(', '), reversed.join(',')).correct, true);
      assert.equal(isEquivalent(`(${items.join(',')})`, `(${reversed.join(',')})`).correct, false);
      assert.equal(isEquivalent(`(${items.join(',')})`, `(${items.slice(1).join(',')})`).correct, false);
    }),
    { numRuns: 100 },
  );
});

test('property: polynomial identities hold and perturbed ones do not', () => {
  fc.assert(
    fc.property(fc.integer({ min: -9, max: 9 }), fc.integer({ min: -9, max: 9 }), fc.integer({ min: 1, max: 9 }), (a, b, d) => {
      const expanded = `x^2 + ${a + b}x + ${a * b}`;
      assert.equal(isEquivalent(`(x + ${a})(x + ${b})`, expanded).correct, true);
      assert.equal(isEquivalent(`(x + ${a})(x + ${b})`, `x^2 + ${a + b}x + ${a * b + d}`).correct, false);
    }),
    { numRuns: 100 },
  );
});

test('property: never throws and always returns a known reason, on random text', () => {
  const reasons = new Set(['numeric', 'symbolic', 'structural', 'string', 'choice', 'no-answer', 'parse-error', 'timeout', 'undecided']);
  const latexish = fc.array(fc.constantFrom('\\frac', '{', '}', '(', ')', '[', ']', '\\sqrt', '^', '_', '1', '2', 'x', '-', '+', ',', '\\{', '\\}', '\\pm', '=', '<', '|', '\\left', '\\right', ' ', '\\text{', '\\begin{pmatrix}', '&', '\\\\', '\\end{pmatrix}', '!', '.', 'e', 'i', '\\pi', '\\infty', '%', '$', '\\circ'), { maxLength: 40 }).map((parts) => parts.join(''));
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 60 }), latexish), fc.oneof(fc.string({ maxLength: 60 }), latexish), (gold, predicted) => {
      const verdict = isEquivalent(gold, predicted);
      assert.equal(typeof verdict.correct, 'boolean');
      assert.ok(reasons.has(verdict.reason), verdict.reason);
    }),
    { numRuns: 400 },
  );
});

test('huge inputs are bounded: deep nesting and long answers', () => {
  const deep = `${'('.repeat(5000)}1${')'.repeat(5000)}`;
  assert.equal(typeof isEquivalent('1', deep).correct, 'boolean');
  const long = Array.from({ length: 3000 }, (_, k) => String(k)).join('+');
  assert.equal(typeof isEquivalent(long, long.replace(/\+/g, ' + ')).correct, 'boolean');
  assert.equal(isEquivalent('2^{10^{9}}', '2^{10^{9}}').correct, true);
  assert.equal(typeof isEquivalent('2^{10^{9}}', '2^{10^{9}}+1').correct, 'boolean');
});

test('work is capped deterministically: a huge unordered comparison ends as a timeout verdict', () => {
  const items = Array.from({ length: 400 }, (_, k) => k);
  const gold = `\\{${items.join(',')}\\}`;
  // Identical spellings pair up without pairwise work...
  assert.deepEqual(isEquivalent(gold, `\\{${[...items].reverse().join(',')}\\}`), { correct: true, reason: 'structural' });
  // ...different spellings of the same values need it, and hit the step cap.
  // A wall-clock budget far above the work, so the deterministic step cap is what ends it even on a loaded machine.
  const slow = isEquivalent(gold, `\\{${[...items].reverse().map((k) => `${k}.0`).join(',')}\\}`, { timeBudgetMs: 60_000 });
  assert.deepEqual({ correct: slow.correct, reason: slow.reason }, { correct: false, reason: 'timeout' });
  assert.match(slow.detail ?? '', /steps/);
});
