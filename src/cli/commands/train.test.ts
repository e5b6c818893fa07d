import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getAdvantageEstimator, registerAdvantageEstimator } from '../../rl/index.js';
import { UsageError } from '../command.js';
import { configFromFlags } from './train.js';

test('--advantage accepts what the registry holds, including an estimator registered later', () => {
  assert.equal(configFromFlags({ advantage: 'rloo' }).rl.advantageEstimator, 'rloo');
  assert.equal(configFromFlags({}).rl.advantageEstimator, 'reinforce_plus_plus_baseline');
  assert.throws(() => configFromFlags({ advantage: 'test_only_estimator' }), (error: unknown) => error instanceof UsageError && /dr_grpo/.test(error.message));
  registerAdvantageEstimator('test_only_estimator', getAdvantageEstimator('reinforce'));
  assert.equal(configFromFlags({ advantage: 'test_only_estimator' }).rl.advantageEstimator, 'test_only_estimator');
});
