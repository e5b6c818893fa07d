/**
 * Pure metric functions: per-problem estimators (avg@k, unbiased pass@k, maj@k), seeded bootstrap
 * intervals, and per-trajectory statistics (tokens, tool calls, execution outcomes, error feedback).
 */
import { EXECUTION_OUTCOME_KINDS, type ExecutionOutcomeKind } from '../core/execution.js';
import type { Trajectory, TrajectoryStatus } from '../core/trajectory.js';
import { seededRandom } from '../core/rng.js';

/** Binomial coefficient ratio form of the unbiased pass@k estimator: 1 - C(n-c, k) / C(n, k). */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k) || n < 1 || c < 0 || c > n || k < 1 || k > n) {
    throw new RangeError(`passAtK needs integers 1 ≤ k ≤ n and 0 ≤ c ≤ n, got n=${n} c=${c} k=${k}`);
  }
  if (n - c < k) return 1;
  // C(n-c,k)/C(n,k) = prod_{i=n-c+1}^{n} (1 - k/i): numerically stable for n in the thousands.
  let ratio = 1;
  for (let i = n - c + 1; i <= n; i++) ratio *= 1 - k / i;
  return 1 - ratio;
}

/** Mean of correctness over the samples: avg@n (equals the expected pass@1). */
export function avgAtK(correct: readonly boolean[]): number {
  if (correct.length === 0) throw new RangeError('avgAtK needs at least one sample');
  return correct.filter(Boolean).length / correct.length;
}

export interface AnsweredSample {
  sample: number;
  /** Normalised extracted answer; null when none was found (never counts as a vote). */
  answer: string | null;
  correct: boolean;
}

/**
 * Majority vote over the first k samples (by sample index). The winning answer is the most frequent
 * non-null one, ties broken by the earliest sample; it is correct when a sample that gave it was graded
 * correct. No answer at all counts as wrong.
 */
export function majAtK(samples: readonly AnsweredSample[], k: number): boolean {
  if (k < 1 || k > samples.length) throw new RangeError(`majAtK needs 1 ≤ k ≤ ${samples.length}, got ${k}`);
  const firstK = [...samples].sort((a, b) => a.sample - b.sample).slice(0, k);
  const votes = new Map<string, { count: number; first: number; correct: boolean }>();
  for (const [position, s] of firstK.entries()) {
    if (s.answer === null) continue;
    const vote = votes.get(s.answer) ?? { count: 0, first: position, correct: false };
    vote.count += 1;
    vote.correct ||= s.correct;
    votes.set(s.answer, vote);
  }
  let best: { count: number; first: number; correct: boolean } | undefined;
  for (const vote of votes.values()) {
    if (!best || vote.count > best.count || (vote.count === best.count && vote.first < best.first)) best = vote;
  }
  return best?.correct ?? false;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}


export interface Interval {
  estimate: number;
  low: number;
  high: number;
  /** Confidence level, e.g. 0.95. */
  level: number;
}

export interface BootstrapOptions {
  resamples?: number;
  level?: number;
  seed?: number;
}

/** The q-quantile of sorted values, interpolated linearly. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const a = sorted[lower] ?? Number.NaN;
  const b = sorted[upper] ?? Number.NaN;
  return a + (b - a) * (position - lower);
}

/** Percentile bootstrap of the mean over units (problems), resampled with replacement. */
export function bootstrapMean(values: readonly number[], options: BootstrapOptions = {}): Interval {
  const { resamples = 2000, level = 0.95, seed = 1 } = options;
  const estimate = mean(values);
  if (values.length === 0) return { estimate, low: Number.NaN, high: Number.NaN, level };
  const random = seededRandom(seed);
  const means: number[] = new Array<number>(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < values.length; i++) sum += values[Math.floor(random() * values.length)] ?? 0;
    means[r] = sum / values.length;
  }
  means.sort((a, b) => a - b);
  return { estimate, low: percentile(means, (1 - level) / 2), high: percentile(means, 1 - (1 - level) / 2), level };
}

export interface PairedDifference extends Interval {
  /** Share of resamples where the difference has the opposite sign of the estimate (or is 0), doubled: a two-sided bootstrap p-value. */
  pValue: number;
  pairs: number;
}

