import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExecutionOutcome } from '../core/execution.js';
import type { Trajectory } from '../core/trajectory.js';
import { rewardMean, rolloutMetrics } from './metrics.js';

const ok: ExecutionOutcome = { kind: 'ok', stdout: '4', stderr: '', durationMs: 1 };
const failure: ExecutionOutcome = { kind: 'error', errorType: 'ZeroDivisionError', message: 'x', lastLine: 'x', stdout: '', stderr: '', durationMs: 1 };
const infra: ExecutionOutcome = { kind: 'infra_error', reason: 'pool down', durationMs: 1 };

function trajectory(outcomes: ExecutionOutcome[], status: Trajectory['status'] = 'finished', infraFailure = false): Trajectory {
  return {
    // prompt 4 tokens; policy 6 tokens; one 2-token tool segment per call
    segments: [
      { origin: 'prompt', tokens: [1, 2, 3, 4], text: '' },
      { origin: 'policy', tokens: [5, 6, 7, 8, 9, 10], text: '' },
      ...outcomes.map(() => ({ origin: 'tool' as const, tokens: [11, 12], text: '' })),
    ],
    toolCalls: outcomes.map((outcome) => ({ segmentIndex: 1, code: 'print(1)', outcome, feedback: '' })),
    status,
    infraFailure,
  };
}

test('rollout metrics, hand-counted', () => {
  const metrics = rolloutMetrics([
    { trajectory: trajectory([ok, failure], 'budget_exhausted'), reward: 1 }, // 6 + 4 response tokens, 4 tool
    { trajectory: trajectory([]), reward: -1 }, // 6 response tokens, no calls
    { trajectory: trajectory([ok, infra], 'length'), reward: 1 }, // 6 + 4 response, 4 tool; the infra call counts nowhere
    { trajectory: trajectory([ok], 'finished', true), reward: -1 }, // infra failure: excluded from everything else
  ]);
  assert.deepEqual(metrics, {
    'rollout/trajectories': 4,
    'rollout/infraFailureRate': 1 / 4,
    'rollout/rewardMean': 1 / 3, // (1 − 1 + 1)/3
    'rollout/toolCallRate': 2 / 3,
    'rollout/toolCallsMean': 4 / 3, // 2 + 0 + 2 recorded calls
    'rollout/toolTokenShare': 8 / 26, // tool 4+0+4 of response 10+6+10
    'rollout/passRate': 2 / 3, // ok, ok of ok, error, ok (infra call left out)
    'rollout/executionErrorRate': 1 / 3,
    'rollout/budgetExhaustedRate': 1 / 3,
    'rollout/truncatedRate': 1 / 3,
    'rollout/responseTokensMean': 26 / 3,
  });
});

test('empty inputs give zeros, not NaN', () => {
  assert.equal(rewardMean([]), 0);
  assert.ok(Object.values(rolloutMetrics([])).every((value) => value === 0));
});
