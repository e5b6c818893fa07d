/**
 * The RL loop (the tinker-cookbook shape: prompts → rollouts → data → loss → update, each stage in
 * its own module). Per step: draw the step's prompts, roll out groups through the rollout engine
 * under the step's tool budget, grade (+1 / −1), keep infrastructure failures out of the gradient,
 * compute advantages over the step, and for each mini-batch run `forwardBackward` with the token
 * loss and `optimStep`. Held-out evaluation at the start, periodically and at the end; metrics
 * per step; checkpoints that `resume` continues from with the same result as an uninterrupted run.
 */
import { AbortedError, InputError } from '../core/errors.js';
import { configDifferences, describeDifference } from '../core/config-diff.js';
import type { PolicyBackend, TokenLossFunction } from '../core/policy.js';
import {
  budgetAt,
  buildTokenLoss,
  fillMissingLogprobs,
  miniBatchIndices,
  prepareStep,
  rolloutMetrics,
  selectLossBatchRows,
  selectRows,
  type PreparedStep,
  type TokenLossBatch,
} from '../rl/index.js';
import { validateTrainConfig, type TrainConfig } from './config.js';
import { evaluateHeldOut, type EvalResult } from './evaluate.js';
import { heldOutTasks, promptsForStep, trainingPool, type Task } from './problems.js';
import { fitToContext, rolloutGroups, type RolloutDeps } from './rollouts.js';
import { RunStore, type EvaluationLabel, type EvaluationRecord, type RunState, type StepRecord } from './run-store.js';
import { renderHtml, renderMarkdown } from './report.js';
import { deriveSeed, SEED_PURPOSE } from './seeds.js';
import { buildSummary, type RunSummary } from './summary.js';

export interface TrainerDeps extends Omit<RolloutDeps, 'engine'> {
  /** The policy: sampled through the rollout engine, trained through forwardBackward/optimStep. */
  backend: PolicyBackend;
  /** Reference policy for a KL term (`rl.loss.klCoef` > 0); the paper has none. */
  reference?: PolicyBackend;
}

export type TrainEvent =
  | { type: 'resumed'; step: number; checkpoint: string | null }
  | { type: 'evaluation-start'; step: number; label: EvaluationLabel; tools: boolean; tasks: number }
  | { type: 'evaluation-progress'; done: number; total: number }
  | { type: 'evaluation'; record: EvaluationRecord }
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
}

