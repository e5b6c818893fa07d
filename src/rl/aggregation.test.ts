import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../core/errors.js';
import { aggregateLoss, aggregationWeights, LOSS_AGGREGATION_MODES } from './aggregation.js';

// The 2x3 case: row 0 has three loss tokens, row 1 only its first.
const losses = [
  [1, 2, 3],
  [4, 5, 6],
];
const mask = [
  [1, 1, 1],
  [1, 0, 0],
];

test('token-mean and seq-mean-token-mean differ on a 2x3 batch with unequal lengths', () => {
  // token-mean: (1+2+3+4)/4 = 2.5; seq-mean-token-mean: ((1+2+3)/3 + 4/1)/2 = (2+4)/2 = 3.
  assert.equal(aggregateLoss(losses, mask, 'token-mean'), 2.5);
  assert.equal(aggregateLoss(losses, mask, 'seq-mean-token-mean'), 3);
});

test('the sum modes on the same batch', () => {
  // token-sum: 1+2+3+4 = 10; seq-mean-token-sum: (6+4)/2 = 5; sum-norm: (6+4)/(2 sequences * 3) = 10/6.
  assert.equal(aggregateLoss(losses, mask, 'token-sum'), 10);
  assert.equal(aggregateLoss(losses, mask, 'seq-mean-token-sum'), 5);
  assert.ok(Math.abs(aggregateLoss(losses, mask, 'seq-mean-token-sum-norm') - 10 / 6) < 1e-12);
  // An explicit norm length of 4: 10/(2*4) = 1.25.
  assert.equal(aggregateLoss(losses, mask, 'seq-mean-token-sum-norm', { normLength: 4 }), 1.25);
});

test('a row with an empty mask does not count as a sequence and NaN under the mask-0 is ignored', () => {
  const withEmpty = [...losses, [Number.NaN, Number.NaN]];
  const maskWithEmpty = [...mask, [0, 0]];
  assert.equal(aggregateLoss(withEmpty, maskWithEmpty, 'seq-mean-token-mean'), 3);
  assert.equal(aggregateLoss(withEmpty, maskWithEmpty, 'token-mean'), 2.5);
  assert.equal(aggregateLoss([[7]], [[0]], 'token-mean'), 0);
});

test('weights are the gradient: the weighted sum reproduces the aggregate in every mode', () => {
  for (const mode of LOSS_AGGREGATION_MODES) {
    const weights = aggregationWeights(mask, mode);
    let sum = 0;
    for (let b = 0; b < 2; b++) for (let t = 0; t < 3; t++) sum += weights[b]![t]! * losses[b]![t]!;
    assert.ok(Math.abs(sum - aggregateLoss(losses, mask, mode)) < 1e-12, mode);
    assert.equal(weights[1]![1], 0, `${mode}: masked entries weigh nothing`);
  }
});

test('bad inputs name what is wrong', () => {
  assert.throws(() => aggregateLoss([[1, 2]], [[1]], 'token-mean'), (error: unknown) => error instanceof InputError && /lossMatrix\[0\]/.test(error.message));
  assert.throws(() => aggregateLoss([[1]], [[0.5]], 'token-mean'), /mask\[0\]\[0\] must be 0 or 1/);
  // @ts-expect-error an unknown mode is a type error and a runtime error
  assert.throws(() => aggregateLoss([[1]], [[1]], 'mean'), /supported: token-mean, token-sum/);
});
