/**
 * The RL loop (the tinker-cookbook shape: prompts → rollouts → data → loss → update, each stage in
 * its own module). Per step: draw the step's prompts, roll out groups through the rollout engine
 * under the step's tool budget, grade (+1 / −1), keep infrastructure failures out of the gradient,
 * compute advantages over the step, and for each mini-batch run `forwardBackward` with the token
 * loss and `optimStep`. Held-out evaluation at the start, periodically and at the end; metrics
 * per step; checkpoints that `resume` continues from with the same result as an uninterrupted run.
 */
import { AbortedError, InputError, SessionLostError } from '../core/errors.js';
import { configDifferences, describeDifference } from '../core/config-diff.js';
import type { PolicyBackend, TrainingDatum } from '../core/policy.js';
import { formatFeedback, withReferenceSemantics } from '../interpreter/index.js';
import {
  balancedMicroBatches,
  budgetAt,
  buildTokenLoss,
  fillMissingLogprobs,
  logprobMismatch,
  miniBatchIndices,
  scaleTokenLoss,
  prepareStep,
  rolloutMetrics,
  selectLossBatchRows,
  selectRows,
  type PreparedStep,
  type TokenLossBatch,
} from '../rl/index.js';
import { validateTrainConfig, type TrainConfig } from './config.js';
import { evaluateHeldOut, type EvalResult } from './evaluate.js';
import { encodePrompt, epochBatch, type PromptEncoder, type TrainingData, type TrainingProblem, type ValidationSet } from './data.js';
import { heldOutTasks, promptsForStep, trainingPool } from './problems.js';
import { fitToContext, rolloutGroups, type RolloutDeps } from './rollouts.js';
import { heldOutValidationSet, validate, type ValidationRecord } from './validation.js';
import { RunStore, type EvaluationLabel, type EvaluationRecord, type RunState, type StepRecord } from './run-store.js';
import { renderHtml, renderMarkdown } from './report.js';
import { deriveSeed, SEED_PURPOSE } from './seeds.js';
import { buildDatasetSummary, buildSummary, renderDatasetMarkdown, type DatasetRunSummary, type RunSummary } from './summary.js';

export interface TrainerDeps extends Omit<RolloutDeps, 'engine'> {
  /** The policy: sampled through the rollout engine, trained through forwardBackward/optimStep. */
  backend: PolicyBackend;
  /** Reference policy for a KL term (`rl.loss.klCoef` > 0); the paper has none. */
  reference?: PolicyBackend;
  /** Dataset runs: the problems and validation sets (`loadTrainingData`). */
  data?: TrainingData;
  /** The policy's tokenizer with its chat template, for chat prompts; default `tokenizer` (plain prompts only). */
  promptEncoder?: PromptEncoder;
}

export type TrainEvent =
  | { type: 'resumed'; step: number; checkpoint: string | null }
  /** The policy's session was lost (`reason`) and reopened: the run goes on after `step` from `checkpoint`. */
  | { type: 'recovered'; step: number; checkpoint: string | null; reason: string }
  /** `budget`: the evaluation's fixed budget, or the current training budget (validation). */
  | { type: 'evaluation-start'; step: number; label: EvaluationLabel; tools: boolean; tasks: number; budget: number | 'current' }
  | { type: 'evaluation-progress'; done: number; total: number }
  | { type: 'evaluation'; record: EvaluationRecord }
  | { type: 'validation'; record: ValidationRecord }
  | { type: 'rollout-progress'; step: number; done: number; total: number }
  | { type: 'step'; record: StepRecord; totalSteps: number }
  | { type: 'checkpoint'; step: number; path: string };

export interface TrainOptions {
  /** The run directory. */
  out: string;
  /** Continue from `out/state.json`; a directory without one starts fresh. */
  resume?: boolean;
  /** Stop (with a checkpoint) once this many steps are complete, as an interruption would. */
  stopAfter?: number;
  signal?: AbortSignal;
  onEvent?: (event: TrainEvent) => void;
}

export interface TrainResult {
  completedSteps: number;
  /** True when `stopAfter` ended the run before its last step (no end evaluation). */
  stopped: boolean;
  evaluations: EvaluationRecord[];
  elapsedMs: number;
  store: RunStore;
  /** The summary written to summary.json (absent when stopped early). */
  summary?: RunSummary;
  /** A dataset run's summary (validation curves instead of held-out task accuracy). */
  datasetSummary?: DatasetRunSummary;
}

