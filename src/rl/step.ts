/**
 * One training step's data, from graded trajectories to what `buildTokenLoss` takes: leave out
 * infrastructure failures, optionally drop all-equal groups, assemble, compute advantages over the
 * whole step (as verl does), and split into mini-batches by prompt.
 */
import { InputError } from '../core/errors.js';
import type { TrainingDatum } from '../core/policy.js';
import { computeAdvantages } from './advantages.js';
import type { RlConfig } from './config.js';
import { assembleBatch, type ScoredTrajectory } from './data.js';
import { filterUniformRewardGroups } from './dynamic-sampling.js';
import type { TokenLossBatch } from './token-loss.js';

export interface PreparedStep {
  data: TrainingDatum[];
  /** Sampling log-probs may hold NaN where unknown: fill them (`fillMissingLogprobs`) before `buildTokenLoss`. */
  lossBatch: { advantages_B_T: Float32Array[]; samplingLogprobs_B_T: Float32Array[]; lossMask_B_T: Float32Array[] };
  responseMask_B_T: Float32Array[];
  rewards_B: number[];
  groupIds_B: (string | number)[];
  kept: ScoredTrajectory[];
  metrics: Record<string, number>;
}

export function prepareStep(
  items: readonly ScoredTrajectory[],
  config: Pick<RlConfig, 'advantageEstimator' | 'advantage' | 'maskToolOutput' | 'dynamicSampling'>,
): PreparedStep {
  const valid = items.filter((item) => !item.trajectory.infraFailure);
  let selected: readonly ScoredTrajectory[] = valid;
  let samplingMetrics: Record<string, number> = {};
  if (config.dynamicSampling) {
    const filtered = filterUniformRewardGroups(valid, (item) => item.groupId, (item) => item.reward);
    selected = filtered.kept;
    samplingMetrics = filtered.metrics;
  }
  const batch = assembleBatch(selected, { maskToolOutput: config.maskToolOutput });
  const advantages_B_T = computeAdvantages(
    config.advantageEstimator,
    { rewards_B: batch.rewards_B, groupIds_B: batch.groupIds_B, responseMask_B_T: batch.responseMask_B_T },
    config.advantage,
  );
  return {
    data: batch.data,
    lossBatch: { advantages_B_T, samplingLogprobs_B_T: batch.samplingLogprobs_B_T, lossMask_B_T: batch.lossMask_B_T },
    responseMask_B_T: batch.responseMask_B_T,
    rewards_B: batch.rewards_B,
    groupIds_B: batch.groupIds_B,
    kept: batch.kept,
    metrics: {
      ...batch.metrics,
      'data/trajectories': items.length,
      'data/excludedInfraFailure': items.length - valid.length,
      ...samplingMetrics,
    },
  };
}

/**
 * Row indices of each mini-batch: whole groups (prompts) in order, split into `count` parts of
 * near-equal prompt count (the paper: 2 mini-batches of 64 prompts, no shuffle). Fewer groups
 * than `count` gives fewer, non-empty mini-batches.
 */
export function miniBatchIndices(groupIds_B: readonly (string | number)[], count: number): number[][] {
  if (!Number.isInteger(count) || count < 1) throw new InputError(`mini-batch count must be a positive integer, got ${count}`, 'miniBatchesPerStep');
  const groups = new Map<string | number, number[]>();
  groupIds_B.forEach((id, b) => {
    const members = groups.get(id);
    if (members === undefined) groups.set(id, [b]);
    else members.push(b);
  });
  const ordered = [...groups.values()];
  const parts = Math.min(count, ordered.length);
  const result: number[][] = [];
  for (let part = 0; part < parts; part++) {
    const from = Math.round((part * ordered.length) / parts);
    const to = Math.round(((part + 1) * ordered.length) / parts);
    result.push(ordered.slice(from, to).flat());
  }
  return result;
}

/** The rows `indices` of a loss batch (and of any aligned per-row array). */
export function selectRows<T>(rows: readonly T[], indices: readonly number[]): T[] {
  return indices.map((index) => {
    if (!Number.isInteger(index) || index < 0 || index >= rows.length) {
      throw new InputError(`row index ${index} is out of range for ${rows.length} rows`, 'indices');
    }
    return rows[index]!;
  });
}

export function selectLossBatchRows(batch: TokenLossBatch, indices: readonly number[]): TokenLossBatch {
  const selected: TokenLossBatch = {
    advantages_B_T: selectRows(batch.advantages_B_T, indices),
    samplingLogprobs_B_T: selectRows(batch.samplingLogprobs_B_T, indices),
    lossMask_B_T: selectRows(batch.lossMask_B_T, indices),
  };
  if (batch.referenceLogprobs_B_T !== undefined) selected.referenceLogprobs_B_T = selectRows(batch.referenceLogprobs_B_T, indices);
  return selected;
}
