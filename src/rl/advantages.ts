/**
 * Advantage estimators for outcome rewards: one scalar reward per sequence in, one advantage per
 * response token out. Each estimator is a pure function registered by name, so the trainer picks
 * one from config and never special-cases any (style-anchors habit 4).
 *
 * Groups: sequences sharing a `groupId` answer the same prompt and form the baseline. A group
 * of one has no baseline: its advantage is its reward (as in the paper's code, `b = 0` for a
 * singleton). A group whose rewards are all equal gets a zero group-relative advantage.
 */
import { InputError } from '../core/errors.js';
import { NamedRegistry } from './registry.js';
import { assertBinaryMask, assertFiniteNumber, assertSameShape, type Ragged } from './shapes.js';

export interface AdvantageInput {
  /** Outcome reward of each sequence (the paper: ±1). */
  rewards_B: readonly number[];
  /** The prompt each sequence answers; sequences with the same id form one group. */
  groupIds_B: readonly (string | number)[];
  /**
   * 1 on every response target (policy AND tool tokens: the paper's code whitens over the unmasked
   * response mask, `_create_loss_mask` in RUCAIBox/CIR ray_trainer.py), 0 on prompt targets. The
   * advantage is broadcast over it.
   */
  responseMask_B_T: Ragged;
}

export interface AdvantageOptions {
  /** Added to the group std in `grpo` (verl: 1e-6). */
  stdEpsilon?: number;
  /** Added to the variance in the batch whitening of `reinforce_plus_plus_baseline` (verl: 1e-8). */
  whitenEpsilon?: number;
}

/** Per-token advantages, row b aligned with `responseMask_B_T[b]`; zero off the response mask. */
export type AdvantageEstimator = (input: AdvantageInput, options: AdvantageOptions) => Float32Array[];

const registry = new NamedRegistry<AdvantageEstimator>('advantage estimator', 'advantageEstimator');

/** The registered estimators' names, in registration order (the built-ins first): what `--advantage` accepts. */
export function advantageEstimatorNames(): string[] {
  return registry.names();
}

/** Registers an estimator; re-registering a name for a different function is an error. */
export function registerAdvantageEstimator(name: string, estimator: AdvantageEstimator): void {
  registry.register(name, estimator);
}

export function getAdvantageEstimator(name: string): AdvantageEstimator {
  return registry.get(name);
}

/** Validates the input and runs the named estimator. */
export function computeAdvantages(name: string, input: AdvantageInput, options: AdvantageOptions = {}): Float32Array[] {
  const estimator = getAdvantageEstimator(name);
  validateInput(input);
  return estimator(input, options);
}

function validateInput(input: AdvantageInput): void {
  const count = input.rewards_B.length;
  if (input.groupIds_B.length !== count) {
    throw new InputError(`groupIds_B has ${input.groupIds_B.length} entries but rewards_B has ${count}`, 'groupIds_B');
  }
  if (input.responseMask_B_T.length !== count) {
    throw new InputError(`responseMask_B_T has ${input.responseMask_B_T.length} rows but rewards_B has ${count}`, 'responseMask_B_T');
  }
  input.rewards_B.forEach((reward, b) => assertFiniteNumber(`rewards_B[${b}]`, reward));
  assertBinaryMask('responseMask_B_T', input.responseMask_B_T);
}

/** Indices of each group, in first-seen order. */
export function groupIndices(groupIds_B: readonly (string | number)[]): number[][] {
  const groups = new Map<string | number, number[]>();
  groupIds_B.forEach((id, b) => {
    const members = groups.get(id);
    if (members === undefined) groups.set(id, [b]);
    else members.push(b);
  });
  return [...groups.values()];
}

