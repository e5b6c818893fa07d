import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InputError } from '../core/errors.js';
import {
  advantageEstimatorNames,
  computeAdvantages,
  getAdvantageEstimator,
  maskedWhiten,
  registerAdvantageEstimator,
  type AdvantageInput,
} from './advantages.js';

function near(actual: ArrayLike<number>, expected: readonly number[], tolerance = 1e-5): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tolerance, `index ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

/** One token per sequence: advantages are then the per-sequence scores. */
function oneToken(rewards_B: number[], groupIds_B: (string | number)[]): AdvantageInput {
  return { rewards_B, groupIds_B, responseMask_B_T: rewards_B.map(() => [1]) };
}
const flat = (rows: Float32Array[]) => rows.map((row) => row[0]!);

test('grpo: group [1,0,0,1], singleton [1], all-equal [1,1]', () => {
  // Group a: mean 0.5, deviations ±0.5, unbiased var = 4*0.25/3 = 1/3, std = 0.57735;
  //   A = ±0.5/(0.57735 + 1e-6) = ±0.866024. Singleton: no baseline, A = r = 1. All-equal: 0/(0+1e-6) = 0.
  const input = oneToken([1, 0, 0, 1, 1, 1, 1], ['a', 'a', 'a', 'a', 's', 'e', 'e']);
  near(flat(computeAdvantages('grpo', input)), [0.866024, -0.866024, -0.866024, 0.866024, 1, 0, 0]);
});

test('rloo: baseline is the mean of the other members', () => {
  // Group [1,0,0]: A0 = 1 − (0+0)/2 = 1; A1 = 0 − (1+0)/2 = −0.5; A2 = −0.5. Singleton [−1]: A = −1. Equal [1,1]: 0.
  const input = oneToken([1, 0, 0, -1, 1, 1], [0, 0, 0, 1, 2, 2]);
  near(flat(computeAdvantages('rloo', input)), [1, -0.5, -0.5, -1, 0, 0]);
});

test('dr_grpo: mean baseline, no std division', () => {
  // Group [1,0,0]: mean 1/3 → 2/3, −1/3, −1/3. Singleton [1] → 1. Equal [−1,−1] → 0.
  const input = oneToken([1, 0, 0, 1, -1, -1], ['g', 'g', 'g', 's', 'e', 'e']);
  near(flat(computeAdvantages('dr_grpo', input)), [2 / 3, -1 / 3, -1 / 3, 1, 0, 0]);
});

test('reinforce: the reward itself', () => {
  near(flat(computeAdvantages('reinforce', oneToken([1, -1, 1], [0, 0, 1]))), [1, -1, 1]);
});

test('reinforce_plus_plus_baseline: group baseline, then token-weighted whitening with padding ignored', () => {
  // Group a: rewards [1, −1], mean 0 → scores 1, −1. Group s (singleton): score = reward = 1.
  // Row 0 has 2 response tokens, row 1 has one (plus a mask-0 position), row 2 one.
  // Tokens: 1, 1, −1, 1 → μ = 2/4 = 0.5; squared deviations .25+.25+2.25+.25 = 3; unbiased var = 3/3 = 1.
  // Whitened: (x − 0.5)/sqrt(1 + 1e-8) = 0.5, 0.5, −1.5, 0.5; the mask-0 position stays 0.
  const advantages = computeAdvantages('reinforce_plus_plus_baseline', {
    rewards_B: [1, -1, 1],
    groupIds_B: ['a', 'a', 's'],
    responseMask_B_T: [[1, 1], [1, 0], [1]],
  });
  near(advantages[0]!, [0.5, 0.5]);
  near(advantages[1]!, [-1.5, 0]);
  near(advantages[2]!, [0.5]);
});

test('reinforce_plus_plus_baseline: an all-equal group scores 0 before whitening', () => {
  // Group a [1,1] → 0, 0; group b [−1, 0]: mean −0.5 → −0.5, 0.5. Tokens 0, 0, −0.5, 0.5: μ = 0,
  // squares sum 0.5, unbiased var = 0.5/3 = 1/6, σ = 0.408248 → 0, 0, −1.224745, 1.224745.
  const input = oneToken([1, 1, -1, 0], ['a', 'a', 'b', 'b']);
  near(flat(computeAdvantages('reinforce_plus_plus_baseline', input)), [0, 0, -1.224745, 1.224745]);
  // A batch where every reward is equal has nothing to whiten: all zero, not NaN.
  near(flat(computeAdvantages('reinforce_plus_plus_baseline', oneToken([1, 1], ['a', 'a']))), [0, 0]);
  // A single one-token sequence: no spread, zero.
  near(flat(computeAdvantages('reinforce_plus_plus_baseline', oneToken([1], ['a']))), [0]);
});

test('whitening counts tool tokens: the response mask, not the loss mask, sets the statistics', () => {
  // Same rewards, but row 0 has 3 response tokens instead of 1: longer responses weigh more in μ.
  // Tokens 1,1,1,−1 → μ = 0.5 (not 0), var = 3/3 = 1 → 0.5, 0.5, 0.5, −1.5.
  const advantages = maskedWhiten([[1, 1, 1], [-1]], [[1, 1, 1], [1]]);
  near(advantages[0]!, [0.5, 0.5, 0.5]);
  near(advantages[1]!, [-1.5]);
});

test('registry: every named estimator is registered; unknown names list the supported ones', () => {
  assert.deepEqual(advantageEstimatorNames().slice(0, 5), ['reinforce_plus_plus_baseline', 'grpo', 'rloo', 'dr_grpo', 'reinforce']);
  for (const name of advantageEstimatorNames()) assert.equal(typeof getAdvantageEstimator(name), 'function');
  assert.throws(
    () => getAdvantageEstimator('gae'),
    (error: unknown) => error instanceof InputError && /supported: reinforce_plus_plus_baseline, grpo, rloo, dr_grpo, reinforce/.test(error.message),
  );
  assert.throws(() => registerAdvantageEstimator('grpo', () => []), /already registered/);
  // Re-registering the same function is harmless (module reloads).
  registerAdvantageEstimator('grpo', getAdvantageEstimator('grpo'));
});

test('bad inputs name the field', () => {
  assert.throws(() => computeAdvantages('grpo', { rewards_B: [1], groupIds_B: [], responseMask_B_T: [[1]] }), /groupIds_B has 0 entries/);
  assert.throws(() => computeAdvantages('grpo', oneToken([Number.NaN], [0])), /rewards_B\[0\] must be a finite number/);
  assert.throws(() => computeAdvantages('grpo', { rewards_B: [1], groupIds_B: [0], responseMask_B_T: [[2]] }), /must be 0 or 1/);
});

const groupedBatch = fc
  .array(fc.record({ group: fc.integer({ min: 0, max: 3 }), reward: fc.integer({ min: -1, max: 1 }), length: fc.integer({ min: 1, max: 4 }) }), {
    minLength: 1,
    maxLength: 12,
  })
  .map((rows) => ({
    rewards_B: rows.map((row) => row.reward),
    groupIds_B: rows.map((row) => row.group),
    responseMask_B_T: rows.map((row) => new Array<number>(row.length).fill(1)),
  }));

test('property: rloo matches a direct leave-one-out loop; dr_grpo sums to zero in groups of two or more', () => {
  fc.assert(
    fc.property(groupedBatch, (input) => {
      const rlooScores = computeAdvantages('rloo', input).map((row) => row[0]!);
      const drScores = computeAdvantages('dr_grpo', input).map((row) => row[0]!);
      input.rewards_B.forEach((reward, b) => {
        const others = input.rewards_B.filter((_, j) => j !== b && input.groupIds_B[j] === input.groupIds_B[b]);
        const expected = others.length === 0 ? reward : reward - others.reduce((s, v) => s + v, 0) / others.length;
        assert.ok(Math.abs(rlooScores[b]! - expected) < 1e-6);
      });
      for (const group of new Set(input.groupIds_B)) {
        const members = input.groupIds_B.flatMap((id, b) => (id === group ? [b] : []));
        if (members.length < 2) continue;
        assert.ok(Math.abs(members.reduce((sum, b) => sum + drScores[b]!, 0)) < 1e-5);
      }
    }),
    { numRuns: 200 },
  );
});

test('property: reinforce_plus_plus_baseline has token-weighted mean 0 and is unchanged by a reward shift', () => {
  fc.assert(
    fc.property(groupedBatch, fc.integer({ min: -5, max: 5 }), (input, shift) => {
      const advantages = computeAdvantages('reinforce_plus_plus_baseline', input);
      const tokens = advantages.flatMap((row) => [...row]);
      assert.ok(Math.abs(tokens.reduce((s, v) => s + v, 0)) < 1e-4);
      // Shifting all rewards moves only singleton-group scores; without singletons the result is identical.
      const hasSingleton = input.groupIds_B.some((id) => input.groupIds_B.filter((other) => other === id).length === 1);
      if (!hasSingleton) {
        const shifted = computeAdvantages('reinforce_plus_plus_baseline', { ...input, rewards_B: input.rewards_B.map((r) => r + shift) });
        shifted.forEach((row, b) => near(row, [...advantages[b]!], 1e-4));
      }
    }),
    { numRuns: 200 },
  );
});
