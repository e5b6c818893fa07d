/**
 * Held-out evaluation: the test-split tasks rolled out with the current policy (greedy by default,
 * the paper's MATH500 protocol), graded, and summarised overall, by family, and for the families
 * where code helps against those where it does not, each with a 95% interval.
 */
import { rolloutMetrics } from '../rl/index.js';
import type { EvalSettings } from './config.js';
import { encodePrompt } from './data.js';
import { PLAIN_PROMPT } from './config.js';
import type { Task } from './problems.js';
import { rolloutGroups, type GradedTrajectory, type RolloutDeps } from './rollouts.js';
import { deriveSeed, SEED_PURPOSE } from './seeds.js';
import { accuracyInterval } from './stats.js';

export interface AccuracyFigure {
  accuracy: number;
  ci95: [number, number];
  /** Tasks counted. */
  n: number;
}

export interface FamilyFigure extends AccuracyFigure {
  codeHelps: boolean;
  /** Share of trajectories that ran at least one code block. */
  toolCallRate: number;
}

export interface EvalResult extends AccuracyFigure {
  tools: boolean;
  toolBudget: number;
  samples: number;
  byFamily: Record<string, FamilyFigure>;
  /** Families where code helps. */
  codeHelps: AccuracyFigure;
  /** Families where a direct (text) answer is easy. */
  text: AccuracyFigure;
  toolCallRate: number;
  toolTokenShare: number;
  executionErrorRate: number;
  /** Tasks left out because every sample hit an infrastructure failure. */
  infraFailures: number;
  /** Per counted task: its samples (infrastructure failures left out) and how many were correct, for paired comparisons and pass@k. */
  perTask: { id: string; samples: number; correct: number }[];
  seconds: number;
}

export interface EvaluateOptions {
  settings: EvalSettings;
  tools: boolean;
  maxResponseTokens: number;
  maxPromptTokens: number;
  executionTimeoutMs: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Receives every graded trajectory at the end (analyses beyond accuracy: error feedback, efficiency). */
  onGraded?: (graded: readonly GradedTrajectory<Task>[]) => void;
}

export async function evaluateHeldOut(deps: RolloutDeps, tasks: readonly Task[], options: EvaluateOptions): Promise<EvalResult> {
  const started = performance.now();
  const { settings } = options;
  const total = tasks.length * settings.samples;
  let done = 0;
  const groups = await rolloutGroups(deps, tasks, {
    groupSize: settings.samples,
    toolBudget: settings.toolBudget,
    tools: options.tools,
    temperature: settings.temperature,
    topP: settings.topP,
    topK: 0,
    maxResponseTokens: options.maxResponseTokens,
    promptOf: (task) => encodePrompt(task, PLAIN_PROMPT, deps.tokenizer, options.maxPromptTokens).tokens,
    executionTimeoutMs: options.executionTimeoutMs,
    // The same seeds at every evaluation (common random numbers): differences are the policy's.
    seedOf: (taskIndex) => deriveSeed(settings.seed, SEED_PURPOSE.evaluation, taskIndex),
    ...(options.signal ? { signal: options.signal } : {}),
    onTrajectory: () => options.onProgress?.(++done, total),
  });
  const scored: { task: Task; score: number; samples: number; correct: number }[] = [];
  let infraFailures = 0;
  for (const group of groups) {
    const valid = group.filter((item) => !item.trajectory.infraFailure);
    if (valid.length === 0) {
      infraFailures++;
      continue;
    }
    const correct = valid.filter((item) => item.correct).length;
    scored.push({ task: valid[0]!.task, score: correct / valid.length, samples: valid.length, correct });
  }
  const all = groups.flat();
  options.onGraded?.(all);
  const metrics = rolloutMetrics(all);
  const byFamily: Record<string, FamilyFigure> = {};
  const families = [...new Set(tasks.map((task) => task.family))];
  for (const family of families) {
    const members = scored.filter((entry) => entry.task.family === family);
    const trajectories = all.filter((item) => item.task.family === family && !item.trajectory.infraFailure);
    byFamily[family] = {
      ...accuracyInterval(members.map((entry) => entry.score)),
      codeHelps: tasks.find((task) => task.family === family)!.codeHelps,
      toolCallRate: trajectories.length > 0 ? trajectories.filter((item) => item.trajectory.toolCalls.length > 0).length / trajectories.length : 0,
    };
  }
  return {
    ...accuracyInterval(scored.map((entry) => entry.score)),
    tools: options.tools,
    toolBudget: settings.toolBudget,
    samples: settings.samples,
    byFamily,
    codeHelps: accuracyInterval(scored.filter((entry) => entry.task.codeHelps).map((entry) => entry.score)),
    text: accuracyInterval(scored.filter((entry) => !entry.task.codeHelps).map((entry) => entry.score)),
    toolCallRate: metrics['rollout/toolCallRate'] ?? 0,
    toolTokenShare: metrics['rollout/toolTokenShare'] ?? 0,
    executionErrorRate: metrics['rollout/executionErrorRate'] ?? 0,
    infraFailures,
    perTask: scored.map((entry) => ({ id: entry.task.id, samples: entry.samples, correct: entry.correct })),
    seconds: (performance.now() - started) / 1000,
  };
}