/** The paper's interpreter semantics when the recipe asks for them; the caller's otherwise. */
function interpreterDeps(config: TrainConfig, deps: TrainerDeps): Pick<RolloutDeps, 'executor' | 'formatFeedback'> {
  if (config.interpreter !== 'reference') return { ...(deps.executor ? { executor: deps.executor } : {}), formatFeedback: deps.formatFeedback };
  return {
    ...(deps.executor ? { executor: withReferenceSemantics(deps.executor) } : {}),
    formatFeedback: (outcome) => formatFeedback(outcome, { emptyOutput: 'reference' }),
  };
}

/** Lost sessions reopened within one run before the run fails (each redoes the steps after the last checkpoint). */
export const MAX_SESSION_RECOVERIES = 3;

/** Runs (or resumes) a training run; writes config, metrics, checkpoints and state under `options.out`. */
export async function runTraining(config: TrainConfig, deps: TrainerDeps, options: TrainOptions): Promise<TrainResult> {
  validateTrainConfig(config);
  if (config.tools && !deps.executor) throw new InputError('an interpreter (executor) is required when tools are on', 'executor');
  if (config.rl.loss.klCoef > 0 && !deps.reference) throw new InputError('a KL term needs a reference policy', 'rl.loss.klCoef');
  let sessionStart = performance.now();
  const emit = options.onEvent ?? (() => {});
  const store = new RunStore(options.out);
  let state: RunState = { version: 1, completedSteps: 0, checkpoint: null, evaluations: [], elapsedMs: 0 };
  const previous = options.resume ? store.readState() : null;
  if (previous) {
    const stored = store.readConfig();
    const differences = configDifferences(stored, JSON.parse(JSON.stringify(config)));
    if (differences.length > 0) {
      throw new InputError(`the run was started with a different configuration (${differences.map(describeDifference).join('; ')}); resume with the same flags`, store.path('config.json'));
    }
    state = previous;
    if (state.checkpoint !== null) await deps.backend.load(state.checkpoint);
    store.truncateMetrics(state.completedSteps, state.evaluations, state.validations ?? []);
    emit({ type: 'resumed', step: state.completedSteps, checkpoint: state.checkpoint });
  } else {
    store.reset();
    store.writeConfig(config);
  }
  const elapsed = () => state.elapsedMs + (performance.now() - sessionStart);
  const saveState = () => store.writeState({ ...state, elapsedMs: elapsed() });

  const datasetRun = config.data.kind === 'dataset';
  if (datasetRun && !deps.data) throw new InputError('a dataset run needs its loaded data (loadTrainingData)', 'data');
  const pool: readonly TrainingProblem[] = datasetRun ? deps.data!.problems : trainingPool(config);
  const heldOut = datasetRun ? [] : heldOutTasks(config);
  const rolloutDeps: RolloutDeps = { ...deps, engine: deps.backend, ...interpreterDeps(config, deps) };
  const rl = config.rl;
  const encoder = deps.promptEncoder ?? deps.tokenizer;
  const promptOf = (problem: TrainingProblem) => encodePrompt(problem, config.prompt, encoder, rl.rollout.maxPromptTokens).tokens;
  // Dataset runs validate on their sets; generated-task runs on the held-out tasks, at the current budget
  // beside the fixed-budget evaluation (the paper's Figure 3 dips show in the first, not the second).
  const validationSets: readonly ValidationSet[] =
    config.validation.every === 0 ? [] : datasetRun ? (deps.data?.validation ?? []) : [heldOutValidationSet(heldOut)];
  const validationOn = validationSets.length > 0;
  const runValidation = async (label: ValidationRecord['label']): Promise<ValidationRecord> => {
    const step = state.completedSteps;
    emit({ type: 'evaluation-start', step, label, tools: config.tools, tasks: validationSets.reduce((sum, set) => sum + set.problems.length * set.samples, 0), budget: 'current' });
    const record = await validate(rolloutDeps, validationSets, step, label, {
      settings: config.validation,
      // The current budget: the one the next training step uses (the paper's Figure 3 dips follow it).
      budget: config.tools ? budgetAt(Math.min(step, rl.totalSteps - 1), rl.budget) : 0,
      seed: rl.seed,
      tools: config.tools,
      maxResponseTokens: rl.rollout.maxResponseTokens,
      executionTimeoutMs: config.executionTimeoutMs,
      promptOf,
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (done, total) => emit({ type: 'evaluation-progress', done, total }),
    });
    (state.validations ??= []).push(record);
    store.appendMetrics(record);
    emit({ type: 'validation', record });
    return record;
  };

  const evaluate = async (label: EvaluationLabel, tools: boolean): Promise<EvaluationRecord> => {
    const step = state.completedSteps;
    emit({ type: 'evaluation-start', step, label, tools, tasks: heldOut.length * config.eval.samples, budget: config.eval.toolBudget });
    const result: EvalResult = await evaluateHeldOut(rolloutDeps, heldOut, {
      settings: config.eval,
      tools,
      maxResponseTokens: rl.rollout.maxResponseTokens,
      maxPromptTokens: rl.rollout.maxPromptTokens,
      executionTimeoutMs: config.executionTimeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (done, total) => emit({ type: 'evaluation-progress', done, total }),
    });
    const record: EvaluationRecord = { kind: 'eval', step, label, result };
    state.evaluations.push(record);
    store.appendMetrics(record);
    emit({ type: 'evaluation', record });
    return record;
  };
  // The comparison without the interpreter is only meaningful when training uses it.
  const evaluateAll = async (label: EvaluationLabel): Promise<EvaluationRecord> => {
    const main = await evaluate(label, config.tools);
    if (config.tools && config.eval.withoutTools && label !== 'periodic') await evaluate(label, false);
    return main;
  };

  /** The start or end evaluation and validation, each unless the state has it already. */
  const evaluateOnce = async (label: 'start' | 'end'): Promise<void> => {
    if (!datasetRun && !state.evaluations.some((record) => record.label === label)) {
      await evaluateAll(label);
      saveState();
    }
    if (validationOn && !(state.validations ?? []).some((record) => record.label === label)) {
      await runValidation(label);
      saveState();
    }
  };

  /** Start evaluations, the steps and end evaluations, each skipped when the state says it is done; a result when stopped early. */
  const advance = async (): Promise<TrainResult | undefined> => {
    await evaluateOnce('start');

    while (state.completedSteps < rl.totalSteps) {
      if (options.signal?.aborted) throw new AbortedError(`training was stopped after step ${state.completedSteps}; --resume continues it`);
      const stepStarted = performance.now();
      const stepIndex = state.completedSteps;
      const record = await trainStep(config, deps, rolloutDeps, pool, stepIndex, (done, total) => emit({ type: 'rollout-progress', step: stepIndex, done, total }), options.signal);
      state.completedSteps = stepIndex + 1;
      const completed = state.completedSteps;
      const evalStarted = performance.now();
      if (validationOn && completed % config.validation.every === 0 && completed < rl.totalSteps) {
        const validation = await runValidation('periodic');
        record.validation = Object.fromEntries(Object.entries(validation.sets).map(([name, figure]) => [name, figure.accuracy]));
      }
      if (!datasetRun && config.eval.every > 0 && completed % config.eval.every === 0 && completed < rl.totalSteps) {
        const evaluation = await evaluateAll('periodic');
        record.heldOutAccuracy = evaluation.result.accuracy;
        record.heldOutCi95 = evaluation.result.ci95;
      }
      record.timings.evalMs = performance.now() - evalStarted;
      record.timings.stepMs = performance.now() - stepStarted;
      store.appendMetrics(record);
      emit({ type: 'step', record, totalSteps: rl.totalSteps });
      const stopping = options.stopAfter !== undefined && completed >= options.stopAfter && completed < rl.totalSteps;
      if ((config.checkpointEvery > 0 && completed % config.checkpointEvery === 0) || completed === rl.totalSteps || stopping) {
        const path = await deps.backend.save(`step-${String(completed).padStart(5, '0')}`);
        state.checkpoint = path;
        saveState();
        emit({ type: 'checkpoint', step: completed, path });
      }
      if (stopping) return { completedSteps: completed, stopped: true, evaluations: state.evaluations, elapsedMs: elapsed(), store };
    }

    await evaluateOnce('end');
    return undefined;
  };

  // A remote policy whose session is lost is reopened at the last checkpoint and the run goes on from there, as
  // --resume would: the steps after that checkpoint are done again with the same seeds.
  for (let recoveries = 0; ; recoveries++) {
    try {
      const stopped = await advance();
      if (stopped) return stopped;
      break;
    } catch (error) {
      if (!(error instanceof SessionLostError) || !deps.backend.recover || recoveries >= MAX_SESSION_RECOVERIES || options.signal?.aborted) throw error;
      const saved = store.readState() ?? { version: 1, completedSteps: 0, checkpoint: null, evaluations: [], elapsedMs: 0 };
      const reopened = await deps.backend.recover();
      if (saved.checkpoint !== null && reopened !== saved.checkpoint) await deps.backend.load(saved.checkpoint);
      await deps.reference?.recover?.();
      state = { ...saved, elapsedMs: elapsed() }; // the lost work's time counts too
      sessionStart = performance.now();
      store.truncateMetrics(state.completedSteps, state.evaluations, state.validations ?? []);
      emit({ type: 'recovered', step: state.completedSteps, checkpoint: saved.checkpoint, reason: error.message });
    }
  }
  const steps = store.readMetrics().filter((line): line is StepRecord => line.kind === 'step');
  if (datasetRun) {
    const summary = buildDatasetSummary(config, state.validations ?? [], steps, elapsed(), deps.backend.name, deps.data!);
    store.writeJson('summary.json', summary);
    store.writeText('report.md', renderDatasetMarkdown(summary));
    return { completedSteps: state.completedSteps, stopped: false, evaluations: state.evaluations, elapsedMs: elapsed(), store, datasetSummary: summary };
  }
  const summary = buildSummary(config, state.evaluations, steps, elapsed(), deps.backend.name, state.validations ?? []);
  store.writeJson('summary.json', summary);
  store.writeText('report.md', renderMarkdown(summary, steps));
  store.writeText('report.html', renderHtml(summary, steps));
  return { completedSteps: state.completedSteps, stopped: false, evaluations: state.evaluations, elapsedMs: elapsed(), store, summary };
}

