import assert from 'node:assert/strict';
import { test } from 'node:test';
import { budgetAt } from '../../rl/index.js';
import { UsageError } from '../command.js';
import { configFromFlags } from './train.js';

test('--recipe cir-paper: flags override single values, config.json records the recipe and the overrides', () => {
  const config = configFromFlags({ recipe: 'cir-paper', dataset: 'a.jsonl,hf:o/n/f.parquet', steps: '2', prompts: '2', group: '2', 'max-response-tokens': '32', 'val-every': '0', 'weight-decay': '0.1', 'clip-high': '0.3', 'dual-clip': 'off', out: 'RUN', json: true });
  assert.equal(config.recipe.name, 'cir-paper');
  assert.deepEqual(config.recipe.overrides, { dataset: 'a.jsonl,hf:o/n/f.parquet', steps: '2', prompts: '2', group: '2', 'max-response-tokens': '32', 'val-every': '0', 'weight-decay': '0.1', 'clip-high': '0.3', 'dual-clip': 'off' });
  assert.deepEqual(config.data, { kind: 'dataset', specs: ['a.jsonl', 'hf:o/n/f.parquet'], levels: null, subjects: null, dropOverlap: false });
  assert.deepEqual([config.rl.totalSteps, config.rl.promptsPerStep, config.rl.groupSize, config.rl.rollout.maxResponseTokens], [2, 2, 2, 32]);
  assert.deepEqual([config.rl.optimizer.learningRate, config.rl.optimizer.weightDecay, config.rl.loss.clipHigh, config.rl.loss.dualClip], [1e-6, 0.1, 0.3, null]);
  assert.equal(config.validation.every, 0);
  assert.equal(config.rl.rollout.maxPromptTokens, 1024, 'what no flag changed keeps the paper\'s value');
  // --steps 2 does not move the paper's switches (absolute steps 100 and 200).
  assert.deepEqual([99, 100, 200].map((step) => budgetAt(step, config.rl.budget)), [2, 3, 4]);
});

test('recipe flags: budgets and switch steps, validation sets with samples, the text-only baseline, refusals', () => {
  const config = configFromFlags({ recipe: 'cir-paper', dataset: 'a.jsonl', budgets: '1,5', 'budget-steps': '7', 'val-sets': 'aime24:4,hf:o/n/math.jsonl', 'text-only': true, 'micro-batch-tokens': 'off', 'old-logprobs': 'sampler' });
  assert.deepEqual([0, 6, 7].map((step) => budgetAt(step, config.rl.budget)), [1, 1, 5]);
  assert.deepEqual(config.validation.sets, [{ spec: 'aime24', samples: 4 }, { spec: 'hf:o/n/math.jsonl', samples: 1 }]);
  assert.equal(config.tools, false);
  assert.equal(config.prompt.mode, 'text');
  assert.equal(config.rl.microBatchTokens, null);
  assert.equal(config.rl.oldLogprobs, 'sampler');
  assert.throws(() => configFromFlags({ recipe: 'cir-paper' }), (error: unknown) => error instanceof UsageError && /--dataset/.test(error.message));
  assert.throws(() => configFromFlags({ recipe: 'paper' }), /--recipe must be one of embedded-demo, cir-paper/);
  assert.throws(() => configFromFlags({ levels: '5' }), /filter a --dataset/);
  const demo = configFromFlags({});
  assert.equal(demo.recipe.name, 'embedded-demo');
  assert.deepEqual(demo.recipe.overrides, {});
  assert.equal(demo.prompt.format, 'plain');
  assert.equal(demo.rl.optimizer.learningRate, 1e-4);
});

test('--boundary: precise by default, stop-strings when asked (recorded in the config), anything else refused by name', () => {
  assert.equal(configFromFlags({}).boundary, 'precise');
  assert.equal(configFromFlags({ boundary: 'stop-strings' }).boundary, 'stop-strings');
  assert.throws(() => configFromFlags({ boundary: 'fences' }), (error: unknown) => error instanceof UsageError && /--boundary must be one of precise, stop-strings, got "fences"/.test(error.message));
});
