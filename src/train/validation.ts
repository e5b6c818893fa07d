/**
 * The paper's in-training validation (cir-reference §9; RUCAIBox/CIR @ 6d27817, verl/scripts/run/run.sh:
 * `test_freq=10`, `val_before_train=True`, `val_kwargs` T 1.0 / top-p 0.95 / n 1 on an AIME24 file
 * repeated 16 times and MATH500): every set is rolled out with sampling and the step's *current* tool
 * budget, graded with the training reward, and reported as mean accuracy per set with a 95% interval
 * over problems (a problem scores the share of its samples that were correct).
 */
import { rolloutMetrics } from '../rl/index.js';
import type { ValidationSettings } from './config.js';
import type { ValidationSet } from './data.js';
import type { Task } from './problems.js';
import { rolloutGroups, type RolloutDeps } from './rollouts.js';
import { deriveSeed, SEED_PURPOSE } from './seeds.js';
import { accuracyInterval } from './stats.js';

export interface ValidationFigure {
  accuracy: number;
  ci95: [number, number];
  problems: number;
  samples: number;
  toolCallRate: number;
  /** Problems left out because every sample hit an infrastructure failure. */
  infraFailures: number;
}

export interface ValidationRecord {
  kind: 'validation';
  /** Completed training steps when it ran. */
  step: number;
  label: 'start' | 'periodic' | 'end';
  /** The tool budget it ran with: the training budget of the next step (the current one). */
  budget: number;
  sets: Record<string, ValidationFigure>;
  seconds: number;
}

export interface ValidateOptions {
  settings: ValidationSettings;
  budget: number;
  /** The run seed; each validation's draws depend on it, the set, the step and the problem. */
  seed: number;
  tools: boolean;
  maxResponseTokens: number;
  executionTimeoutMs: number;
  promptOf: (problem: ValidationSet['problems'][number]) => number[];
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export async function validate(deps: RolloutDeps, sets: readonly ValidationSet[], step: number, label: ValidationRecord['label'], options: ValidateOptions): Promise<ValidationRecord> {
  const started = performance.now();
  const total = sets.reduce((sum, set) => sum + set.problems.length * set.samples, 0);
  let done = 0;
  const figures: Record<string, ValidationFigure> = {};
  for (const [setIndex, set] of sets.entries()) {
    const groups = await rolloutGroups(deps, set.problems, {
      groupSize: set.samples,
      toolBudget: options.budget,
      tools: options.tools,
      temperature: options.settings.temperature,
      topP: options.settings.topP,
      topK: 0,
      maxResponseTokens: options.maxResponseTokens,
      executionTimeoutMs: options.executionTimeoutMs,
      promptOf: options.promptOf,
      seedOf: (problemIndex) => deriveSeed(options.seed, SEED_PURPOSE.evaluation, setIndex, step, problemIndex),
      ...(options.signal ? { signal: options.signal } : {}),
      onTrajectory: () => options.onProgress?.(++done, total),
    });
    const scores: number[] = [];
    let infraFailures = 0;
    for (const group of groups) {
      const valid = group.filter((item) => !item.trajectory.infraFailure);
      if (valid.length === 0) infraFailures++;
      else scores.push(valid.filter((item) => item.correct).length / valid.length);
    }
    const interval = accuracyInterval(scores);
    figures[set.name] = {
      accuracy: interval.accuracy,
      ci95: interval.ci95,
      problems: scores.length,
      samples: set.samples,
      toolCallRate: rolloutMetrics(groups.flat())['rollout/toolCallRate'] ?? 0,
      infraFailures,
    };
  }
  return { kind: 'validation', step, label, budget: options.budget, sets: figures, seconds: (performance.now() - started) / 1000 };
}

/** A generated-task run's validation set: its held-out tasks, one sample each. */
export function heldOutValidationSet(tasks: readonly Task[]): ValidationSet {
  return { name: 'held-out', spec: 'held-out', samples: 1, problems: tasks.map((task) => ({ id: task.id, problem: task.problem, answer: task.answer, source: 'held-out' })) };
}
