/**
 * Rollouts for training and evaluation, through the project's rollout engine (tool loop, budget,
 * token-exact trajectories) and graded with the paper's rewards. One engine per prompt, seeded by
 * the caller: sample j of that prompt then uses seed + 1000·j + turn, so what is drawn depends on
 * (run seed, step, prompt, sample, turn) and not on scheduling.
 */
import type { CodeExecutor, ExecutionOutcome } from '../core/execution.js';
import type { SamplingEngine } from '../core/sampling.js';
import type { Tokenizer } from '../core/tokenizer.js';
import type { Segment, Trajectory } from '../core/trajectory.js';
import { trainingReward } from '../grader/index.js';
import { createRolloutEngine, responseText, type BoundaryMode, type RolloutTrajectory } from '../rollout/index.js';
import type { TrainingProblem } from './data.js';

export interface RolloutDeps {
  engine: SamplingEngine;
  tokenizer: Tokenizer;
  /** Required when `tools` is on. */
  executor?: CodeExecutor;
  formatFeedback: (outcome: ExecutionOutcome) => string;
}

export interface GroupRolloutOptions<T extends TrainingProblem = TrainingProblem> {
  groupSize: number;
  /** Tool budget K. */
  toolBudget: number;
  /** Interpreter on; off = plain text generation, code is never run. */
  tools: boolean;
  /** Where a model turn ends (default `precise`, the paper). */
  boundary?: BoundaryMode;
  temperature: number;
  topP: number;
  topK: number;
  maxResponseTokens: number;
  executionTimeoutMs: number;
  /** The problem's prompt in the policy's tokens (rendered and bounded by the caller). */
  promptOf: (task: T) => number[];
  /** Seed of task i's engine. */
  seedOf: (taskIndex: number) => number;
  signal?: AbortSignal;
  /** Called as each trajectory ends. */
  onTrajectory?: () => void;
}

export interface GradedTrajectory<T extends TrainingProblem = TrainingProblem> {
  task: T;
  /** Index of the task in the call: the group id. */
  group: number;
  trajectory: RolloutTrajectory;
  /** The paper's training reward: +1 when the last box equals the reference, else −1. */
  reward: number;
  correct: boolean;
}

/** Rolls out `groupSize` trajectories for every task at once and grades them; groups in task order. */
export async function rolloutGroups<T extends TrainingProblem>(deps: RolloutDeps, tasks: readonly T[], options: GroupRolloutOptions<T>): Promise<GradedTrajectory<T>[][]> {
  return Promise.all(
    tasks.map(async (task, group) => {
      const engine = createRolloutEngine({
        engine: deps.engine,
        tokenizer: deps.tokenizer,
        ...(options.tools && deps.executor ? { executor: deps.executor } : {}),
        formatFeedback: deps.formatFeedback,
        sampling: {
          temperature: options.temperature,
          topP: options.topP,
          topK: options.topK,
          seed: options.seedOf(group),
          stopTokenIds: [deps.tokenizer.eosTokenId],
        },
        maxToolCalls: options.toolBudget,
        budgetPolicy: 'finish',
        maxTokensPerCall: options.maxResponseTokens,
        maxTotalTokens: options.maxResponseTokens,
        executionTimeoutMs: options.executionTimeoutMs,
        toolsEnabled: options.tools,
        boundary: options.boundary ?? 'precise',
      });
      const prompt = options.promptOf(task);
      const rolloutOptions = {
        ...(options.signal ? { signal: options.signal } : {}),
        onEvent: (event: { type: string }) => {
          if (event.type === 'end') options.onTrajectory?.();
        },
      };
      const trajectories = await engine.rollout(prompt, options.groupSize, rolloutOptions);
      return trajectories.map((trajectory) => {
        const reward = trainingReward(responseText(trajectory), task.answer);
        return { task, group, trajectory, reward, correct: reward > 0 };
      });
    }),
  );
}

/**
 * A trajectory cut to at most `maxTokens` tokens (prompt included), for a backend whose context
 * window is shorter than what the rollout produced (an interpreter output can push a trajectory
 * past it). As the paper's right-truncation at max_response_length: the reward stays, the tail goes.
 */
export function fitToContext<T extends Trajectory>(trajectory: T, maxTokens: number): { trajectory: T; truncated: boolean } {
  let total = 0;
  for (const segment of trajectory.segments) total += segment.tokens.length;
  if (total <= maxTokens) return { trajectory, truncated: false };
  const segments: Segment[] = [];
  let room = maxTokens;
  for (const segment of trajectory.segments) {
    if (room <= 0) break;
    if (segment.tokens.length <= room) {
      segments.push(segment);
      room -= segment.tokens.length;
      continue;
    }
    const cut: Segment = { origin: segment.origin, tokens: segment.tokens.slice(0, room), text: '' };
    if (segment.logprobs) cut.logprobs = segment.logprobs.slice(0, room);
    cut.text = segment.text.length === segment.tokens.length ? segment.text.slice(0, room) : `${segment.text.slice(0, room)}…`;
    segments.push(cut);
    room = 0;
  }
  return { trajectory: { ...trajectory, segments }, truncated: true };
}
