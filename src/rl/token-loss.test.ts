import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LOSS_AGGREGATION_MODES } from './aggregation.js';
import { buildTokenLoss, computeRlLoss, PAPER_LOSS_CONFIG, type LossConfig, type TokenLossBatch } from './token-loss.js';

/** Deterministic pseudo-random numbers in [0, 1) (a 32-bit LCG), so the test is reproducible. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** A ragged batch with masked positions, mixed-sign advantages and ratios spread over every clip region. */
interface NumberBatch {
  advantages_B_T: number[][];
  samplingLogprobs_B_T: number[][];
  lossMask_B_T: number[][];
  referenceLogprobs_B_T: number[][];
}

function randomBatch(seed: number): { batch: NumberBatch; logprobs_B_T: number[][] } {
  const random = generator(seed);
  const lengths = [5, 3, 7, 1];
  const batch: NumberBatch = { advantages_B_T: [], samplingLogprobs_B_T: [], lossMask_B_T: [], referenceLogprobs_B_T: [] };
  const logprobs_B_T: number[][] = [];
  for (const length of lengths) {
    const mask = Array.from({ length }, (_, t) => (t === 0 || random() < 0.8 ? 1 : 0));
    const advantage = random() < 0.5 ? -(0.2 + random()) : 0.2 + random();
    const old = Array.from({ length }, () => -0.1 - 3 * random());
    // log-ratios in [−1.2, 1.6]: r from 0.3 to 5, across clipLow, inside, clipHigh and the dual clip.
    const logprobs = old.map((value) => value - 1.2 + 2.8 * random());
    batch.advantages_B_T.push(mask.map(() => advantage));
    batch.samplingLogprobs_B_T.push(old.map((value, t) => (mask[t] === 1 ? value : Number.NaN)));
    batch.lossMask_B_T.push(mask);
    batch.referenceLogprobs_B_T.push(old.map((value) => value - 0.5 + random()));
    logprobs_B_T.push(logprobs);
  }
  return { batch, logprobs_B_T };
}

/** The kinks of the clipped objective: a finite difference must not straddle one. */
function nearKink(logprob: number, old: number, config: LossConfig, step: number): boolean {
  const logRatio = logprob - old;
  const kinks = [Math.log(1 - config.clipLow), Math.log(1 + config.clipHigh)];
  if (config.dualClip !== null) kinks.push(Math.log(config.dualClip));
  return kinks.some((kink) => Math.abs(logRatio - kink) < 10 * step);
}

function checkFiniteDifferences(config: LossConfig, seed: number): number {
  const { batch, logprobs_B_T } = randomBatch(seed);
  const { gradients } = computeRlLoss(logprobs_B_T, batch, config);
  const step = 1e-6;
  let checked = 0;
  logprobs_B_T.forEach((row, b) => {
    row.forEach((value, t) => {
      if (nearKink(value, batch.samplingLogprobs_B_T[b]![t]!, config, step)) return;
      const plus = logprobs_B_T.map((r) => [...r]);
      const minus = logprobs_B_T.map((r) => [...r]);
      plus[b]![t] = value + step;
      minus[b]![t] = value - step;
      const numeric = (computeRlLoss(plus, batch, config).loss - computeRlLoss(minus, batch, config).loss) / (2 * step);
      const analytic = gradients[b]![t]!;
      // Float32 gradients: relative 1e-5 plus the central-difference error.
      assert.ok(Math.abs(numeric - analytic) <= 1e-5 * Math.max(1, Math.abs(numeric)) + 1e-7, `b=${b} t=${t}: ${analytic} vs ${numeric}`);
      if (batch.lossMask_B_T[b]![t] === 0) assert.equal(analytic, 0);
      checked += 1;
    });
  });
  return checked;
}

test('the gradient matches central finite differences for every loss and aggregation, with KL and entropy', () => {
  let checked = 0;
  for (const policyLoss of ['ppo_clip', 'importance_sampling', 'vanilla']) {
    for (const aggregation of LOSS_AGGREGATION_MODES) {
      for (const klEstimator of ['k1', 'k2', 'k3'] as const) {
        const config: LossConfig = { ...PAPER_LOSS_CONFIG, policyLoss, aggregation, klCoef: 0.1, klEstimator, entropyCoef: 0.01 };
        checked += checkFiniteDifferences(config, 17 + checked);
      }
    }
  }
  assert.ok(checked > 500, `checked ${checked} tokens`);
});

