import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../core/errors.js';
import {
  CLIP_REGION,
  entropyTerm,
  getPolicyLoss,
  klPenalty,
  ppoClipLoss,
  type ClipConfig,
  type PolicyLossInput,
} from './policy-losses.js';
import { computeRlLoss, PAPER_LOSS_CONFIG } from './token-loss.js';

/** A policy loss, token-mean aggregated, through the trainer's one entry point (no KL, no entropy). */
function tokenMeanPolicyLoss(policyLoss: string, input: PolicyLossInput, clip: ClipConfig) {
  const batch = { advantages_B_T: input.advantages_B_T, samplingLogprobs_B_T: input.oldLogprobs_B_T, lossMask_B_T: input.lossMask_B_T };
  return computeRlLoss(input.logprobs_B_T, batch, { ...PAPER_LOSS_CONFIG, ...clip, policyLoss });
}

const near = (actual: number, expected: number, tolerance = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} vs ${expected}`);

const paperClip: ClipConfig = { clipLow: 0.2, clipHigh: 0.28, dualClip: 3 };

// One row, seven tokens, one per branch of the clipped objective. old = −1, logp = −1 + ln r.
const advantages = [1, 1, 1, -1, -1, -1, 0];
const ratios = [1.1, 1.5, 0.5, 0.5, 2, 4, 2];
const old = ratios.map(() => -1);
const input: PolicyLossInput = {
  logprobs_B_T: [ratios.map((r) => -1 + Math.log(r))],
  oldLogprobs_B_T: [old],
  advantages_B_T: [advantages],
  lossMask_B_T: [ratios.map(() => 1)],
};

test('ppo_clip: every branch, hand-computed', () => {
  const terms = ppoClipLoss(input, paperClip);
  // A=+1 r=1.1: inside → −1.1, grad −A·r = −1.1.      A=+1 r=1.5 > 1.28: clipHigh → −1.28, grad 0.
  // A=+1 r=0.5: below 0.8 but A>0, not clipped → −0.5.  A=−1 r=0.5 < 0.8: clipLow → 0.8, grad 0.
  // A=−1 r=2 > 1.28 but A<0, not clipped → 2, grad 2.  A=−1 r=4 > c=3: dual clip → 3, grad 0.  A=0 → 0.
  const expectedLoss = [-1.1, -1.28, -0.5, 0.8, 2, 3, 0];
  const expectedGradient = [-1.1, 0, -0.5, 0, 2, 0, 0];
  const { unclipped, clipHigh, clipLow, dualClip } = CLIP_REGION;
  const expectedRegion = [unclipped, clipHigh, unclipped, clipLow, unclipped, dualClip, unclipped];
  expectedLoss.forEach((value, t) => near(terms.loss_B_T[0]![t]!, value, 1e-12));
  expectedGradient.forEach((value, t) => near(terms.gradient_B_T[0]![t]!, value, 1e-12));
  assert.deepEqual([...terms.region_B_T[0]!], expectedRegion);
});

test('ppo_clip aggregated: token-mean and separate clip fractions', () => {
  const { loss, metrics } = tokenMeanPolicyLoss('ppo_clip', input, paperClip);
  // (−1.1 − 1.28 − 0.5 + 0.8 + 2 + 3 + 0)/7 = 2.92/7.
  near(loss, 2.92 / 7, 1e-12);
  near(metrics['policy/clipFractionLow']!, 1 / 7);
  near(metrics['policy/clipFractionHigh']!, 1 / 7);
  near(metrics['policy/dualClipFraction']!, 1 / 7);
  // mean ratio: (1.1+1.5+0.5+0.5+2+4+2)/7 = 11.6/7; approx KL old: mean(−ln r).
  near(metrics['policy/ratioMean']!, 11.6 / 7, 1e-12);
  near(metrics['policy/approxKlOld']!, -ratios.reduce((s, r) => s + Math.log(r), 0) / 7, 1e-12);
  assert.equal(metrics['policy/lossTokens'], 7);
});

test('without dual clip the A<0, r=4 token is unclipped', () => {
  const terms = ppoClipLoss(input, { ...paperClip, dualClip: null });
  near(terms.loss_B_T[0]![5]!, 4, 1e-12);
  near(terms.gradient_B_T[0]![5]!, 4, 1e-12);
});

test('importance_sampling and vanilla', () => {
  // IS: −A·r = −1.1, −1.5, −0.5, 0.5, 2, 4, 0 → sum 3.4, token-mean 3.4/7.
  near(tokenMeanPolicyLoss('importance_sampling', input, paperClip).loss, 3.4 / 7, 1e-12);
  // vanilla: −A·logp; row logp = −1 + ln r. Gradient −A whatever the ratio.
  const vanilla = getPolicyLoss('vanilla')(input, paperClip);
  near(vanilla.loss_B_T[0]![0]!, -1 * (-1 + Math.log(1.1)), 1e-12);
  // (+ 0 turns −0 into 0 for the deep comparison.)
  assert.deepEqual([...vanilla.gradient_B_T[0]!].map((g) => g + 0), [-1, -1, -1, 1, 1, 1, 0]);
});

test('masked tokens contribute nothing, even NaN ones', () => {
  const masked: PolicyLossInput = {
    logprobs_B_T: [[-1 + Math.log(1.1), Number.NaN]],
    oldLogprobs_B_T: [[-1, Number.NaN]],
    advantages_B_T: [[1, 5]],
    lossMask_B_T: [[1, 0]],
  };
  const { loss, metrics } = tokenMeanPolicyLoss('ppo_clip', masked, paperClip);
  near(loss, -1.1, 1e-12);
  assert.equal(metrics['policy/lossTokens'], 1);
});

test('KL estimators k1, k2, k3 at logp = −1, ref = −2', () => {
  // difference logp − ref = 1. k1 = 1 (grad 1); k2 = ½ (grad 1); k3 = e^−1 + 1 − 1 = 0.367879 (grad 1 − e^−1).
  assert.deepEqual(klPenalty(-1, -2, 'k1'), { value: 1, gradient: 1 });
  assert.deepEqual(klPenalty(-1, -2, 'k2'), { value: 0.5, gradient: 1 });
  const k3 = klPenalty(-1, -2, 'k3');
  near(k3.value, Math.exp(-1), 1e-12);
  near(k3.gradient, 1 - Math.exp(-1), 1e-12);
  // k3 is zero with zero gradient when the policies agree.
  assert.deepEqual(klPenalty(-0.3, -0.3, 'k3'), { value: 0, gradient: 0 });
});

test('entropy term at logp = −2: estimate 2, surrogate −2, gradient 2', () => {
  assert.deepEqual(entropyTerm(-2), { estimate: 2, surrogate: -2, gradient: 2 });
});

test('bad inputs and names', () => {
  assert.throws(() => getPolicyLoss('grpo_loss'), (error: unknown) => error instanceof InputError && /supported: ppo_clip, vanilla, importance_sampling/.test(error.message));
  assert.throws(() => tokenMeanPolicyLoss('ppo_clip', input, { ...paperClip, dualClip: 0.5 }), /dualClip must be a number > 1/);
  assert.throws(
    () => tokenMeanPolicyLoss('ppo_clip', { ...input, advantages_B_T: [[1]] }, paperClip),
    /advantages_B_T\[0\] has length 1 but lossMask_B_T\[0\] has length 7/,
  );
  assert.throws(
    () => tokenMeanPolicyLoss('ppo_clip', { ...input, oldLogprobs_B_T: [old.map(() => Number.NaN)] }, paperClip),
    /oldLogprobs_B_T\[0\]\[0\] must be a finite number where the mask is 1/,
  );
});
