/**
 * Rollout metrics logged every step (the paper's code counts them in `count_python_code_implement`,
 * RUCAIBox/CIR@6d27817 verl/verl-main/verl/trainer/ppo/ray_trainer.py; and the trainer's live progress line).
 * Trajectories with an infrastructure failure are counted in `rollout/infraFailureRate` and left
 * out of every other figure, as they are left out of the gradient.
 */
import type { Trajectory } from '../core/trajectory.js';

export interface RolloutMetricItem {
  trajectory: Trajectory;
  reward: number;
}

const ratio = (numerator: number, denominator: number) => (denominator > 0 ? numerator / denominator : 0);

export function rewardMean(rewards: readonly number[]): number {
  return ratio(
    rewards.reduce((sum, reward) => sum + reward, 0),
    rewards.length,
  );
}

/**
 * - `rewardMean`; `toolCallRate`: share of trajectories with ≥ 1 executed call (the paper's
 *   `avg_python_code_ratio`); `toolCallsMean`: executed calls per trajectory;
 * - `toolTokenShare`: tool-output tokens / all response tokens (policy + tool);
 * - `passRate`: calls that ran cleanly / calls (the paper's `pass_rate`, "Done" reports);
 *   `executionErrorRate`: calls that failed (error, timeout, memory, output limit, crash) / calls;
 *   sandbox `infra_error` calls count in neither;
 * - `budgetExhaustedRate`, `truncatedRate` (`length` or `context`), `responseTokensMean`.
 */
export function rolloutMetrics(items: readonly RolloutMetricItem[]): Record<string, number> {
  const valid = items.filter((item) => !item.trajectory.infraFailure);
  let withCalls = 0;
  let calls = 0;
  let passed = 0;
  let failed = 0;
  let toolTokens = 0;
  let responseTokens = 0;
  let budgetExhausted = 0;
  let truncated = 0;
  for (const { trajectory } of valid) {
    if (trajectory.toolCalls.length > 0) withCalls += 1;
    for (const call of trajectory.toolCalls) {
      if (call.outcome.kind === 'infra_error') continue;
      calls += 1;
      if (call.outcome.kind === 'ok') passed += 1;
      else failed += 1;
    }
    for (const segment of trajectory.segments) {
      if (segment.origin === 'prompt') continue;
      responseTokens += segment.tokens.length;
      if (segment.origin === 'tool') toolTokens += segment.tokens.length;
    }
    if (trajectory.status === 'budget_exhausted') budgetExhausted += 1;
    if (trajectory.status === 'length' || trajectory.status === 'context') truncated += 1;
  }
  return {
    'rollout/trajectories': items.length,
    'rollout/infraFailureRate': ratio(items.length - valid.length, items.length),
    'rollout/rewardMean': rewardMean(valid.map((item) => item.reward)),
    'rollout/toolCallRate': ratio(withCalls, valid.length),
    'rollout/toolCallsMean': ratio(
      valid.reduce((sum, item) => sum + item.trajectory.toolCalls.length, 0),
      valid.length,
    ),
    'rollout/toolTokenShare': ratio(toolTokens, responseTokens),
    'rollout/passRate': ratio(passed, calls),
    'rollout/executionErrorRate': ratio(failed, calls),
    'rollout/budgetExhaustedRate': ratio(budgetExhausted, valid.length),
    'rollout/truncatedRate': ratio(truncated, valid.length),
    'rollout/responseTokensMean': ratio(responseTokens, valid.length),
  };
}
