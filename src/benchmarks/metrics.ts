/**
 * pass@k with the unbiased estimator (Chen et al. 2021, as LiveCodeBench computes it), overall and
 * broken down by an item's groups (difficulty, contest month, subject...). Pure functions.
 */
import { InputError } from '../core/errors.js';
import { PUBLIC_TESTS_ONLY_NOTE } from './livecodebench.js';

/** 1 − C(n−c, k) / C(n, k), computed as a product to stay exact enough for large n. */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k) || n < 1 || c < 0 || c > n || k < 1 || k > n) {
    throw new InputError(`pass@k needs integers 0 <= c <= n and 1 <= k <= n, got n=${n}, c=${c}, k=${k}`, 'pass@k');
  }
  if (n - c < k) return 1;
  let failAll = 1;
  for (let i = n - c + 1; i <= n; i++) failAll *= 1 - k / i;
  return 1 - failAll;
}

export interface SampleOutcome {
  itemId: string;
  correct: boolean;
}

export interface PassSummary {
  problems: number;
  samples: number;
  /** `pass@1`, `pass@5`, ...; a k larger than some problem's sample count is left out. */
  passAt: Record<string, number>;
}

export interface GroupedPass {
  overall: PassSummary;
  /** group key → group value → summary, e.g. `difficulty.easy`. */
  byGroup: Record<string, Record<string, PassSummary>>;
}

function summarize(counts: { n: number; c: number }[], ks: readonly number[]): PassSummary {
  const passAt: Record<string, number> = {};
  const minSamples = Math.min(...counts.map((x) => x.n));
  for (const k of ks) {
    if (counts.length === 0 || k > minSamples) continue;
    passAt[`pass@${k}`] = counts.reduce((sum, { n, c }) => sum + passAtK(n, c, k), 0) / counts.length;
  }
  return { problems: counts.length, samples: counts.reduce((sum, x) => sum + x.n, 0), passAt };
}

/** pass@k over the items that have samples, overall and per group value. */
export function groupedPassAtK(
  items: readonly { id: string; groups: Readonly<Record<string, string>> }[],
  samples: readonly SampleOutcome[],
  ks: readonly number[] = [1],
  groupKeys?: readonly string[],
): GroupedPass {
  const counts = new Map<string, { n: number; c: number }>();
  for (const sample of samples) {
    const entry = counts.get(sample.itemId) ?? { n: 0, c: 0 };
    entry.n += 1;
    if (sample.correct) entry.c += 1;
    counts.set(sample.itemId, entry);
  }
  const sampled = items.filter((item) => counts.has(item.id));
  const keys = groupKeys ?? [...new Set(sampled.flatMap((item) => Object.keys(item.groups)))].sort();
  const byGroup: Record<string, Record<string, PassSummary>> = {};
  for (const key of keys) {
    const buckets = new Map<string, { n: number; c: number }[]>();
    for (const item of sampled) {
      const value = item.groups[key];
      if (value === undefined) continue;
      buckets.set(value, [...(buckets.get(value) ?? []), counts.get(item.id) as { n: number; c: number }]);
    }
    byGroup[key] = Object.fromEntries([...buckets.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([value, list]) => [value, summarize(list, ks)]));
  }
  return { overall: summarize(sampled.map((item) => counts.get(item.id) as { n: number; c: number }), ks), byGroup };
}

export interface LcbSummary extends GroupedPass {
  /** False when any graded problem had only its public tests. */
  comparableWithPublishedLcb: boolean;
  /** Set when not comparable: the qualifier every report must show. */
  note?: string;
}

/** LiveCodeBench's report: pass@k overall, by difficulty and by contest month, with the comparability flag. */
export function lcbSummary(
  items: readonly { id: string; groups: Readonly<Record<string, string>> }[],
  samples: readonly SampleOutcome[],
  ks: readonly number[] = [1],
): LcbSummary {
  const grouped = groupedPassAtK(items, samples, ks, ['difficulty', 'month']);
  const sampledIds = new Set(samples.map((s) => s.itemId));
  const publicOnly = items.filter((item) => sampledIds.has(item.id) && item.groups['tests'] !== 'complete').length;
  const summary: LcbSummary = { ...grouped, comparableWithPublishedLcb: publicOnly === 0 };
  if (publicOnly > 0) summary.note = `${PUBLIC_TESTS_ONLY_NOTE} (${publicOnly} of ${sampledIds.size} problems)`;
  return summary;
}
