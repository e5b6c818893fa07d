/**
 * The verdict logic of `cir reproduce`, pure: a finding "holds" when the 95% interval of its measured
 * difference excludes zero in the direction the paper claims, "does not hold" when it excludes zero the
 * other way, and is "inconclusive" otherwise. Differences are paired over the same held-out tasks where
 * both arms saw them (bootstrap over tasks), and unpaired (Newcombe's score interval) where they did not.
 */
import { wilsonInterval, Z95 } from '../core/stats.js';
import { seededRandom } from '../core/rng.js';
import { bootstrapMean, passAtK, pairedBootstrap, percentile } from '../eval/metrics.js';

export type Verdict = 'holds' | 'does not hold' | 'inconclusive';

/** A difference with its 95% interval. */
export interface DifferenceInterval {
  estimate: number;
  low: number;
  high: number;
}

/** `greater`: the paper claims the difference is positive; `less`: negative. */
export function verdictOf(difference: Pick<DifferenceInterval, 'low' | 'high'>, claimed: 'greater' | 'less'): Verdict {
  const { low, high } = difference;
  if (!Number.isFinite(low) || !Number.isFinite(high)) return 'inconclusive';
  if (low > 0) return claimed === 'greater' ? 'holds' : 'does not hold';
  if (high < 0) return claimed === 'less' ? 'holds' : 'does not hold';
  return 'inconclusive';
}

/** A claim made of several comparisons: it holds when all do, does not when any goes the other way. */
export function combineVerdicts(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.length === 0) return 'inconclusive';
  if (verdicts.includes('does not hold')) return 'does not hold';
  return verdicts.every((verdict) => verdict === 'holds') ? 'holds' : 'inconclusive';
}

/** The largest fall of accuracy from one evaluation to the next (0 when it never falls): the stability measure. */
export function largestDrop(series: readonly number[]): number {
  let drop = 0;
  for (let i = 1; i < series.length; i++) drop = Math.max(drop, series[i - 1]! - series[i]!);
  return drop;
}

/**
 * Per-task scores of one arm's evaluations in order: `scores[e][t]` is task t's score at evaluation e,
 * the tasks in the same order in both arms (paired).
 */
export type EvaluationSeries = readonly (readonly number[])[];

const meanOf = (scores: readonly number[], indices: readonly number[]) => indices.reduce((sum, i) => sum + scores[i]!, 0) / indices.length;

/**
 * largestDrop(b) − largestDrop(a) with a paired bootstrap over tasks: each resample draws tasks with
 * replacement, recomputes both arms' accuracy curves on them and the difference of their largest drops.
 */
export function largestDropDifference(a: EvaluationSeries, b: EvaluationSeries, options: { resamples?: number; seed?: number } = {}): DifferenceInterval & { dropA: number; dropB: number } {
  const tasks = a[0]?.length ?? 0;
  for (const series of [...a, ...b]) if (series.length !== tasks) throw new RangeError(`every evaluation must score the same ${tasks} tasks, got ${series.length}`);
  const all = Array.from({ length: tasks }, (_, i) => i);
  const drop = (series: EvaluationSeries, indices: readonly number[]) => largestDrop(series.map((scores) => meanOf(scores, indices)));
  const dropA = tasks > 0 ? drop(a, all) : Number.NaN;
  const dropB = tasks > 0 ? drop(b, all) : Number.NaN;
  if (tasks === 0 || a.length < 2 || b.length < 2) return { estimate: dropB - dropA, low: Number.NaN, high: Number.NaN, dropA, dropB };
  const { resamples = 2000, seed = 1 } = options;
  const random = seededRandom(seed);
  const differences: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const indices = all.map(() => Math.floor(random() * tasks));
    differences.push(drop(b, indices) - drop(a, indices));
  }
  differences.sort((x, y) => x - y);
  return { estimate: dropB - dropA, low: percentile(differences, 0.025), high: percentile(differences, 0.975), dropA, dropB };
}

/** One task's samples: how many were drawn and how many were correct. */
export interface TaskCounts {
  id: string;
  samples: number;
  correct: number;
}

/** The k of a pass@k curve: 1, 2, 4, … up to the smallest sample count. */
export function curveKs(tasks: readonly TaskCounts[], maxK: number): number[] {
  const limit = Math.min(maxK, ...tasks.map((task) => task.samples));
  const ks: number[] = [];
  for (let k = 1; k <= limit; k *= 2) ks.push(k);
  return ks;
}

/** A pass@k curve with the unbiased estimator per task and a bootstrap interval over tasks. */
export function passAtKCurve(tasks: readonly TaskCounts[], ks: readonly number[], seed = 1): { k: number; estimate: number; low: number; high: number }[] {
  return ks.map((k) => {
    const interval = bootstrapMean(
      tasks.map((task) => passAtK(task.samples, task.correct, k)),
      { seed },
    );
    return { k, estimate: interval.estimate, low: interval.low, high: interval.high };
  });
}

/** pass@k of b minus pass@k of a over the tasks both scored (paired by task id). */
export function pairedPassAtKDifference(a: readonly TaskCounts[], b: readonly TaskCounts[], k: number, seed = 1): DifferenceInterval & { pairs: number } {
  const byId = new Map(b.map((task) => [task.id, task]));
  const shared = a.filter((task) => byId.has(task.id) && task.samples >= k && byId.get(task.id)!.samples >= k);
  const interval = pairedBootstrap(
    shared.map((task) => passAtK(task.samples, task.correct, k)),
    shared.map((task) => passAtK(byId.get(task.id)!.samples, byId.get(task.id)!.correct, k)),
    { seed },
  );
  return { estimate: interval.estimate, low: interval.low, high: interval.high, pairs: shared.length };
}

/** A share with its Wilson interval. */
export interface Share {
  count: number;
  of: number;
  share: number;
  ci95: [number, number];
}

export function shareOf(count: number, of: number): Share {
  return { count, of, share: of > 0 ? count / of : Number.NaN, ci95: wilsonInterval(count, of) };
}

/**
 * b's share minus a's over different trials (Newcombe's hybrid score interval, method 10): for
 * proportions from separate samples, where a paired bootstrap does not apply.
 */
export function shareDifference(a: Share, b: Share): DifferenceInterval {
  if (a.of === 0 || b.of === 0) return { estimate: Number.NaN, low: Number.NaN, high: Number.NaN };
  const [l1, u1] = wilsonInterval(a.count, a.of, Z95);
  const [l2, u2] = wilsonInterval(b.count, b.of, Z95);
  const p1 = a.share;
  const p2 = b.share;
  const estimate = p2 - p1;
  return {
    estimate,
    low: estimate - Math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2),
    high: estimate + Math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2),
  };
}