/** Paired bootstrap of mean(b - a) over matched units (the same problems in two runs). */
export function pairedBootstrap(a: readonly number[], b: readonly number[], options: BootstrapOptions = {}): PairedDifference {
  if (a.length !== b.length) throw new RangeError(`pairedBootstrap needs equal lengths, got ${a.length} and ${b.length}`);
  const differences = a.map((x, i) => (b[i] ?? Number.NaN) - x);
  const interval = bootstrapMean(differences, options);
  const { resamples = 2000, seed = 1 } = options;
  // Recompute the resampled means with the same seed to count sign flips.
  const random = seededRandom(seed);
  let opposite = 0;
  for (let r = 0; r < resamples && differences.length > 0; r++) {
    let sum = 0;
    for (let i = 0; i < differences.length; i++) sum += differences[Math.floor(random() * differences.length)] ?? 0;
    const m = sum / differences.length;
    if (interval.estimate > 0 ? m <= 0 : interval.estimate < 0 ? m >= 0 : true) opposite += 1;
  }
  const pValue = differences.length === 0 ? Number.NaN : Math.min(1, (2 * opposite) / resamples);
  return { ...interval, pValue, pairs: differences.length };
}

/** Execution outcomes that mean the program failed (infra_error is the sandbox's failure, counted apart). */
export const FAILED_OUTCOMES: ReadonlySet<ExecutionOutcomeKind> = new Set(['error', 'timeout', 'memory', 'output_limit', 'crash']);

export interface TrajectoryStats {
  policyTokens: number;
  toolTokens: number;
  promptTokens: number;
  toolCalls: number;
  outcomes: Partial<Record<ExecutionOutcomeKind, number>>;
  status: TrajectoryStatus;
  /** At least one executed block failed (error, timeout, memory, output limit, crash). */
  hadFailure: boolean;
  /** A failed execution was followed by a later successful one (the model repaired its code). */
  recoveredFromFailure: boolean;
  infraFailure: boolean;
}

export function trajectoryStats(trajectory: Trajectory): TrajectoryStats {
  let policyTokens = 0;
  let toolTokens = 0;
  let promptTokens = 0;
  for (const segment of trajectory.segments) {
    if (segment.origin === 'policy') policyTokens += segment.tokens.length;
    else if (segment.origin === 'tool') toolTokens += segment.tokens.length;
    else promptTokens += segment.tokens.length;
  }
  const outcomes: Partial<Record<ExecutionOutcomeKind, number>> = {};
  let hadFailure = false;
  let recoveredFromFailure = false;
  for (const call of trajectory.toolCalls) {
    const kind = call.outcome.kind;
    outcomes[kind] = (outcomes[kind] ?? 0) + 1;
    if (FAILED_OUTCOMES.has(kind)) hadFailure = true;
    else if (kind === 'ok' && hadFailure) recoveredFromFailure = true;
  }
  return {
    policyTokens,
    toolTokens,
    promptTokens,
    toolCalls: trajectory.toolCalls.length,
    outcomes,
    status: trajectory.status,
    hadFailure,
    recoveredFromFailure,
    infraFailure: trajectory.infraFailure,
  };
}

/** What the metrics need from one graded sample. */
export interface GradedSample {
  benchmark: string;
  problemId: string;
  sample: number;
  correct: boolean;
  answer: string | null;
  subject?: string;
  level?: string;
  stats: TrajectoryStats;
}

export interface Rate {
  count: number;
  correct: number;
  accuracy: number;
}

function rate(samples: readonly GradedSample[]): Rate {
  const correct = samples.filter((s) => s.correct).length;
  return { count: samples.length, correct, accuracy: samples.length ? correct / samples.length : Number.NaN };
}

export interface ErrorFeedback {
  /** Trajectories with no executed code. */
  noToolCalls: Rate;
  /** Code executed and every execution succeeded. */
  noFailures: Rate;
  /** At least one execution failed: how often the final answer was still correct. */
  withFailure: Rate;
  /** Subset of `withFailure` where a later execution succeeded. */
  recovered: Rate;
}

export function errorFeedback(samples: readonly GradedSample[]): ErrorFeedback {
  return {
    noToolCalls: rate(samples.filter((s) => s.stats.toolCalls === 0)),
    noFailures: rate(samples.filter((s) => s.stats.toolCalls > 0 && !s.stats.hadFailure)),
    withFailure: rate(samples.filter((s) => s.stats.hadFailure)),
    recovered: rate(samples.filter((s) => s.stats.recoveredFromFailure)),
  };
}

