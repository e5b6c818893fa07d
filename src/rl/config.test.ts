import { test } from 'node:test';
import assert from 'node:assert/strict';
import { budgetAt } from './budget.js';
import { PAPER_RL_CONFIG, validateRlConfig, type RlConfig } from './config.js';

test('the paper defaults (RUCAIBox/CIR scripts/run/run.sh) are valid and say what the paper says', () => {
  validateRlConfig(PAPER_RL_CONFIG);
  assert.equal(PAPER_RL_CONFIG.advantageEstimator, 'reinforce_plus_plus_baseline');
  assert.deepEqual(
    [PAPER_RL_CONFIG.loss.clipLow, PAPER_RL_CONFIG.loss.clipHigh, PAPER_RL_CONFIG.loss.dualClip, PAPER_RL_CONFIG.loss.aggregation],
    [0.2, 0.28, 3, 'token-mean'],
  );
  assert.equal(PAPER_RL_CONFIG.loss.klCoef, 0);
  assert.equal(PAPER_RL_CONFIG.loss.entropyCoef, 0);
  assert.equal(PAPER_RL_CONFIG.optimizer.learningRate, 1e-6);
  assert.equal(PAPER_RL_CONFIG.promptsPerStep * PAPER_RL_CONFIG.groupSize, 2048);
  assert.equal(PAPER_RL_CONFIG.maskToolOutput, true);
  assert.equal(PAPER_RL_CONFIG.dynamicSampling, false);
  assert.deepEqual([0, 100, 200].map((step) => budgetAt(step, PAPER_RL_CONFIG.budget)), [2, 3, 4]);
  // It survives a JSON round trip (it is saved beside checkpoints).
  assert.deepEqual(JSON.parse(JSON.stringify(PAPER_RL_CONFIG)), PAPER_RL_CONFIG);
});

test('validation names the bad field', () => {
  const withChange = (change: Partial<RlConfig>): RlConfig => ({ ...PAPER_RL_CONFIG, ...change });
  assert.throws(() => validateRlConfig(withChange({ advantageEstimator: 'ppo' })), /unknown advantage estimator "ppo"/);
  assert.throws(() => validateRlConfig(withChange({ groupSize: 0 })), /groupSize must be a positive integer/);
  assert.throws(() => validateRlConfig(withChange({ miniBatchesPerStep: 200 })), /miniBatchesPerStep \(200\) must not exceed promptsPerStep/);
  assert.throws(() => validateRlConfig(withChange({ loss: { ...PAPER_RL_CONFIG.loss, clipLow: 1.5 } })), /clipLow must be a finite number in \[0, 1\]/);
  assert.throws(
    () => validateRlConfig(withChange({ optimizer: { ...PAPER_RL_CONFIG.optimizer, learningRate: 0 } })),
    /optimizer.learningRate must be a positive number/,
  );
  assert.throws(() => validateRlConfig(withChange({ rollout: { ...PAPER_RL_CONFIG.rollout, topP: 0 } })), /rollout.topP must be in/);
});