/** One training step; returns its metrics record (timings of evaluation filled by the caller). */
export async function trainStep(
  config: TrainConfig,
  deps: TrainerDeps,
  rolloutDeps: RolloutDeps,
  pool: readonly TrainingProblem[],
  stepIndex: number,
  onRolloutProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<StepRecord> {
  const rl = config.rl;
  const budget = budgetAt(stepIndex, rl.budget);
  const tasks = config.data.kind === 'dataset' ? epochBatch(pool, rl.seed, stepIndex, rl.promptsPerStep) : promptsForStep(pool, rl.seed, stepIndex, rl.promptsPerStep);
  const encoder = deps.promptEncoder ?? deps.tokenizer;
  let promptsTruncated = 0;
  const prompts = new Map(
    tasks.map((task) => {
      const encoded = encodePrompt(task, config.prompt, encoder, rl.rollout.maxPromptTokens);
      if (encoded.truncated > 0) promptsTruncated++;
      return [task, encoded.tokens] as const;
    }),
  );
  const rolloutStarted = performance.now();
  const total = tasks.length * rl.groupSize;
  let done = 0;
  const groups = await rolloutGroups(rolloutDeps, tasks, {
    groupSize: rl.groupSize,
    toolBudget: budget,
    tools: config.tools,
    boundary: config.boundary,
    temperature: rl.rollout.temperature,
    topP: rl.rollout.topP,
    topK: rl.rollout.topK,
    maxResponseTokens: rl.rollout.maxResponseTokens,
    executionTimeoutMs: config.executionTimeoutMs,
    promptOf: (task) => prompts.get(task)!,
    seedOf: (taskIndex) => deriveSeed(rl.seed, SEED_PURPOSE.rollout, stepIndex, taskIndex),
    ...(signal ? { signal } : {}),
    onTrajectory: () => onRolloutProgress?.(++done, total),
  });
  const graded = groups.flat();
  const rolloutStats = rolloutMetrics(graded);
  let truncated = 0;
  const items = graded.map((item) => {
    const fitted = fitToContext(item.trajectory, deps.backend.contextWindow);
    if (fitted.truncated) truncated++;
    return { trajectory: fitted.trajectory, reward: item.reward, groupId: item.group };
  });
  const rolloutMs = performance.now() - rolloutStarted;

  const updateStarted = performance.now();
  const prepared = prepareStep(items, rl);
  const updateStats = prepared.data.length > 0 ? await update(config, deps, prepared) : { 'update/skipped': 1 };
  const valid = graded.filter((item) => !item.trajectory.infraFailure);
  return {
    kind: 'step',
    step: stepIndex + 1,
    budget,
    reward: rolloutStats['rollout/rewardMean'] ?? 0,
    trainAccuracy: valid.length > 0 ? valid.filter((item) => item.correct).length / valid.length : 0,
    toolCallRate: rolloutStats['rollout/toolCallRate'] ?? 0,
    toolTokenShare: rolloutStats['rollout/toolTokenShare'] ?? 0,
    executionErrorRate: rolloutStats['rollout/executionErrorRate'] ?? 0,
    timings: { rolloutMs, updateMs: performance.now() - updateStarted, evalMs: 0, stepMs: 0 },
    metrics: { ...rolloutStats, ...prepared.metrics, 'data/truncatedToContext': truncated, 'data/promptsLeftTruncated': promptsTruncated, ...updateStats },
  };
}

/** True when some trained target has no old log-prob (masking off, or an engine without log-probs). */
function needsRecomputedLogprobs(batch: PreparedStep['lossBatch']): boolean {
  return batch.samplingLogprobs_B_T.some((row, b) => {
    const mask = batch.lossMask_B_T[b]!;
    for (let t = 0; t < row.length; t++) if (mask[t]! > 0 && Number.isNaN(row[t]!)) return true;
    return false;
  });
}

/** Row groups of one mini-batch, each with its weight: micro-batches by tokens (the reference), or the whole mini-batch. */
function microBatchesOf(data: readonly TrainingDatum[], rows: readonly number[], microBatchTokens: number | null): { rows: number[]; weight: number }[] {
  if (microBatchTokens === null) return [{ rows: [...rows], weight: 1 }];
  const parts = balancedMicroBatches(rows.map((row) => data[row]!.tokens.length), microBatchTokens);
  return parts.map((part) => ({ rows: part.map((i) => rows[i]!), weight: part.length / rows.length }));
}

/**
 * The gradient updates of one step: epochs × mini-batches, each a sum of micro-batch forwardBackward
 * calls (token-mean within a micro-batch, weighted by its share of sequences), then one optimStep.
 */
async function update(config: TrainConfig, deps: TrainerDeps, prepared: PreparedStep): Promise<Record<string, number>> {
  const rl = config.rl;
  const lossBatch: TokenLossBatch = { ...prepared.lossBatch };
  let recomputed = 0;
  let mismatch: Record<string, number> = {};
  if (rl.oldLogprobs === 'recompute') {
    // The paper's π_old: the trainer's own forward pass over the step's data before any update. The
    // sampler's log-probs stay only as a measure of how far the sampler is from the trainer.
    const trainer = await deps.backend.forward(prepared.data);
    mismatch = logprobMismatch(prepared.lossBatch.samplingLogprobs_B_T, trainer, prepared.lossBatch.lossMask_B_T);
    lossBatch.samplingLogprobs_B_T = trainer;
    recomputed = 1;
  } else if (needsRecomputedLogprobs(prepared.lossBatch)) {
    lossBatch.samplingLogprobs_B_T = fillMissingLogprobs(prepared.lossBatch.samplingLogprobs_B_T, await deps.backend.forward(prepared.data));
    recomputed = 1;
  }
  if (rl.loss.klCoef > 0) lossBatch.referenceLogprobs_B_T = await deps.reference!.forward(prepared.data);
  const sums: Record<string, number> = {};
  let updates = 0;
  let microBatches = 0;
  for (let epoch = 0; epoch < rl.epochsPerStep; epoch++) {
    for (const rows of miniBatchIndices(prepared.groupIds_B, rl.miniBatchesPerStep)) {
      const lossSums: Record<string, number> = {};
      let lossValue = 0;
      const parts = microBatchesOf(prepared.data, rows, rl.microBatchTokens);
      for (const part of parts) {
        const loss = scaleTokenLoss(buildTokenLoss(selectLossBatchRows(lossBatch, part.rows), rl.loss), part.weight);
        const result = await deps.backend.forwardBackward(selectRows(prepared.data, part.rows), loss);
        lossValue += result.loss;
        for (const [name, value] of Object.entries(result.metrics)) lossSums[name] = (lossSums[name] ?? 0) + value * part.weight;
        microBatches++;
      }
      const { gradNorm } = await deps.backend.optimStep(rl.optimizer);
      for (const [name, value] of Object.entries({ ...lossSums, 'optim/gradNorm': gradNorm, 'loss/value': lossValue })) {
        sums[name] = (sums[name] ?? 0) + value;
      }
      updates++;
    }
  }
  const means: Record<string, number> = {};
  for (const [name, value] of Object.entries(sums)) means[name] = value / updates;
  return {
    ...means,
    ...mismatch,
    'update/optimizerSteps': updates,
    'update/microBatches': microBatches,
    'update/recomputedLogprobs': recomputed,
    'optim/learningRate': rl.optimizer.learningRate,
  };
}
