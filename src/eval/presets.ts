/**
 * The preset benchmarks (loaded by src/datasets) in a run: the runner renders the item's prompt and the
 * grader calls the item's `grade`, so the harness never sees a record (and GPQA's text stays in the
 * item's closure). Also the redaction of prompt segments for benchmarks whose text must not be written out.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_JUDGE_OPTIONS, type BenchmarkGrade, type BenchmarkItem } from '../benchmarks/index.js';
import { CirError } from '../core/errors.js';
import type { CodeExecutor } from '../core/execution.js';
import type { Segment, Trajectory } from '../core/trajectory.js';
import type { Benchmark, PresetOptions } from '../datasets/index.js';
import { renderMessages, type PromptFormat, type ReasoningMode, type RenderedPrompt } from '../prompts/index.js';
import type { EvalSettings, PresetSettings } from './protocol.js';
import type { StoredVerdict } from './run-store.js';

/** What a preset ran with, for config.json: written once, compared on --resume. */
export function presetSettings(
  benchmark: Benchmark,
  settings: Pick<EvalSettings, 'mode' | 'problemLimit'>,
  options: PresetOptions & { storeConfidentialText: boolean; gradeAttempts: number },
): PresetSettings | undefined {
  const spec = benchmark.preset;
  if (!spec) return undefined;
  const problems = settings.problemLimit === null ? benchmark.problems : benchmark.problems.slice(0, settings.problemLimit);
  const items = problems.flatMap((p) => (p.item ? [p.item] : []));
  const confidential = spec.confidentialText === true;
  const preset: PresetSettings = {
    benchmark: spec.name,
    description: spec.description,
    promptMode: settings.mode,
    systemPrompt: items.some((item) => item.system !== undefined),
    confidential,
    storeConfidentialText: confidential && options.storeConfidentialText,
    gradeAttempts: options.gradeAttempts,
    caveats: spec.caveats(items),
  };
  if (spec.needsExecutor) {
    preset.judge = { timeoutMs: options.judge?.timeoutMs ?? DEFAULT_JUDGE_OPTIONS.timeoutMs, memoryMb: options.judge?.memoryMb ?? DEFAULT_JUDGE_OPTIONS.memoryMb };
    if (options.window) preset.window = options.window;
  }
  return preset;
}

/** The item's prompt in the run's mode and format. */
export function renderItemPrompt(item: BenchmarkItem, mode: ReasoningMode, format: PromptFormat): RenderedPrompt {
  return renderMessages(item.system?.(mode), item.prompt(mode), format);
}

/** A benchmark grade as stored in results.jsonl (`verdict`). */
export function storedGrade(grade: BenchmarkGrade): StoredVerdict {
  return {
    correct: grade.correct,
    reason: grade.reason,
    extracted: grade.extracted === '' ? null : grade.extracted,
    ...(grade.detail !== undefined ? { detail: grade.detail } : {}),
  };
}

/** The sandbox failed while grading, every attempt: the sample is not counted; --resume grades it again. */
export class GradingInfraError extends CirError {
  override readonly name: string = 'GradingInfraError';
  constructor(
    readonly problemId: string,
    readonly attempts: number,
  ) {
    super(`the sandbox failed while grading ${problemId} (${attempts} attempts); the sample is left for --resume`);
  }
}

/**
 * Grades with the item, retrying when the sandbox (not the program) failed. A verdict that is still
 * an infrastructure failure is thrown, so the runner stops without writing the sample and a resumed
 * run grades it again: a broken sandbox never turns into a wrong answer.
 */
export async function gradeItem(
  item: BenchmarkItem,
  responseText: string,
  context: { mode: ReasoningMode; executor?: CodeExecutor; signal?: AbortSignal; attempts: number },
): Promise<StoredVerdict> {
  const attempts = Math.max(1, context.attempts);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const grade = await item.grade(responseText, {
      mode: context.mode,
      ...(context.executor ? { executor: context.executor } : {}),
      ...(context.signal ? { signal: context.signal } : {}),
    });
    if (!grade.infraError) return { ...storedGrade(grade), ...(attempt > 1 ? { grade_attempts: attempt } : {}) };
    context.signal?.throwIfAborted();
  }
  throw new GradingInfraError(item.id, attempts);
}

export interface RedactedSegment extends Segment {
  redacted: { reason: string; tokens: number; chars: number; sha256: string };
}

/**
 * Replaces the prompt segments' text and token ids with a marker naming the problem id, keeping
 * their lengths and a SHA-256 of the text (to check two runs saw the same prompt). Model output is
 * left as it is.
 */
export function redactPrompt<T extends Trajectory>(trajectory: T, problemId: string, reason: string): T {
  const segments = trajectory.segments.map((segment): Segment => {
    if (segment.origin !== 'prompt') return segment;
    const redacted: RedactedSegment = {
      origin: 'prompt',
      tokens: [],
      text: `[prompt of ${problemId} withheld: ${reason}]`,
      redacted: {
        reason,
        tokens: segment.tokens.length,
        chars: segment.text.length,
        sha256: createHash('sha256').update(segment.text).digest('hex'),
      },
    };
    return redacted;
  });
  return { ...trajectory, segments };
}

/** Whether results of this benchmark must not hold its prompt text. */
export function withholdsPrompt(preset: PresetSettings | undefined): boolean {
  return preset !== undefined && preset.confidential && !preset.storeConfidentialText;
}
