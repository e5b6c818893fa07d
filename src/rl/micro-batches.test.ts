import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { balancedMicroBatches, logprobMismatch, scaleTokenLoss } from './micro-batches.js';
import { switchingBudgetSchedule, budgetAt } from './budget.js';

test('micro-batches: ⌈tokens / limit⌉ parts (at most one per row) covering every row once, balanced by length', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 40 }), fc.integer({ min: 100, max: 400 }), (lengths, limit) => {
      const parts = balancedMicroBatches(lengths, limit);
      const total = lengths.reduce((a, b) => a + b, 0);
      assert.equal(parts.length, Math.min(lengths.length, Math.ceil(total / limit)));
      assert.deepEqual(parts.flat().sort((a, b) => a - b), lengths.map((_, i) => i));
      const loads = parts.map((rows) => rows.reduce((sum, row) => sum + lengths[row]!, 0));
      // Longest-first into the lightest part: no part exceeds the mean by more than one row.
      assert.ok(Math.max(...loads) <= total / parts.length + Math.max(...lengths));
    }),
  );
  assert.deepEqual(balancedMicroBatches([10, 10, 10, 10], 20), [[0, 2], [1, 3]]);
  assert.throws(() => balancedMicroBatches([50], 40), /does not fit/);
});

test('a micro-batch loss is scaled by its share of sequences, gradients too', () => {
  const loss = () => ({ loss: 2, gradients: [Float32Array.from([1, -2])], metrics: { m: 5 } });
  const scaled = scaleTokenLoss(loss, 0.25)([]);
  assert.equal(scaled.loss, 0.5);
  assert.deepEqual(Array.from(scaled.gradients[0]!), [0.25, -0.5]);
  assert.deepEqual(scaled.metrics, { m: 5 });
});

test('sampler/trainer mismatch: mean and max |Δ| and the importance-ratio spread over trained tokens only', () => {
  const sampler = [Float32Array.from([-1, -2, Number.NaN]), Float32Array.from([-0.5, -3])];
  const trainer = [Float32Array.from([-1.5, -2, -9]), Float32Array.from([-0.5, -1])];
  const mask = [Float32Array.from([1, 1, 1]), Float32Array.from([1, 0])];
  const m = logprobMismatch(sampler, trainer, mask);
  assert.equal(m['mismatch/tokens'], 3);
  assert.ok(Math.abs(m['mismatch/meanAbsLogprobDelta']! - 0.5 / 3) < 1e-9);
  assert.equal(m['mismatch/maxAbsLogprobDelta'], 0.5);
  assert.ok(Math.abs(m['mismatch/ratioMin']! - Math.exp(-0.5)) < 1e-9);
  assert.equal(m['mismatch/ratioMax'], 1);
});

test('budgets switch at absolute steps; bad switch lists are refused', () => {
  const schedule = switchingBudgetSchedule([2, 3, 4], [100, 200]);
  assert.deepEqual([99, 100, 199, 200].map((step) => budgetAt(step, schedule)), [2, 3, 3, 4]);
  assert.throws(() => switchingBudgetSchedule([2, 3], [100, 200]), /need 1 switch steps/);
  assert.throws(() => switchingBudgetSchedule([2, 3, 4], [200, 100]), /increasing/);
});
