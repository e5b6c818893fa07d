/**
 * The reference's loss aggregation scope (cir-reference §8.2): verl's dynamic batch size splits each
 * mini-batch into ⌈tokens / maxTokens⌉ micro-batches balanced by sequence length
 * (`rearrange_micro_batches`, RUCAIBox/CIR @ 6d27817, verl/utils/seqlen_balancing.py), takes the
 * token-mean of the loss *within* each micro-batch and scales it by the micro-batch's share of the
 * mini-batch's sequences (`loss * len(data) / ppo_mini_batch_size`, verl/workers/actor/dp_actor.py).
 * Pure functions; the trainer accumulates the scaled micro-batch gradients before one optimizer step.
 */
import { InputError } from '../core/errors.js';
import type { TokenLossFunction } from '../core/policy.js';

/**
 * Row indices of each micro-batch: ⌈Σ tokens / maxTokens⌉ partitions (never more than rows), balanced
 * by assigning the longest remaining row to the lightest partition. verl balances with
 * Karmarkar–Karp; both keep partitions near the mean, the membership can differ.
 */
export function balancedMicroBatches(rowTokens: readonly number[], maxTokens: number): number[][] {
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new InputError(`micro-batch tokens must be an integer ≥ 1, got ${maxTokens}`, 'microBatchTokens');
  if (rowTokens.length === 0) return [];
  const longest = Math.max(...rowTokens);
  if (longest > maxTokens) throw new InputError(`a sequence of ${longest} tokens does not fit a micro-batch of ${maxTokens} tokens`, 'microBatchTokens');
  const total = rowTokens.reduce((sum, n) => sum + n, 0);
  const count = Math.min(rowTokens.length, Math.max(1, Math.ceil(total / maxTokens)));
  const loads = new Array<number>(count).fill(0);
  const parts: number[][] = Array.from({ length: count }, () => []);
  const order = rowTokens.map((_, i) => i).sort((a, b) => rowTokens[b]! - rowTokens[a]! || a - b);
  for (const row of order) {
    let lightest = 0;
    for (let p = 1; p < count; p++) if (loads[p]! < loads[lightest]!) lightest = p;
    parts[lightest]!.push(row);
    loads[lightest]! += rowTokens[row]!;
  }
  return parts.map((rows) => rows.sort((a, b) => a - b)).filter((rows) => rows.length > 0);
}

/** The loss and its gradients times `factor` (metrics unchanged): a micro-batch's share of the mini-batch. */
export function scaleTokenLoss(loss: TokenLossFunction, factor: number): TokenLossFunction {
  return (logprobs) => {
    const result = loss(logprobs);
    return { ...result, loss: result.loss * factor, gradients: result.gradients.map((row) => row.map((g) => g * factor)) };
  };
}

/**
 * How far the sampler's log-probabilities are from the trainer's recomputed ones on the trained tokens:
 * mean and max |Δ| and the spread of the importance ratio exp(trainer − sampler). With the embedded
 * backend both are exact and equal; a remote sampler (vLLM, Tinker) differs in numerics.
 */
export function logprobMismatch(sampler_B_T: readonly ArrayLike<number>[], trainer_B_T: readonly ArrayLike<number>[], mask_B_T: readonly ArrayLike<number>[]): Record<string, number> {
  let count = 0;
  let sumAbs = 0;
  let maxAbs = 0;
  let sumRatio = 0;
  let sumRatioSquared = 0;
  let minRatio = Number.POSITIVE_INFINITY;
  let maxRatio = 0;
  for (let b = 0; b < mask_B_T.length; b++) {
    const mask = mask_B_T[b]!;
    const sampler = sampler_B_T[b]!;
    const trainer = trainer_B_T[b]!;
    for (let t = 0; t < mask.length; t++) {
      if (!(mask[t]! > 0) || Number.isNaN(sampler[t]!)) continue;
      const delta = trainer[t]! - sampler[t]!;
      const ratio = Math.exp(delta);
      count++;
      sumAbs += Math.abs(delta);
      maxAbs = Math.max(maxAbs, Math.abs(delta));
      sumRatio += ratio;
      sumRatioSquared += ratio * ratio;
      minRatio = Math.min(minRatio, ratio);
      maxRatio = Math.max(maxRatio, ratio);
    }
  }
  if (count === 0) return { 'mismatch/tokens': 0 };
  const meanRatio = sumRatio / count;
  return {
    'mismatch/tokens': count,
    'mismatch/meanAbsLogprobDelta': sumAbs / count,
    'mismatch/maxAbsLogprobDelta': maxAbs,
    'mismatch/ratioMean': meanRatio,
    'mismatch/ratioStd': Math.sqrt(Math.max(0, sumRatioSquared / count - meanRatio * meanRatio)),
    'mismatch/ratioMin': minRatio,
    'mismatch/ratioMax': maxRatio,
  };
}
