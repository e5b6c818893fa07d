/**
 * The run's summary (`summary.json`): held-out accuracy at start and end with 95% intervals,
 * whether the intervals are disjoint, by family, for code-helps vs text families, and with the
 * interpreter off, plus run time. Pure: built from the evaluation records and step metrics.
 */
import { InputError } from '../core/errors.js';
import type { TrainConfig } from './config.js';
import type { AccuracyFigure, EvalResult } from './evaluate.js';
import type { TrainingData } from './data.js';
import type { EvaluationRecord, StepRecord } from './run-store.js';
import type { ValidationRecord } from './validation.js';
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
  /**
   * Held-out accuracy sampled at the *current* training budget (`--val-every`), beside `curve`'s fixed
   * evaluation budget: where the paper's Figure 3 dips after each budget switch would show.
   */
  currentBudgetCurve?: { step: number; budget: number; accuracy: number; ci95: [number, number] }[];
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
  validations: readonly ValidationRecord[] = [],
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
  const currentBudget = validations.flatMap((record) => {
    const figure = record.sets['held-out'];
    return figure ? [{ step: record.step, budget: record.budget, accuracy: figure.accuracy, ci95: figure.ci95 }] : [];
  });
  if (currentBudget.length > 0) summary.currentBudgetCurve = currentBudget;
  const startText = find(evaluations, 'start', false);
  const endText = find(evaluations, 'end', false);
  if (config.tools && startText && endText) {
    summary.withoutTools = { start: summarizeEvaluation(startText.step, startText.result), end: summarizeEvaluation(endText.step, endText.result) };
  }
  return summary;
}

/** A dataset run's summary: the recipe, the data, the validation curves per set and the training figures. */
export interface DatasetRunSummary {
  recipe: TrainConfig['recipe'];
  steps: number;
  minutes: number;
  data: { counts: TrainingData['counts']; overlap: { set: string; problems: number }[]; droppedForOverlap: number; problems: number };
  /** Per validation set: accuracy after each validation (empty when validation is off). */
  validation: Record<string, { step: number; budget: number; accuracy: number; ci95: [number, number] }[]>;
  training: RunSummary['training'] & { lastMismatch?: Record<string, number> };
  backend: string;
}

export function buildDatasetSummary(
  config: TrainConfig,
  validations: readonly ValidationRecord[],
  steps: readonly StepRecord[],
  elapsedMs: number,
  backend: string,
  data: TrainingData,
): DatasetRunSummary {
  const validation: DatasetRunSummary['validation'] = {};
  for (const record of validations) {
    for (const [name, figure] of Object.entries(record.sets)) {
      (validation[name] ??= []).push({ step: record.step, budget: record.budget, accuracy: figure.accuracy, ci95: figure.ci95 });
    }
  }
  const last = steps.at(-1);
  const mismatch = last ? Object.fromEntries(Object.entries(last.metrics).filter(([name]) => name.startsWith('mismatch/'))) : {};
  return {
    recipe: config.recipe,
    steps: steps.length,
    minutes: elapsedMs / 60000,
    data: { counts: data.counts, overlap: data.overlap.map(({ set, problems }) => ({ set, problems })), droppedForOverlap: data.droppedForOverlap, problems: data.problems.length },
    validation,
    training: {
      firstReward: steps[0]?.reward ?? 0,
      lastReward: last?.reward ?? 0,
      firstToolCallRate: steps[0]?.toolCallRate ?? 0,
      lastToolCallRate: last?.toolCallRate ?? 0,
      ...(Object.keys(mismatch).length > 0 ? { lastMismatch: mismatch } : {}),
    },
    backend,
  };
}

export function renderDatasetMarkdown(summary: DatasetRunSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = [
    `# Training run (recipe ${summary.recipe.name})`,
    '',
    `${summary.steps} steps in ${summary.minutes.toFixed(1)} minutes on the ${summary.backend} backend; ${summary.data.problems} training problems.`,
    `Mean reward ${summary.training.firstReward.toFixed(3)} (first step) → ${summary.training.lastReward.toFixed(3)} (last step).`,
    '',
    '## Data',
    '',
    '| dataset | loaded | kept |',
    '|---|---|---|',
    ...summary.data.counts.map((c) => `| ${c.name} (${c.spec}) | ${c.loaded} | ${c.kept} |`),
    '',
    ...summary.data.overlap.map((o) => `- ${o.problems} training problems also appear in ${o.set}.`),
    ...(summary.data.droppedForOverlap > 0 ? [`- ${summary.data.droppedForOverlap} overlapping problems were dropped.`] : []),
    '',
    '## Validation',
    '',
  ];
  const sets = Object.entries(summary.validation);
  if (sets.length === 0) lines.push('Validation was off (`--val-every 0`).');
  for (const [name, points] of sets) {
    lines.push(`### ${name}`, '', '| step | budget | accuracy (95% CI) |', '|---|---|---|');
    for (const p of points) lines.push(`| ${p.step} | ${p.budget} | ${pct(p.accuracy)} [${pct(p.ci95[0])}, ${pct(p.ci95[1])}] |`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
