/**
 * Policy losses, KL penalties and the entropy term, as per-token functions of the CURRENT
 * log-probability with their exact derivatives. Each registered policy loss maps a batch to a
 * per-token loss matrix, its derivative w.r.t. each log-prob, and the clip region of each token;
 * `token-loss.ts` (`computeRlLoss`, the one entry point) aggregates them into the objective, its
 * gradient and metrics, and wraps that as the backend's `TokenLossFunction`.
 *
 * Notation per token: A advantage, r = exp(logp − logp_old) the importance ratio.
 */
import { InputError } from '../core/errors.js';
import { NamedRegistry } from './registry.js';
import { assertBinaryMask, assertFiniteNumber, assertFiniteWhereMasked, assertSameShape, type Ragged } from './shapes.js';

export interface PolicyLossInput {
  /** Current log-probabilities of the targets (the variable the gradient is taken against). */
  logprobs_B_T: Ragged;
  /** Log-probabilities under the policy that sampled the data (PPO's π_old). */
  oldLogprobs_B_T: Ragged;
  advantages_B_T: Ragged;
  /** 1 where the target takes part in the loss (policy tokens; tool tokens are 0 with masking on). */
  lossMask_B_T: Ragged;
}

export interface ClipConfig {
  /** ε_low: the ratio is clipped below at 1 − clipLow (paper 0.2). */
  clipLow: number;
  /** ε_high: the ratio is clipped above at 1 + clipHigh (paper 0.28, "clip-higher"). */
  clipHigh: number;
  /** Dual-clip constant c > 1: for A < 0 the loss is capped at −A·c (paper 3); null disables. */
  dualClip: number | null;
}

/** Which branch of the clipped objective a token took; a clipped token has zero gradient. */
export const CLIP_REGION = { unclipped: 0, clipLow: 1, clipHigh: 2, dualClip: 3 } as const;

export interface PolicyLossTerms {
  /** Per-token loss; 0 off the loss mask. */
  loss_B_T: Float64Array[];
  /** d loss_bt / d logprob_bt; 0 off the loss mask. */
  gradient_B_T: Float64Array[];
  /** `CLIP_REGION` code per token. */
  region_B_T: Uint8Array[];
}

export type PolicyLossFn = (input: PolicyLossInput, clip: ClipConfig) => PolicyLossTerms;

const registry = new NamedRegistry<PolicyLossFn>('policy loss', 'policyLoss');

/** The registered losses' names, in registration order (the built-ins first): what `--loss` accepts. */
export function policyLossNames(): string[] {
  return registry.names();
}

export function registerPolicyLoss(name: string, loss: PolicyLossFn): void {
  registry.register(name, loss);
}

export function getPolicyLoss(name: string): PolicyLossFn {
  return registry.get(name);
}

/** log r is clamped to ±20 before exp (as verl does) so a stale token cannot overflow; clamped tokens get zero gradient. */
const LOG_RATIO_LIMIT = 20;

/** Runs `token(logp, old, A)` over mask-1 tokens, writing loss/gradient/region. */
function mapTokens(
  input: PolicyLossInput,
  token: (logprob: number, oldLogprob: number, advantage: number, out: Float64Array) => number,
): PolicyLossTerms {
  const out = new Float64Array(2);
  const loss_B_T: Float64Array[] = [];
  const gradient_B_T: Float64Array[] = [];
  const region_B_T: Uint8Array[] = [];
  input.lossMask_B_T.forEach((mask, b) => {
    const logprobs = input.logprobs_B_T[b]!;
    const old = input.oldLogprobs_B_T[b]!;
    const advantages = input.advantages_B_T[b]!;
    const loss = new Float64Array(mask.length);
    const gradient = new Float64Array(mask.length);
    const region = new Uint8Array(mask.length);
    for (let t = 0; t < mask.length; t++) {
      if (mask[t] === 0) continue;
      region[t] = token(logprobs[t]!, old[t]!, advantages[t]!, out);
      loss[t] = out[0]!;
      gradient[t] = out[1]!;
    }
    loss_B_T.push(loss);
    gradient_B_T.push(gradient);
    region_B_T.push(region);
  });
  return { loss_B_T, gradient_B_T, region_B_T };
}