/** Runs (or resumes) a training run; writes config, metrics, checkpoints and state under `options.out`. */
export async function runTraining(config: TrainConfig, deps: TrainerDeps, options: TrainOptions): Promise<TrainResult> {
  validateTrainConfig(config);
  if (config.tools && !deps.executor) throw new InputError('an interpreter (executor) is required when tools are on', 'executor');
  if (config.rl.loss.klCoef > 0 && !deps.reference) throw new InputError('a KL term needs a reference policy', 'rl.loss.klCoef');
  const sessionStart = performance.now();
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
    store.truncateMetrics(state.completedSteps, state.evaluations);
    emit({ type: 'resumed', step: state.completedSteps, checkpoint: state.checkpoint });
  } else {
    store.reset();
    store.writeConfig(config);
  }
  const elapsed = () => state.elapsedMs + (performance.now() - sessionStart);
  const saveState = () => store.writeState({ ...state, elapsedMs: elapsed() });

  const pool = trainingPool(config);
  const heldOut = heldOutTasks(config);
  const rolloutDeps: RolloutDeps = { ...deps, engine: deps.backend };
  const rl = config.rl;

  const evaluate = async (label: EvaluationLabel, tools: boolean): Promise<EvaluationRecord> => {
    const step = state.completedSteps;
    emit({ type: 'evaluation-start', step, label, tools, tasks: heldOut.length });
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

  if (!state.evaluations.some((record) => record.label === 'start')) {
    await evaluateAll('start');
    saveState();
  }

  while (state.completedSteps < rl.totalSteps) {
    if (options.signal?.aborted) throw new AbortedError(`training was stopped after step ${state.completedSteps}; --resume continues it`);
    const stepStarted = performance.now();
    const stepIndex = state.completedSteps;
    const record = await trainStep(config, deps, rolloutDeps, pool, stepIndex, (done, total) => emit({ type: 'rollout-progress', step: stepIndex, done, total }), options.signal);
    state.completedSteps = stepIndex + 1;
    const completed = state.completedSteps;
    const evalStarted = performance.now();
    if (config.eval.every > 0 && completed % config.eval.every === 0 && completed < rl.totalSteps) {
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

  if (!state.evaluations.some((record) => record.label === 'end')) {
    await evaluateAll('end');
    saveState();
  }
  const steps = store.readMetrics().filter((line): line is StepRecord => line.kind === 'step');
  const summary = buildSummary(config, state.evaluations, steps, elapsed(), deps.backend.name);
  store.writeJson('summary.json', summary);
  store.writeText('report.md', renderMarkdown(summary));
  store.writeText('report.html', renderHtml(summary, steps));
  return { completedSteps: state.completedSteps, stopped: false, evaluations: state.evaluations, elapsedMs: elapsed(), store, summary };
}

/** One training step; returns its metrics record (timings of evaluation filled by the caller). */
export async function trainStep(
  config: TrainConfig,
  deps: TrainerDeps,
  rolloutDeps: RolloutDeps,
  pool: readonly Task[],
  stepIndex: number,
  onRolloutProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<StepRecord> {
  const rl = config.rl;
  const budget = budgetAt(stepIndex, rl.budget);
  const tasks = promptsForStep(pool, rl.seed, stepIndex, rl.promptsPerStep);
  const rolloutStarted = performance.now();
  const total = tasks.length * rl.groupSize;
  let done = 0;
  const groups = await rolloutGroups(rolloutDeps, tasks, {
    groupSize: rl.groupSize,
    toolBudget: budget,
    tools: config.tools,
    temperature: rl.rollout.temperature,
    topP: rl.rollout.topP,
    topK: rl.rollout.topK,
    maxResponseTokens: rl.rollout.maxResponseTokens,
    maxPromptTokens: rl.rollout.maxPromptTokens,
    executionTimeoutMs: config.executionTimeoutMs,
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
    metrics: { ...rolloutStats, ...prepared.metrics, 'data/truncatedToContext': truncated, ...updateStats },
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

/** The gradient updates of one step: epochs × mini-batches of forwardBackward + optimStep. */
async function update(config: TrainConfig, deps: TrainerDeps, prepared: PreparedStep): Promise<Record<string, number>> {
  const rl = config.rl;
  const lossBatch: TokenLossBatch = { ...prepared.lossBatch };
  let recomputed = 0;
  if (needsRecomputedLogprobs(prepared.lossBatch)) {
    // The paper recomputes old log-probs with the actor; here only where sampling gave none.
    lossBatch.samplingLogprobs_B_T = fillMissingLogprobs(prepared.lossBatch.samplingLogprobs_B_T, await deps.backend.forward(prepared.data));
    recomputed = 1;
  }
  if (rl.loss.klCoef > 0) lossBatch.referenceLogprobs_B_T = await deps.reference!.forward(prepared.data);
  const sums: Record<string, number> = {};
  let updates = 0;
  for (let epoch = 0; epoch < rl.epochsPerStep; epoch++) {
    for (const rows of miniBatchIndices(prepared.groupIds_B, rl.miniBatchesPerStep)) {
      const loss: TokenLossFunction = buildTokenLoss(selectLossBatchRows(lossBatch, rows), rl.loss);
      const result = await deps.backend.forwardBackward(selectRows(prepared.data, rows), loss);
      const { gradNorm } = await deps.backend.optimStep(rl.optimizer);
      for (const [name, value] of Object.entries({ ...result.metrics, 'optim/gradNorm': gradNorm, 'loss/value': result.loss })) {
        sums[name] = (sums[name] ?? 0) + value;
      }
      updates++;
    }
  }
  const means: Record<string, number> = {};
  for (const [name, value] of Object.entries(sums)) means[name] = value / updates;
  return { ...means, 'update/optimizerSteps': updates, 'update/recomputedLogprobs': recomputed, 'optim/learningRate': rl.optimizer.learningRate };
}
