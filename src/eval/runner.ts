/**
 * Runs the samples of an evaluation that are not yet in the results file, with bounded concurrency,
 * appending each record as soon as it is graded. Generation and grading sit behind two narrow
 * functions so the runner is independent of engines, tokenizers, the rollout loop and the grader.
 */
import { CirError } from '../core/errors.js';
import type { Trajectory } from '../core/trajectory.js';
import type { Benchmark, Problem } from '../datasets/index.js';
import type { RenderedPrompt } from '../prompts/index.js';
import { trajectoryStats } from './metrics.js';
import { redactPrompt, renderItemPrompt, withholdsPrompt } from './presets.js';
import { renderPrompt, sampleSeed, type BenchmarkSettings, type EvalSettings } from './protocol.js';
import { sampleKey, type ResultsWriter, type SampleRecord, type StoredVerdict } from './run-store.js';

export interface SampleTask {
  benchmark: BenchmarkSettings;
  problem: Problem;
  sample: number;
  seed: number;
  prompt: RenderedPrompt;
  settings: EvalSettings;
}

export interface SolveResult {
  trajectory: Trajectory;
  /** The model's response as the grader should read it (policy and tool text, prompt excluded). */
  responseText: string;
}

/** Produces one trajectory for one sample (rollout engine + sampling engine + executor). */
export type SolveFunction = (task: SampleTask, signal: AbortSignal) => Promise<SolveResult>;

/** Grades a response against the problem's reference (preset problems: through their item). */
export type GradeFunction = (problem: Problem, responseText: string, signal?: AbortSignal) => StoredVerdict | Promise<StoredVerdict>;

export interface RunProgress {
  done: number;
  total: number;
  correct: number;
}

export interface RunEvaluationOptions {
  benchmarks: readonly Benchmark[];
  settings: EvalSettings;
  solve: SolveFunction;
  grade: GradeFunction;
  writer: ResultsWriter;
  /** Records already in the results file: their samples are skipped. */
  existing: readonly SampleRecord[];
  concurrency: number;
  signal?: AbortSignal;
  onRecord?: (record: SampleRecord, progress: RunProgress) => void;
  /** Injectable clock for elapsed times. */
  now?: () => number;
}

export interface RunOutcome {
  total: number;
  skipped: number;
  completed: number;
  correct: number;
}

/**
 * A sample whose generation or grading failed, or whose trajectory an infrastructure failure touched
 * (the model engine or the sandbox gave out after its retries): it gets no record and no score. The run
 * stops, keeping every finished sample, so `--resume` runs exactly the unfinished ones again.
 */
export class SampleFailedError extends CirError {
  override readonly name: string = 'SampleFailedError';
  constructor(
    readonly benchmark: string,
    readonly problemId: string,
    readonly sample: number,
    cause: unknown,
  ) {
    super(
      `${benchmark} ${problemId} sample ${sample} failed: ${cause instanceof Error ? cause.message : String(cause)}. ` +
        'Not scored; finished samples are kept and --resume runs the unfinished ones again',
      { cause },
    );
  }
}

/** What the rollout recorded when an infrastructure failure ended a trajectory. */
export class InfrastructureFailure extends CirError {
  override readonly name: string = 'InfrastructureFailure';
}

export function listTasks(benchmarks: readonly Benchmark[], settings: EvalSettings): SampleTask[] {
  const tasks: SampleTask[] = [];
  for (const benchmark of benchmarks) {
    const benchmarkSettings = settings.benchmarks.find((b) => b.name === benchmark.name);
    if (!benchmarkSettings) throw new CirError(`no settings for benchmark ${benchmark.name}`);
    const problems = settings.problemLimit === null ? benchmark.problems : benchmark.problems.slice(0, settings.problemLimit);
    for (const problem of problems) {
      const prompt = problem.item ? renderItemPrompt(problem.item, settings.mode, settings.promptFormat) : renderPrompt(problem, settings);
      for (let sample = 0; sample < benchmarkSettings.samples; sample++) {
        tasks.push({
          benchmark: benchmarkSettings,
          problem,
          sample,
          seed: sampleSeed(settings.seed, benchmark.name, problem.id, sample),
          prompt,
          settings,
        });
      }
    }
  }
  return tasks;
}

export async function runEvaluation(options: RunEvaluationOptions): Promise<RunOutcome> {
  const now = options.now ?? (() => performance.now());
  const all = listTasks(options.benchmarks, options.settings);
  const done = new Set(options.existing.map((r) => sampleKey(r.benchmark, r.problem_id, r.sample)));
  const pending = all.filter((t) => !done.has(sampleKey(t.benchmark.name, t.problem.id, t.sample)));
  const progress: RunProgress = {
    done: all.length - pending.length,
    total: all.length,
    correct: options.existing.filter((r) => done.has(sampleKey(r.benchmark, r.problem_id, r.sample)) && r.correct).length,
  };
  const outcome: RunOutcome = { total: all.length, skipped: all.length - pending.length, completed: 0, correct: 0 };
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let next = 0;
  let failure: unknown;

  const worker = async (): Promise<void> => {
    while (failure === undefined && !controller.signal.aborted) {
      const task = pending[next++];
      if (!task) return;
      const started = now();
      let record: SampleRecord;
      try {
        const result = await options.solve(task, controller.signal);
        if (result.trajectory.infraFailure) throw new InfrastructureFailure(`infrastructure failure: ${result.trajectory.error ?? 'the sandbox failed after its retries'}`);
        const verdict = await options.grade(task.problem, result.responseText, controller.signal);
        // Statistics count the prompt before a confidential prompt is withheld from the record.
        const stats = trajectoryStats(result.trajectory);
        const trajectory = withholdsPrompt(task.benchmark.preset)
          ? redactPrompt(result.trajectory, task.problem.id, `${task.benchmark.name} problem text is confidential`)
          : result.trajectory;
        const groups = task.problem.item?.groups;
        record = {
          benchmark: task.benchmark.name,
          problem_id: task.problem.id,
          sample: task.sample,
          correct: verdict.correct,
          reference: task.problem.answer,
          ...(task.problem.subject !== undefined ? { subject: task.problem.subject } : {}),
          ...(task.problem.level !== undefined ? { level: task.problem.level } : {}),
          ...(groups !== undefined ? { groups: { ...groups } } : {}),
          seed: task.seed,
          verdict,
          stats,
          trajectory,
          elapsed_ms: Math.round(now() - started),
        };
      } catch (error) {
        if (controller.signal.aborted) return;
        failure ??= new SampleFailedError(task.benchmark.name, task.problem.id, task.sample, error);
        controller.abort(failure);
        return;
      }
      options.writer.append(record);
      outcome.completed += 1;
      progress.done += 1;
      if (record.correct) {
        outcome.correct += 1;
        progress.correct += 1;
      }
      options.onRecord?.(record, { ...progress });
    }
  };

  try {
    const workers = Array.from({ length: Math.max(1, Math.min(options.concurrency, pending.length)) }, () => worker());
    await Promise.all(workers);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (failure !== undefined) throw failure;
  return outcome;
}
