import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinLossFunction, tinkerLoss } from './builtin-losses.js';

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-5, `${what}: ${actual} vs ${expected}`);

test('cross_entropy is −Σ w·log p with gradient −w', () => {
  const loss = tinkerLoss('cross_entropy', [{ weights: Float32Array.from([0, 1, 2]) }]);
  const result = loss([Float32Array.from([-1, -2, -0.5])]);
  close(result.loss, -(1 * -2 + 2 * -0.5), 'loss');
  assert.deepEqual(Array.from(result.gradients[0] ?? []), [-0, -1, -2]);
});

test('importance_sampling is −Σ r·A with r = exp(log p − log q)', () => {
  const loss = tinkerLoss('importance_sampling', [{ advantages: Float32Array.from([2, 0]), logprobs: Float32Array.from([Math.log(0.5), -1]) }]);
  const result = loss([Float32Array.from([Math.log(0.25), -3])]);
  close(result.loss, -0.5 * 2, 'loss');
  close(result.gradients[0]?.[0] ?? NaN, -1, 'gradient');
  assert.equal(result.gradients[0]?.[1], -0);
});

test('ppo clips the ratio to [lo, hi] and zeroes the gradient where the clipped term is the minimum', () => {
  const lq = Math.log(0.4);
  const inputs = [{ advantages: Float32Array.from([1, -1, -1, 1]), logprobs: Float32Array.from([lq, lq, lq, lq]) }];
  const loss = tinkerLoss('ppo', inputs, { clip_low_threshold: 0.8, clip_high_threshold: 1.28 });
  // ratios 1.5, 0.5, 1.5, 1.0
  const ratio = (r: number) => Math.log(0.4 * r);
  const result = loss([Float32Array.from([ratio(1.5), ratio(0.5), ratio(1.5), ratio(1)])]);
  // A=1, r=1.5: min(1.5, 1.28) = 1.28 clipped → −1.28, grad 0
  // A=−1, r=0.5: min(−0.5, −0.8) = −0.8 clipped → 0.8, grad 0
  // A=−1, r=1.5: min(−1.5, −1.28) = −1.5 unclipped → 1.5, grad −r·A = 1.5
  // A=1, r=1: 1 → −1, grad −1
  close(result.loss, -1.28 + 0.8 + 1.5 - 1, 'loss');
  const gradients = Array.from(result.gradients[0] ?? []);
  close(gradients[0] ?? NaN, 0, 'g0');
  close(gradients[1] ?? NaN, 0, 'g1');
  close(gradients[2] ?? NaN, 1.5, 'g2');
  close(gradients[3] ?? NaN, -1, 'g3');
  close(result.metrics['clip_fraction'] ?? NaN, 0.5, 'clip fraction');
});

test('losses refuse missing inputs and unknown config keys by name', () => {
  assert.throws(() => tinkerLoss('ppo', [{ advantages: new Float32Array(2), logprobs: new Float32Array(2) }], { clip_ratio_c: 3 }), /no config key "clip_ratio_c"/);
  const loss = tinkerLoss('importance_sampling', [{ advantages: new Float32Array(2) }]);
  assert.throws(() => loss([new Float32Array(2)]), (error: Error & { input?: string }) => error.input === 'data[0].loss_fn_inputs.logprobs');
});

test('a core BuiltinLoss runs as the same Tinker loss, with masks as zero weights or advantages', () => {
  const logprobs = [Float32Array.from([-1, -2, -0.5])];
  const viaBuiltin = builtinLossFunction({ kind: 'ppo', advantages: [Float32Array.from([1, 0, -1])], samplingLogprobs: [Float32Array.from([-1.2, -2, -0.4])], clipLow: 0.8, clipHigh: 1.28 })(logprobs);
  const viaName = tinkerLoss('ppo', [{ advantages: Float32Array.from([1, 0, -1]), logprobs: Float32Array.from([-1.2, -2, -0.4]) }], { clip_low_threshold: 0.8, clip_high_threshold: 1.28 })(logprobs);
  assert.deepEqual(viaBuiltin, viaName);
  assert.equal(viaBuiltin.metrics['tokens'], 2, 'tokens with a non-zero advantage');
  const ce = builtinLossFunction({ kind: 'cross_entropy', weights: [Float32Array.from([0, 1, 2])] })(logprobs);
  close(ce.loss, 2 + 1, 'cross-entropy loss');
  assert.throws(() => builtinLossFunction({ kind: 'cross_entropy', weights: [] })(logprobs), /1 sequences for 0 inputs/);
});