export interface Distribution {
  mean: number;
  median: number;
  p90: number;
  max: number;
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  return { mean: mean(values), median: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), max: sorted[sorted.length - 1] ?? Number.NaN };
}

export interface Efficiency {
  policyTokens: Distribution;
  toolTokens: Distribution;
  toolCalls: Distribution;
  /** Executions by outcome kind, over all samples. */
  outcomes: Record<ExecutionOutcomeKind, number>;
  /** Samples by trajectory status (finished, budget_exhausted, length, …). */
  statuses: Record<string, number>;
  /** Share of responses with at least one executed block. */
  toolUseRate: number;
}

export function efficiency(samples: readonly GradedSample[]): Efficiency {
  const outcomes = Object.fromEntries(EXECUTION_OUTCOME_KINDS.map((k) => [k, 0])) as Record<ExecutionOutcomeKind, number>;
  const statuses: Record<string, number> = { finished: 0, budget_exhausted: 0, length: 0, context: 0, error: 0 };
  for (const s of samples) {
    for (const [kind, count] of Object.entries(s.stats.outcomes) as [ExecutionOutcomeKind, number][]) outcomes[kind] += count;
    statuses[s.stats.status] = (statuses[s.stats.status] ?? 0) + 1;
  }
  return {
    policyTokens: distribution(samples.map((s) => s.stats.policyTokens)),
    toolTokens: distribution(samples.map((s) => s.stats.toolTokens)),
    toolCalls: distribution(samples.map((s) => s.stats.toolCalls)),
    outcomes,
    statuses,
    toolUseRate: samples.length ? samples.filter((s) => s.stats.toolCalls > 0).length / samples.length : Number.NaN,
  };
}

/** Samples grouped by problem, in first-seen order. */
export function groupByProblem(samples: readonly GradedSample[]): Map<string, GradedSample[]> {
  const groups = new Map<string, GradedSample[]>();
  for (const s of samples) {
    const group = groups.get(s.problemId);
    if (group) group.push(s);
    else groups.set(s.problemId, [s]);
  }
  return groups;
}

/** Per-problem accuracy (correct / samples), the unit the bootstrap resamples. */
export function perProblemAccuracy(samples: readonly GradedSample[]): Map<string, number> {
  const result = new Map<string, number>();
  for (const [id, group] of groupByProblem(samples)) result.set(id, avgAtK(group.map((s) => s.correct)));
  return result;
}

export interface GroupAccuracy {
  key: string;
  problems: number;
  samples: number;
  accuracy: number;
}

/** Accuracy (mean over problems of per-problem accuracy) by subject or level; absent values are skipped. */
export function breakdown(samples: readonly GradedSample[], field: 'subject' | 'level'): GroupAccuracy[] {
  const byKey = new Map<string, GradedSample[]>();
  for (const s of samples) {
    const key = s[field];
    if (key === undefined) continue;
    const list = byKey.get(key);
    if (list) list.push(s);
    else byKey.set(key, [s]);
  }
  return [...byKey.entries()]
    .map(([key, group]) => {
      const perProblem = [...perProblemAccuracy(group).values()];
      return { key, problems: perProblem.length, samples: group.length, accuracy: mean(perProblem) };
    })
    .sort((a, b) => a.key.localeCompare(b.key, 'en', { numeric: true }));
}

/** The k values reported for pass@k / maj@k: powers of two up to n, plus n itself. */
export function reportedKs(n: number): number[] {
  const ks: number[] = [];
  for (let k = 1; k <= n; k *= 2) ks.push(k);
  if (ks[ks.length - 1] !== n) ks.push(n);
  return ks;
}

/** Histogram with `bins` equal-width bins over [min, max]; the last bin is closed. */
export function histogram(values: readonly number[], bins: number): { edges: number[]; counts: number[] } {
  if (values.length === 0 || bins < 1) return { edges: [], counts: [] };
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === max) return { edges: [min, max], counts: [values.length] };
  const width = (max - min) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    const bin = Math.min(bins - 1, Math.floor((v - min) / width));
    counts[bin] = (counts[bin] ?? 0) + 1;
  }
  return { edges: Array.from({ length: bins + 1 }, (_, i) => min + i * width), counts };
}