/** exp(clamped log-ratio), and whether the clamp was active. */
function ratioOf(logprob: number, oldLogprob: number): { ratio: number; clamped: boolean } {
  const logRatio = logprob - oldLogprob;
  if (logRatio > LOG_RATIO_LIMIT) return { ratio: Math.exp(LOG_RATIO_LIMIT), clamped: true };
  if (logRatio < -LOG_RATIO_LIMIT) return { ratio: Math.exp(-LOG_RATIO_LIMIT), clamped: true };
  return { ratio: Math.exp(logRatio), clamped: false };
}

/**
 * PPO clipped surrogate, asymmetric clip and dual clip (`compute_policy_loss` in RUCAIBox/CIR
 * verl/trainer/ppo/core_algos.py, clip ratios from its run.sh):
 * L = max(−A·r, −A·clip(r, 1−ε_low, 1+ε_high)); if A < 0, L = min(L, −A·c).
 * PPO only clips on the side that would help the update: A > 0 with r > 1+ε_high (clipHigh),
 * A < 0 with r < 1−ε_low (clipLow), A < 0 with r > c (dualClip). Ties take the unclipped branch.
 */
export const ppoClipLoss: PolicyLossFn = (input, clip) =>
  mapTokens(input, (logprob, oldLogprob, advantage, out) => {
    const { ratio, clamped } = ratioOf(logprob, oldLogprob);
    if (advantage > 0 && ratio > 1 + clip.clipHigh) {
      out[0] = -advantage * (1 + clip.clipHigh);
      out[1] = 0;
      return CLIP_REGION.clipHigh;
    }
    if (advantage < 0 && ratio < 1 - clip.clipLow) {
      out[0] = -advantage * (1 - clip.clipLow);
      out[1] = 0;
      return CLIP_REGION.clipLow;
    }
    if (advantage < 0 && clip.dualClip !== null && ratio > clip.dualClip) {
      out[0] = -advantage * clip.dualClip;
      out[1] = 0;
      return CLIP_REGION.dualClip;
    }
    out[0] = -advantage * ratio;
    out[1] = clamped ? 0 : -advantage * ratio; // d(−A·e^(logp−old))/dlogp = −A·r
    return CLIP_REGION.unclipped;
  });

/** Plain on-policy policy gradient: L = −A·logp (gradient −A). Ignores the old log-probs and clipping. */
export const vanillaLoss: PolicyLossFn = (input) =>
  mapTokens(input, (logprob, _oldLogprob, advantage, out) => {
    out[0] = -advantage * logprob;
    out[1] = -advantage;
    return CLIP_REGION.unclipped;
  });

/** Unclipped importance-weighted policy gradient (Tinker's `importance_sampling`): L = −A·r. */
export const importanceSamplingLoss: PolicyLossFn = (input) =>
  mapTokens(input, (logprob, oldLogprob, advantage, out) => {
    const { ratio, clamped } = ratioOf(logprob, oldLogprob);
    out[0] = -advantage * ratio;
    out[1] = clamped ? 0 : -advantage * ratio;
    return CLIP_REGION.unclipped;
  });

registerPolicyLoss('ppo_clip', ppoClipLoss);
registerPolicyLoss('vanilla', vanillaLoss);
registerPolicyLoss('importance_sampling', importanceSamplingLoss);

export const KL_ESTIMATORS = ['k1', 'k2', 'k3'] as const;
export type KlEstimator = (typeof KL_ESTIMATORS)[number];

/**
 * KL(π‖π_ref) estimated per sampled token, with its derivative w.r.t. logp (Schulman's k1/k2/k3):
 * k1 = logp − ref (grad 1); k2 = ½(logp − ref)² (grad logp − ref);
 * k3 = e^(ref−logp) − (ref−logp) − 1 (grad 1 − e^(ref−logp)), non-negative and low-variance.
 */