test('paper config: clipped tokens get exactly zero gradient, unclipped ones do not', () => {
  // Row 0: A=+1 with r = 1.1 (inside) and r = 1.5 (above 1.28: clipHigh).
  // Row 1: A=−1 with r = 0.5 (below 0.8: clipLow), r = 2 (inside for A<0), r = 4 (above c=3: dual clip).
  const ratios = [[1.1, 1.5], [0.5, 2, 4]];
  const batch: TokenLossBatch = {
    advantages_B_T: [[1, 1], [-1, -1, -1]],
    samplingLogprobs_B_T: [[-1, -1], [-1, -1, -1]],
    lossMask_B_T: [[1, 1], [1, 1, 1]],
  };
  const logprobs = ratios.map((row) => row.map((r) => -1 + Math.log(r)));
  const { loss, gradients, metrics } = computeRlLoss(logprobs, batch, PAPER_LOSS_CONFIG);
  // token-mean over 5 tokens: per-token gradient −A·r/5 where unclipped.
  assert.ok(Math.abs(gradients[0]![0]! - -1.1 / 5) < 1e-6);
  assert.equal(gradients[0]![1], 0);
  assert.equal(gradients[1]![0], 0);
  assert.ok(Math.abs(gradients[1]![1]! - 2 / 5) < 1e-6);
  assert.equal(gradients[1]![2], 0);
  // Loss: (−1.1 − 1.28 + 0.8 + 2 + 3)/5 = 3.42/5.
  assert.ok(Math.abs(loss - 3.42 / 5) < 1e-12);
  assert.equal(metrics['loss/total'], loss);
  assert.equal(metrics['policy/kl'], undefined);
  assert.ok(Math.abs(metrics['policy/clipFractionHigh']! - 0.2) < 1e-12);
  assert.ok(Math.abs(metrics['policy/clipFractionLow']! - 0.2) < 1e-12);
  assert.ok(Math.abs(metrics['policy/dualClipFraction']! - 0.2) < 1e-12);
});

test('on-policy, the PPO gradient equals the plain policy gradient −A·w', () => {
  const { batch } = randomBatch(3);
  const onPolicy = batch.samplingLogprobs_B_T.map((row) => row.map((value) => (Number.isNaN(value) ? -1 : value)));
  const ppo = computeRlLoss(onPolicy, batch, PAPER_LOSS_CONFIG).gradients;
  const vanilla = computeRlLoss(onPolicy, batch, { ...PAPER_LOSS_CONFIG, policyLoss: 'vanilla' }).gradients;
  ppo.forEach((row, b) => row.forEach((value, t) => assert.ok(Math.abs(value - vanilla[b]![t]!) < 1e-7)));
});

test('buildTokenLoss validates up front and returns a backend-shaped function', () => {
  const { batch, logprobs_B_T } = randomBatch(5);
  const lossFunction = buildTokenLoss(batch, PAPER_LOSS_CONFIG);
  const result = lossFunction(logprobs_B_T.map((row) => Float32Array.from(row)));
  assert.equal(result.gradients.length, 4);
  assert.ok(result.gradients.every((row, b) => row instanceof Float32Array && row.length === batch.lossMask_B_T[b]!.length));
  assert.ok(Number.isFinite(result.loss));
  assert.throws(() => buildTokenLoss({ ...batch, referenceLogprobs_B_T: [] }, { ...PAPER_LOSS_CONFIG, klCoef: 0.1 }), /referenceLogprobs_B_T has 0 rows/);
  const { referenceLogprobs_B_T: _unused, ...withoutReference } = batch;
  assert.throws(() => buildTokenLoss(withoutReference, { ...PAPER_LOSS_CONFIG, klCoef: 0.1 }), /klCoef > 0 needs referenceLogprobs_B_T/);
  assert.throws(() => buildTokenLoss(batch, { ...PAPER_LOSS_CONFIG, policyLoss: 'dpo' }), /unknown policy loss "dpo"/);
  assert.throws(() => lossFunction([new Float32Array(1)]), /logprobs_B_T has 1 rows but lossMask_B_T has 4/);
});
