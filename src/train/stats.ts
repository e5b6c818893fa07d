/** Proportions with 95% intervals, for held-out accuracy (the Wilson interval itself lives in core). */
import { wilsonInterval, Z95 } from '../core/stats.js';

/**
 * Accuracy over tasks from per-task scores in [0, 1] (the share of a task's samples that were
 * right). One sample per task: Wilson. Several (avg@k): a normal interval over the task means,
 * since samples of one task are not independent trials.
 */
export function accuracyInterval(scores: readonly number[]): { accuracy: number; ci95: [number, number]; n: number } {
  const n = scores.length;
  if (n === 0) return { accuracy: 0, ci95: [0, 1], n };
  const sum = scores.reduce((a, b) => a + b, 0);
  const accuracy = sum / n;
  if (scores.every((score) => score === 0 || score === 1)) return { accuracy, ci95: wilsonInterval(sum, n), n };
  const variance = n > 1 ? scores.reduce((a, s) => a + (s - accuracy) ** 2, 0) / (n - 1) : 0;
  const half = Z95 * Math.sqrt(variance / n);
  return { accuracy, ci95: [Math.max(0, accuracy - half), Math.min(1, accuracy + half)], n };
}

/** True when two intervals share no point. */
export function intervalsDisjoint(a: readonly [number, number], b: readonly [number, number]): boolean {
  return a[1] < b[0] || b[1] < a[0];
}
