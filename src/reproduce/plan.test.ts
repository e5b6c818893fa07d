import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../core/errors.js';
import { defaultTrainConfig } from '../train/index.js';
import { estimateSeconds, planReproduction, SECONDS_PER_DEFAULT_STEP } from './plan.js';

const passAtK = { tasks: 100, samples: 32, budget: 5, temperature: 1 };
const withValidation = (steps: number) => {
  const config = defaultTrainConfig(steps);
  config.validation.every = 10;
  return config;
};

test('the default reproduction fits an hour on 2 cores by the README figures, with no step cut', () => {
  const plan = planReproduction(withValidation(40), passAtK, 60, withValidation);
  assert.equal(plan.base.rl.totalSteps, 40);
  // 4 runs × 40 steps × 11.7 s, their validations, and 6 × 3,200 pass@k trajectories at 35/s.
  const training = 4 * 40 * SECONDS_PER_DEFAULT_STEP;
  assert.ok(plan.estimatedMinutes * 60 > training + (6 * 3200) / 35);
  assert.ok(plan.estimatedMinutes <= 60, `estimated ${plan.estimatedMinutes} minutes`);
});

test('a smaller minutes budget cuts the steps until the estimate fits, and refuses what cannot fit', () => {
  const plan = planReproduction(withValidation(40), passAtK, 30, withValidation);
  assert.ok(plan.base.rl.totalSteps < 40 && plan.base.rl.totalSteps >= 3);
  assert.ok(estimateSeconds.total(plan) <= 30 * 60);
  assert.throws(() => planReproduction(withValidation(40), passAtK, 5, withValidation), (error: unknown) => error instanceof InputError && /minutes-budget/.test(error.message));
});