export function klPenalty(logprob: number, referenceLogprob: number, estimator: KlEstimator): { value: number; gradient: number } {
  const difference = logprob - referenceLogprob;
  switch (estimator) {
    case 'k1':
      return { value: difference, gradient: 1 };
    case 'k2':
      return { value: 0.5 * difference * difference, gradient: difference };
    case 'k3': {
      const ratio = Math.exp(-difference);
      return { value: ratio + difference - 1, gradient: 1 - ratio };
    }
    default:
      throw new InputError(`unknown KL estimator ${JSON.stringify(estimator)}; supported: ${KL_ESTIMATORS.join(', ')}`, 'klEstimator');
  }
}

/**
 * The entropy term from target log-probs only (the backend contract exposes no full distribution).
 * `estimate` = −logp, the Monte-Carlo entropy estimate reported as a metric. `surrogate` = −½·logp²,
 * whose derivative −logp is the score-function estimate of ∇H (∇H = −E[log p · ∇log p]);
 * the loss subtracts `entropyCoef ·` its aggregate. Exact on-policy in expectation, not per sample.
 */
export function entropyTerm(logprob: number): { estimate: number; surrogate: number; gradient: number } {
  return { estimate: -logprob, surrogate: -0.5 * logprob * logprob, gradient: -logprob };
}

export function validatePolicyLossInput(input: PolicyLossInput): void {
  assertBinaryMask('lossMask_B_T', input.lossMask_B_T);
  assertSameShape('logprobs_B_T', input.logprobs_B_T, input.lossMask_B_T, 'lossMask_B_T');
  assertSameShape('oldLogprobs_B_T', input.oldLogprobs_B_T, input.lossMask_B_T, 'lossMask_B_T');
  assertSameShape('advantages_B_T', input.advantages_B_T, input.lossMask_B_T, 'lossMask_B_T');
  assertFiniteWhereMasked('logprobs_B_T', input.logprobs_B_T, input.lossMask_B_T);
  assertFiniteWhereMasked('oldLogprobs_B_T', input.oldLogprobs_B_T, input.lossMask_B_T);
  assertFiniteWhereMasked('advantages_B_T', input.advantages_B_T, input.lossMask_B_T);
}

export function validateClipConfig(clip: ClipConfig): void {
  assertFiniteNumber('clipLow', clip.clipLow, 0, 1);
  assertFiniteNumber('clipHigh', clip.clipHigh, 0);
  if (clip.dualClip !== null && !(Number.isFinite(clip.dualClip) && clip.dualClip > 1)) {
    throw new InputError(`dualClip must be a number > 1 or null, got ${clip.dualClip}`, 'dualClip');
  }
}

/** Masked-mean statistics of the policy terms, with namespaced keys. */
export function policyLossMetrics(input: PolicyLossInput, terms: PolicyLossTerms): Record<string, number> {
  let tokens = 0;
  const regionCounts = [0, 0, 0, 0];
  let ratioSum = 0;
  let approxKlSum = 0;
  input.lossMask_B_T.forEach((mask, b) => {
    const logprobs = input.logprobs_B_T[b]!;
    const old = input.oldLogprobs_B_T[b]!;
    const regions = terms.region_B_T[b]!;
    for (let t = 0; t < mask.length; t++) {
      if (mask[t] === 0) continue;
      tokens += 1;
      regionCounts[regions[t]!]! += 1;
      ratioSum += ratioOf(logprobs[t]!, old[t]!).ratio;
      approxKlSum += old[t]! - logprobs[t]!;
    }
  });
  const fraction = (count: number) => (tokens > 0 ? count / tokens : 0);
  return {
    'policy/lossTokens': tokens,
    'policy/clipFractionLow': fraction(regionCounts[CLIP_REGION.clipLow]!),
    'policy/clipFractionHigh': fraction(regionCounts[CLIP_REGION.clipHigh]!),
    'policy/dualClipFraction': fraction(regionCounts[CLIP_REGION.dualClip]!),
    'policy/ratioMean': fraction(ratioSum),
    /** mean(logp_old − logp): how far the policy moved from the sampler (verl `ppo_kl`). */
    'policy/approxKlOld': fraction(approxKlSum),
  };
}
