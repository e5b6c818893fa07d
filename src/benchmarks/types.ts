/**
 * The narrow interface between the evaluation harness and a benchmark. A benchmark turns a file
 * into items; each item knows how to render its prompt and grade a response, so the harness never
 * sees a benchmark's record type (and GPQA's question text never leaves the item's closure).
 */
import type { CodeExecutor } from '../core/execution.js';
import type { ReasoningMode } from '../prompts/index.js';

export interface GradeContext {
  mode: ReasoningMode;
  /** Needed by benchmarks graded by running programs (LiveCodeBench). */
  executor?: CodeExecutor;
  signal?: AbortSignal;
}

export interface BenchmarkGrade {
  correct: boolean;
  /** The final answer (or program) taken from the response; empty when none was found. */
  extracted: string;
  /** Short machine-readable reason, e.g. `numeric`, `letter`, `wrong_answer`, `no-answer`. */
  reason: string;
  /** True when the sandbox (not the program or the model) failed: retry, do not count. */
  infraError?: boolean;
  /** Benchmark-specific detail that reports may show (never question text). */
  detail?: Readonly<Record<string, unknown>>;
}

export interface BenchmarkItem {
  readonly id: string;
  /** Breakdown keys for metrics, e.g. `{ difficulty: 'easy', month: '2024-08' }`. */
  readonly groups: Readonly<Record<string, string>>;
  /** The reference answer as reports may show it (a letter for GPQA); absent when graded by tests. */
  readonly reference?: string;
  /** A system message the benchmark's authors use, when they use one. */
  system?(mode: ReasoningMode): string;
  /** The user message for this problem in the given mode. */
  prompt(mode: ReasoningMode): string;
  grade(responseText: string, context: GradeContext): Promise<BenchmarkGrade>;
}

export interface BenchmarkSpec {
  readonly name: string;
  readonly description: string;
  /** File name inside the datasets directory when the benchmark is named rather than given as a path. */
  readonly defaultFile: string;
  /** True when grading runs programs and needs `GradeContext.executor`. */
  readonly needsExecutor: boolean;
  /**
   * The problem text must not be written anywhere by default (GPQA's authors ask that it not be
   * published): the harness should store ids instead of prompts, and redact prompt segments.
   */
  readonly confidentialText?: boolean;
  load(path: string): Promise<BenchmarkItem[]>;
  /**
   * Caveats that must be written into the run and every report for these items
   * (e.g. LiveCodeBench graded on public tests only). Empty when there are none.
   */
  caveats(items: readonly BenchmarkItem[]): string[];
}