/** Applies `score(rewards of the group, index within group)` to every sequence. */
function perSequence(input: AdvantageInput, score: (groupRewards: number[], member: number) => number): number[] {
  const scores_B = new Array<number>(input.rewards_B.length).fill(0);
  for (const members of groupIndices(input.groupIds_B)) {
    const groupRewards = members.map((b) => input.rewards_B[b]!);
    members.forEach((b, member) => (scores_B[b] = score(groupRewards, member)));
  }
  return scores_B;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Unbiased (n-1) standard deviation, as torch.std. */
function unbiasedStd(values: readonly number[]): number {
  const average = mean(values);
  const squares = values.reduce((sum, value) => sum + (value - average) ** 2, 0);
  return Math.sqrt(squares / (values.length - 1));
}

function broadcast(scores_B: readonly number[], mask_B_T: Ragged): Float32Array[] {
  return mask_B_T.map((mask, b) => {
    const row = new Float32Array(mask.length);
    for (let t = 0; t < mask.length; t++) row[t] = mask[t]! * scores_B[b]!;
    return row;
  });
}

/**
 * Token-weighted whitening over the whole batch: `(x − μ)/sqrt(σ² + ε)` with μ and the unbiased σ²
 * taken over mask-1 tokens; the mean is not added back (verl `masked_whiten`). With one token or
 * fewer there is no spread to whiten by, and the result is zero.
 */
export function maskedWhiten(values_B_T: Ragged, mask_B_T: Ragged, epsilon = 1e-8): Float32Array[] {
  assertSameShape('values', values_B_T, mask_B_T, 'mask');
  let count = 0;
  let sum = 0;
  values_B_T.forEach((row, b) => {
    const mask = mask_B_T[b]!;
    for (let t = 0; t < row.length; t++) {
      if (mask[t] !== 0) {
        count += 1;
        sum += row[t]!;
      }
    }
  });
  const average = count > 0 ? sum / count : 0;
  let squares = 0;
  values_B_T.forEach((row, b) => {
    const mask = mask_B_T[b]!;
    for (let t = 0; t < row.length; t++) if (mask[t] !== 0) squares += (row[t]! - average) ** 2;
  });
  const scale = count > 1 ? 1 / Math.sqrt(squares / (count - 1) + epsilon) : 0;
  return values_B_T.map((row, b) => {
    const mask = mask_B_T[b]!;
    const out = new Float32Array(row.length);
    for (let t = 0; t < row.length; t++) out[t] = mask[t] !== 0 ? (row[t]! - average) * scale : 0;
    return out;
  });
}

/**
 * The paper's "REINFORCE++" (`compute_reinforce_plus_plus_baseline_outcome_advantage` in RUCAIBox/CIR
 * verl/trainer/ppo/core_algos.py): group-mean baseline, then token-weighted batch whitening.
 */
export const reinforcePlusPlusBaseline: AdvantageEstimator = (input, options) => {
  const scores_B = perSequence(input, (rewards, member) => (rewards.length > 1 ? rewards[member]! - mean(rewards) : rewards[member]!));
  return maskedWhiten(broadcast(scores_B, input.responseMask_B_T), input.responseMask_B_T, options.whitenEpsilon ?? 1e-8);
};

/** GRPO: `(r − mean_group) / (std_group + ε)`, unbiased std. */
export const grpo: AdvantageEstimator = (input, options) => {
  const epsilon = options.stdEpsilon ?? 1e-6;
  const scores_B = perSequence(input, (rewards, member) =>
    rewards.length > 1 ? (rewards[member]! - mean(rewards)) / (unbiasedStd(rewards) + epsilon) : rewards[member]!,
  );
  return broadcast(scores_B, input.responseMask_B_T);
};

/** RLOO: the baseline of each sequence is the mean reward of the OTHER members of its group. */
export const rloo: AdvantageEstimator = (input) => {
  const scores_B = perSequence(input, (rewards, member) => {
    if (rewards.length === 1) return rewards[member]!;
    const others = rewards.reduce((sum, value) => sum + value, 0) - rewards[member]!;
    return rewards[member]! - others / (rewards.length - 1);
  });
  return broadcast(scores_B, input.responseMask_B_T);
};

/** Dr.GRPO: `r − mean_group`, no division by the std (which over-weights easy and hard prompts). */
export const drGrpo: AdvantageEstimator = (input) => {
  const scores_B = perSequence(input, (rewards, member) => (rewards.length > 1 ? rewards[member]! - mean(rewards) : rewards[member]!));
  return broadcast(scores_B, input.responseMask_B_T);
};

/** Plain REINFORCE: the reward itself, no baseline. */
export const reinforce: AdvantageEstimator = (input) => broadcast(input.rewards_B, input.responseMask_B_T);

registerAdvantageEstimator('reinforce_plus_plus_baseline', reinforcePlusPlusBaseline);
registerAdvantageEstimator('grpo', grpo);
registerAdvantageEstimator('rloo', rloo);
registerAdvantageEstimator('dr_grpo', drGrpo);
registerAdvantageEstimator('reinforce', reinforce);
