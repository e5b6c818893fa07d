import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { passAtK } from '../eval/metrics.js';
import { combineVerdicts, curveKs, largestDrop, largestDropDifference, pairedPassAtKDifference, passAtKCurve, shareDifference, shareOf, verdictOf } from './findings.js';

test('verdictOf: each verdict is reachable, in both claimed directions', () => {
  assert.equal(verdictOf({ low: 0.01, high: 0.2 }, 'greater'), 'holds');
  assert.equal(verdictOf({ low: -0.2, high: -0.01 }, 'greater'), 'does not hold');
  assert.equal(verdictOf({ low: -0.1, high: 0.1 }, 'greater'), 'inconclusive');
  assert.equal(verdictOf({ low: -0.2, high: -0.01 }, 'less'), 'holds');
  assert.equal(verdictOf({ low: 0.01, high: 0.2 }, 'less'), 'does not hold');
  // An interval that touches zero does not exclude it; a missing one decides nothing.
  assert.equal(verdictOf({ low: 0, high: 0.3 }, 'greater'), 'inconclusive');
  assert.equal(verdictOf({ low: Number.NaN, high: Number.NaN }, 'greater'), 'inconclusive');
});

test('combineVerdicts: all must hold; one contrary comparison decides against', () => {
  assert.equal(combineVerdicts(['holds', 'holds']), 'holds');
  assert.equal(combineVerdicts(['holds', 'inconclusive']), 'inconclusive');
  assert.equal(combineVerdicts(['holds', 'does not hold']), 'does not hold');
  assert.equal(combineVerdicts([]), 'inconclusive');
});

test('largestDrop: the largest fall between consecutive evaluations, 0 for a curve that never falls', () => {
  assert.equal(largestDrop([0.2, 0.5, 0.3, 0.6, 0.55]), 0.2);
  assert.equal(largestDrop([0.1, 0.2, 0.3]), 0);
  fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2 }), (series) => largestDrop(series) >= 0 && largestDrop(series) <= 1));
});

test('largestDropDifference: a run that dips and one that climbs give an interval above zero; swapped, below', () => {
  // 40 tasks; the steady arm solves more tasks at each evaluation, the shaky one loses most at the middle one.
  const tasks = 40;
  const evaluation = (solved: number) => Array.from({ length: tasks }, (_, i) => (i < solved ? 1 : 0));
  const steady = [evaluation(10), evaluation(15), evaluation(20)];
  const shaky = [evaluation(10), evaluation(2), evaluation(20)];
  const d = largestDropDifference(steady, shaky, { seed: 3 });
  assert.equal(d.dropA, 0);
  assert.equal(d.dropB, 0.2);
  assert.ok(Math.abs(d.estimate - 0.2) < 1e-12);
  assert.equal(verdictOf(d, 'greater'), 'holds');
  assert.equal(verdictOf(largestDropDifference(shaky, steady, { seed: 3 }), 'greater'), 'does not hold');
  assert.equal(verdictOf(largestDropDifference(steady, steady, { seed: 3 }), 'greater'), 'inconclusive');
  assert.throws(() => largestDropDifference([evaluation(1)], [[1, 0]]), RangeError);
});

test('pass@k curve: the unbiased estimator per task, k doubling up to the fewest samples', () => {
  const tasks = [
    { id: 'x', samples: 8, correct: 1 },
    { id: 'y', samples: 8, correct: 0 },
    { id: 'z', samples: 4, correct: 4 },
  ];
  assert.deepEqual(curveKs(tasks, 32), [1, 2, 4]);
  const curve = passAtKCurve(tasks, [1, 4]);
  assert.ok(Math.abs(curve[0]!.estimate - (1 / 8 + 0 + 1) / 3) < 1e-12);
  assert.ok(Math.abs(curve[1]!.estimate - (passAtK(8, 1, 4) + 0 + 1) / 3) < 1e-12);
  for (const point of curve) assert.ok(point.low <= point.estimate && point.estimate <= point.high);
});

test('pairedPassAtKDifference pairs tasks by id and reaches each verdict', () => {
  const make = (correct: (i: number) => number) => Array.from({ length: 30 }, (_, i) => ({ id: `t${i}`, samples: 8, correct: correct(i) }));
  const weak = make((i) => (i % 3 === 0 ? 1 : 0));
  const strong = make((i) => (i % 3 === 0 ? 8 : 4));
  assert.equal(verdictOf(pairedPassAtKDifference(weak, strong, 8), 'greater'), 'holds');
  assert.equal(verdictOf(pairedPassAtKDifference(strong, weak, 8), 'greater'), 'does not hold');
  assert.equal(verdictOf(pairedPassAtKDifference(weak, weak, 8), 'greater'), 'inconclusive');
  // Reversed order of b does not change the pairing.
  assert.deepEqual(pairedPassAtKDifference(weak, [...strong].reverse(), 8), pairedPassAtKDifference(weak, strong, 8));
  assert.equal(pairedPassAtKDifference(weak, strong.slice(0, 10), 8).pairs, 10);
});

test('shareDifference (Newcombe): contains the estimate, and reaches each verdict', () => {
  const d = shareDifference(shareOf(10, 100), shareOf(40, 100));
  assert.ok(d.low < 0.3 && 0.3 < d.high && d.low > 0);
  assert.equal(verdictOf(d, 'greater'), 'holds');
  assert.equal(verdictOf(shareDifference(shareOf(40, 100), shareOf(10, 100)), 'greater'), 'does not hold');
  assert.equal(verdictOf(shareDifference(shareOf(3, 10), shareOf(4, 10)), 'greater'), 'inconclusive');
  assert.equal(verdictOf(shareDifference(shareOf(0, 0), shareOf(4, 10)), 'greater'), 'inconclusive');
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 200 }), fc.nat(), fc.nat(), (n1, n2, a, b) => {
      const x = shareOf(a % (n1 + 1), n1);
      const y = shareOf(b % (n2 + 1), n2);
      const diff = shareDifference(x, y);
      return diff.low <= diff.estimate + 1e-12 && diff.estimate <= diff.high + 1e-12 && diff.low >= -1 - 1e-12 && diff.high <= 1 + 1e-12;
    }),
  );
});
