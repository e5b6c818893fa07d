/** Proportions with 95% intervals, for held-out accuracy. */

const Z95 = 1.959963984540054;

/** Wilson score interval: stays inside [0, 1] and behaves at 0 and n successes, unlike the normal one. */
export function wilsonInterval(successes: number, trials: number, z = Z95): [number, number] {
  if (!Number.isInteger(trials) || trials < 0) throw new RangeError(`trials must be a non-negative integer, got ${trials}`);
  if (!(successes >= 0 && successes <= trials)) throw new RangeError(`successes must be in [0, ${trials}], got ${successes}`);
  if (trials === 0) return [0, 1];
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denominator;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

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
