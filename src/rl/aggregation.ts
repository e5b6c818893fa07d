/**
 * Loss aggregation: how a matrix of per-token losses becomes one number. Every mode is linear in
 * the loss matrix, `loss = Σ_bt w_bt · L_bt`, with weights that depend only on the mask; so the
 * exact gradient of the aggregate w.r.t. `L_bt` is `w_bt`. `token-loss.ts` (`computeRlLoss`)
 * applies the weights to the loss and to its gradient.
 */
import { InputError } from '../core/errors.js';
import { assertBinaryMask, type Ragged } from './shapes.js';

export const LOSS_AGGREGATION_MODES = [
  'token-mean',
  'token-sum',
  'seq-mean-token-sum',
  'seq-mean-token-mean',
  'seq-mean-token-sum-norm',
] as const;

/**
 * - `token-mean`: every loss token in the batch weighs the same (DAPO; the paper's default).
 * - `token-sum`: plain sum.
 * - `seq-mean-token-sum`: sum within a sequence, mean over sequences.
 * - `seq-mean-token-mean`: mean within a sequence, mean over sequences (original GRPO).
 * - `seq-mean-token-sum-norm`: sum within a sequence divided by a constant length, mean over
 *   sequences (Dr.GRPO: no length bias, no per-sequence normalisation).
 * The `seq-mean-*` modes average over sequences with at least one loss token, so a row whose
 * mask is all zero does not dilute the mean.
 */
export type LossAggregationMode = (typeof LOSS_AGGREGATION_MODES)[number];

export interface AggregationOptions {
  /** Constant divisor of `seq-mean-token-sum-norm`; default the longest row's length (the padded length). */
  normLength?: number;
}

export function isLossAggregationMode(value: string): value is LossAggregationMode {
  return (LOSS_AGGREGATION_MODES as readonly string[]).includes(value);
}

export function assertLossAggregationMode(value: string): LossAggregationMode {
  if (!isLossAggregationMode(value)) {
    throw new InputError(
      `unknown loss aggregation mode ${JSON.stringify(value)}; supported: ${LOSS_AGGREGATION_MODES.join(', ')}`,
      'lossAggregation',
    );
  }
  return value;
}

/** The weights `w_bt` of the aggregate: zero where the mask is zero. All zero for an empty mask. */
export function aggregationWeights(mask_B_T: Ragged, mode: LossAggregationMode, options: AggregationOptions = {}): Float64Array[] {
  assertLossAggregationMode(mode);
  assertBinaryMask('mask', mask_B_T);
  const tokenCounts_B = mask_B_T.map((row) => {
    let count = 0;
    for (let t = 0; t < row.length; t++) count += row[t]!;
    return count;
  });
  const totalTokens = tokenCounts_B.reduce((sum, count) => sum + count, 0);
  const activeSequences = tokenCounts_B.filter((count) => count > 0).length;
  let normLength = 0;
  if (mode === 'seq-mean-token-sum-norm') {
    normLength = options.normLength ?? Math.max(0, ...mask_B_T.map((row) => row.length));
    if (!(normLength > 0) || !Number.isFinite(normLength)) {
      throw new InputError(`normLength must be a positive number, got ${normLength}`, 'normLength');
    }
  }
  return mask_B_T.map((row, b) => {
    const weights = new Float64Array(row.length);
    const count = tokenCounts_B[b]!;
    if (count === 0) return weights;
    let weight: number;
    switch (mode) {
      case 'token-mean':
        weight = 1 / totalTokens;
        break;
      case 'token-sum':
        weight = 1;
        break;
      case 'seq-mean-token-sum':
        weight = 1 / activeSequences;
        break;
      case 'seq-mean-token-mean':
        weight = 1 / (activeSequences * count);
        break;
      case 'seq-mean-token-sum-norm':
        weight = 1 / (activeSequences * normLength);
        break;
    }
    for (let t = 0; t < row.length; t++) weights[t] = row[t]! * weight;
    return weights;
  });
}
