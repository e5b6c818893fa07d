import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../core/errors.js';
import { aggregationWeights, type LossAggregationMode } from './aggregation.js';
import { computeRlLoss, PAPER_LOSS_CONFIG } from './token-loss.js';

// The 2x3 case: row 0 has three loss tokens, row 1 only its first.
const values = [
  [1, 2, 3],
  [4, 5, 6],
];
const mask = [
  [1, 1, 1],
  [1, 0, 0],
];

/**
 * Aggregates `values` through the trainer's own entry point: with the `vanilla` loss (−A·logp)
 * and A = −1 the per-token loss is the log-prob itself, so the loss is the aggregate of `values`
 * and the gradient is d(aggregate)/d(value).
 */
function aggregate(mode: LossAggregationMode, rows = values, lossMask = mask, normLength?: number) {
  return computeRlLoss(
    rows,
    { advantages_B_T: rows.map((row) => row.map(() => -1)), samplingLogprobs_B_T: rows.map((row) => row.map(() => -1)), lossMask_B_T: lossMask },
    { ...PAPER_LOSS_CONFIG, policyLoss: 'vanilla', aggregation: mode, ...(normLength === undefined ? {} : { normLength }) },
  );
}

const near = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-6, `${actual} vs ${expected}`);

test('token-mean and seq-mean-token-mean differ on a 2x3 batch with unequal lengths', () => {
  // token-mean: (1+2+3+4)/4 = 2.5; seq-mean-token-mean: ((1+2+3)/3 + 4/1)/2 = (2+4)/2 = 3.
  near(aggregate('token-mean').loss, 2.5);
  near(aggregate('seq-mean-token-mean').loss, 3);
});

test('the sum modes on the same batch', () => {
  // token-sum: 1+2+3+4 = 10; seq-mean-token-sum: (6+4)/2 = 5; sum-norm: (6+4)/(2 sequences * 3) = 10/6.
  near(aggregate('token-sum').loss, 10);
  near(aggregate('seq-mean-token-sum').loss, 5);
  near(aggregate('seq-mean-token-sum-norm').loss, 10 / 6);
  // An explicit norm length of 4: 10/(2*4) = 1.25.
  near(aggregate('seq-mean-token-sum-norm', values, mask, 4).loss, 1.25);
});

test('a row with an empty mask does not count as a sequence and NaN under the mask-0 is ignored', () => {
  const withEmpty = [...values, [Number.NaN, Number.NaN]];
  const maskWithEmpty = [...mask, [0, 0]];
  near(aggregate('seq-mean-token-mean', withEmpty, maskWithEmpty).loss, 3);
  near(aggregate('token-mean', withEmpty, maskWithEmpty).loss, 2.5);
  assert.equal(aggregate('token-mean', [[7]], [[0]]).loss, 0);
});

test('the gradient of the aggregate w.r.t. each token, hand-computed per mode', () => {
  // d(aggregate)/d(value_bt): what each token's derivative is scaled by in the trainer's gradient.
  const expected: Record<LossAggregationMode, number[][]> = {
    'token-mean': [[1 / 4, 1 / 4, 1 / 4], [1 / 4, 0, 0]],
    'token-sum': [[1, 1, 1], [1, 0, 0]],
    'seq-mean-token-sum': [[1 / 2, 1 / 2, 1 / 2], [1 / 2, 0, 0]],
    'seq-mean-token-mean': [[1 / 6, 1 / 6, 1 / 6], [1 / 2, 0, 0]],
    'seq-mean-token-sum-norm': [[1 / 6, 1 / 6, 1 / 6], [1 / 6, 0, 0]],
  };
  for (const [mode, gradient] of Object.entries(expected) as [LossAggregationMode, number[][]][]) {
    const result = aggregate(mode);
    gradient.forEach((row, b) => row.forEach((value, t) => near(result.gradients[b]![t]!, value)));
  }
});

test('bad inputs name what is wrong', () => {
  assert.throws(() => aggregate('token-mean', [[1, 2]], [[1]]), (error: unknown) => error instanceof InputError && /lossMask_B_T\[0\]/.test(error.message));
  assert.throws(() => aggregationWeights([[0.5]], 'token-mean'), /mask\[0\]\[0\] must be 0 or 1/);
  // @ts-expect-error an unknown mode is a type error and a runtime error
  assert.throws(() => aggregationWeights([[1]], 'mean'), /supported: token-mean, token-sum/);
});
