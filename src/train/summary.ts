/**
 * The run's summary (`summary.json`): held-out accuracy at start and end with 95% intervals,
 * whether the intervals are disjoint, by family, for code-helps vs text families, and with the
 * interpreter off, plus run time. Pure: built from the evaluation records and step metrics.
 */
import { InputError } from '../core/errors.js';
import type { TrainConfig } from './config.js';
import type { AccuracyFigure, EvalResult } from './evaluate.js';
import type { EvaluationRecord, StepRecord } from './run-store.js';
import { intervalsDisjoint } from './stats.js';

export interface SummaryEvaluation extends AccuracyFigure {
  step: number;
  tools: boolean;
  codeHelps: AccuracyFigure;
  text: AccuracyFigure;
  toolCallRate: number;
  byFamily: Record<string, AccuracyFigure & { codeHelps: boolean; toolCallRate: number }>;
}

export interface RunSummary {
  start: SummaryEvaluation;
  end: SummaryEvaluation;
  /** Wall time of the whole run (evaluations included), summed over resumed sessions. */
  minutes: number;
  steps: number;
  /** end.accuracy − start.accuracy. */
  gain: number;
  /** True when the start and end 95% intervals do not overlap. */
  significant: boolean;
  /** The same tasks with the interpreter off (only for runs that train with it). */
  withoutTools?: { start: SummaryEvaluation; end: SummaryEvaluation };
  /** Held-out accuracy after each evaluation, for curves. */
  curve: { step: number; accuracy: number; ci95: [number, number] }[];
  training: { firstReward: number; lastReward: number; firstToolCallRate: number; lastToolCallRate: number };
  config: { tools: boolean; maskToolOutput: boolean; budget: TrainConfig['rl']['budget']; advantageEstimator: string; learningRate: number; seed: number };
  backend: string;
}

export function summarizeEvaluation(step: number, result: EvalResult): SummaryEvaluation {
  return {
    step,
    tools: result.tools,
    accuracy: result.accuracy,
    ci95: result.ci95,
    n: result.n,
    codeHelps: result.codeHelps,
    text: result.text,
    toolCallRate: result.toolCallRate,
    byFamily: Object.fromEntries(
      Object.entries(result.byFamily).map(([family, figure]) => [
        family,
        { accuracy: figure.accuracy, ci95: figure.ci95, n: figure.n, codeHelps: figure.codeHelps, toolCallRate: figure.toolCallRate },
      ]),
    ),
  };
}

function find(evaluations: readonly EvaluationRecord[], label: 'start' | 'end', tools: boolean): EvaluationRecord | undefined {
  return evaluations.find((record) => record.label === label && record.result.tools === tools);
}

export function buildSummary(
  config: TrainConfig,
  evaluations: readonly EvaluationRecord[],
  steps: readonly StepRecord[],
  elapsedMs: number,
  backend: string,
): RunSummary {
  const start = find(evaluations, 'start', config.tools);
  const end = find(evaluations, 'end', config.tools);
  if (!start || !end) throw new InputError('the run has no start or end evaluation yet (was it stopped early?)', 'evaluations');
  const summary: RunSummary = {
    start: summarizeEvaluation(start.step, start.result),
    end: summarizeEvaluation(end.step, end.result),
    minutes: elapsedMs / 60000,
    steps: steps.length,
    gain: end.result.accuracy - start.result.accuracy,
    significant: end.result.accuracy > start.result.accuracy && intervalsDisjoint(start.result.ci95, end.result.ci95),
    curve: evaluations
      .filter((record) => record.result.tools === config.tools)
      .map((record) => ({ step: record.step, accuracy: record.result.accuracy, ci95: record.result.ci95 })),
    training: {
      firstReward: steps[0]?.reward ?? 0,
      lastReward: steps.at(-1)?.reward ?? 0,
      firstToolCallRate: steps[0]?.toolCallRate ?? 0,
      lastToolCallRate: steps.at(-1)?.toolCallRate ?? 0,
    },
    config: {
      tools: config.tools,
      maskToolOutput: config.rl.maskToolOutput,
      budget: config.rl.budget,
      advantageEstimator: config.rl.advantageEstimator,
      learningRate: config.rl.optimizer.learningRate,
      seed: config.rl.seed,
    },
    backend,
  };
  const startText = find(evaluations, 'start', false);
  const endText = find(evaluations, 'end', false);
  if (config.tools && startText && endText) {
    summary.withoutTools = { start: summarizeEvaluation(startText.step, startText.result), end: summarizeEvaluation(endText.step, endText.result) };
  }
  return summary;
}
