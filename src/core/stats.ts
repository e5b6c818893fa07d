/** Interval estimates shared by the tasks' held-out check, training and evaluation. */

/** The two-sided 95% normal quantile. */
export const Z95 = 1.959963984540054;

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
