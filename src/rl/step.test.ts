import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Trajectory } from '../core/trajectory.js';
import { PAPER_RL_CONFIG } from './config.js';
import type { ScoredTrajectory } from './data.js';
import { miniBatchIndices, prepareStep, selectLossBatchRows } from './step.js';
import { buildTokenLoss } from './token-loss.js';

function trajectory(infraFailure = false): Trajectory {
  return {
    segments: [
      { origin: 'prompt', tokens: [1, 2], text: '' },
      { origin: 'policy', tokens: [3], logprobs: [-0.5], text: '' },
      { origin: 'tool', tokens: [4], text: '' },
      { origin: 'policy', tokens: [5], logprobs: [-0.7], text: '' },
    ],
    toolCalls: [],
    status: 'finished',
    infraFailure,
  };
}

const items: ScoredTrajectory[] = [
  { trajectory: trajectory(), reward: 1, groupId: 'p' },
  { trajectory: trajectory(), reward: -1, groupId: 'p' },
  { trajectory: trajectory(true), reward: 1, groupId: 'p' },
  { trajectory: trajectory(), reward: 1, groupId: 'q' },
  { trajectory: trajectory(), reward: 1, groupId: 'q' },
];

test('prepareStep: paper config whitens over response tokens including tool tokens', () => {
  const step = prepareStep(items, PAPER_RL_CONFIG);
  assert.equal(step.data.length, 4);
  assert.equal(step.metrics['data/excludedInfraFailure'], 1);
  // Scores: p → 1, −1 (mean 0); q → 0, 0. Each row has 3 response targets (policy, tool, policy),
  // so tokens: 1,1,1, −1,−1,−1, 0×6 → μ = 0, unbiased var = 6/11 → A = ±sqrt(11/6) = ±1.354006.
  const expected = Math.sqrt(11 / 6);
  assert.ok(Math.abs(step.lossBatch.advantages_B_T[0]![2]! - expected) < 1e-5);
  assert.ok(Math.abs(step.lossBatch.advantages_B_T[1]![1]! + expected) < 1e-5);
  assert.equal(step.lossBatch.advantages_B_T[0]![0], 0, 'the prompt target has no advantage');
  // The tool target carries an advantage (whitening) but is out of the loss.
  assert.deepEqual([...step.lossBatch.lossMask_B_T[0]!], [0, 1, 0, 1]);
  // The loss builds without further work: every loss token has a sampling log-prob.
  const lossFunction = buildTokenLoss(step.lossBatch, PAPER_RL_CONFIG.loss);
  const result = lossFunction(step.lossBatch.samplingLogprobs_B_T.map((row) => row.map((v) => (Number.isNaN(v) ? 0 : v))));
  // On-policy, ratio 1 everywhere: token-mean of −A over 8 loss tokens = (2·−e + 2·e + 0)/8 = 0.
  assert.ok(Math.abs(result.loss) < 1e-6);
});

test('prepareStep with dynamic sampling drops the all-equal group before the advantages', () => {
  const step = prepareStep(items, { ...PAPER_RL_CONFIG, dynamicSampling: true });
  assert.deepEqual(step.groupIds_B, ['p', 'p']);
  assert.equal(step.metrics['sampling/groupsFilteredAllEqual'], 1);
  assert.equal(step.metrics['data/trajectories'], 5);
});

test('mini-batches split by whole prompts', () => {
  const groupIds = ['a', 'a', 'b', 'b', 'c', 'c', 'd'];
  assert.deepEqual(miniBatchIndices(groupIds, 2), [[0, 1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(miniBatchIndices(['a', 'b', 'a'], 3), [[0, 2], [1]]);
  assert.throws(() => miniBatchIndices(groupIds, 0), /positive integer/);
  const step = prepareStep(items, PAPER_RL_CONFIG);
  const [first] = miniBatchIndices(step.groupIds_B, 2);
  const part = selectLossBatchRows(step.lossBatch, first!);
  assert.equal(part.lossMask_B_T.length, 2);
  assert.equal(part.advantages_B_T[1], step.lossBatch.advantages_B_T[1]);
});
