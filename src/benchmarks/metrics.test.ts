import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { groupedPassAtK, lcbSummary, passAtK } from './metrics.js';

/** The definition, with exact binomials. */
function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

test('passAtK matches 1 - C(n-c,k)/C(n,k) and hand-computed values', () => {
  assert.ok(Math.abs(passAtK(10, 3, 1) - 0.3) < 1e-12);
  assert.ok(Math.abs(passAtK(5, 2, 2) - (1 - 3 / 10)) < 1e-12);
  assert.equal(passAtK(4, 0, 2), 0);
  assert.equal(passAtK(4, 3, 2), 1);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 30 }), (n, c0, k0) => {
      const c = c0 % (n + 1);
      const k = ((k0 - 1) % n) + 1;
      const expected = 1 - binomial(n - c, k) / binomial(n, k);
      assert.ok(Math.abs(passAtK(n, c, k) - (n - c < k ? 1 : expected)) < 1e-9);
    }),
  );
  assert.throws(() => passAtK(3, 4, 1), /0 <= c <= n/);
});

test('grouped pass@k: overall and per group, k beyond the sample count left out', () => {
  const items = [
    { id: 'a', groups: { difficulty: 'easy', month: '2024-08', tests: 'public_only' } },
    { id: 'b', groups: { difficulty: 'hard', month: '2024-08', tests: 'public_only' } },
    { id: 'c', groups: { difficulty: 'easy', month: '2024-09', tests: 'complete' } },
    { id: 'unsampled', groups: { difficulty: 'easy', month: '2024-09', tests: 'complete' } },
  ];
  const samples = [
    { itemId: 'a', correct: true },
    { itemId: 'a', correct: false },
    { itemId: 'b', correct: false },
    { itemId: 'b', correct: false },
    { itemId: 'c', correct: true },
    { itemId: 'c', correct: true },
  ];
  const result = groupedPassAtK(items, samples, [1, 2, 3]);
  assert.equal(result.overall.problems, 3);
  assert.ok(Math.abs((result.overall.passAt['pass@1'] ?? NaN) - (0.5 + 0 + 1) / 3) < 1e-12);
  assert.ok(Math.abs((result.overall.passAt['pass@2'] ?? NaN) - (1 + 0 + 1) / 3) < 1e-12);
  assert.equal(result.overall.passAt['pass@3'], undefined);
  assert.equal(result.byGroup['difficulty']?.['easy']?.passAt['pass@1'], 0.75);
  assert.equal(result.byGroup['difficulty']?.['hard']?.passAt['pass@1'], 0);
  assert.equal(result.byGroup['month']?.['2024-09']?.problems, 1);
  const lcb = lcbSummary(items, samples, [1]);
  assert.equal(lcb.comparableWithPublishedLcb, false);
  assert.match(lcb.note ?? '', /public tests only.*\(2 of 3 problems\)/);
  assert.deepEqual(Object.keys(lcb.byGroup), ['difficulty', 'month']);
  const complete = lcbSummary(items, samples.filter((s) => s.itemId === 'c'), [1]);
  assert.equal(complete.comparableWithPublishedLcb, true);
  assert.equal(complete.note, undefined);
});
