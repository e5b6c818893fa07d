/**
 * The bridge from the RL math to a `PolicyBackend`: a `TokenLossFunction` that, given the
 * current target log-probs, returns the full objective (policy loss + KL − entropy) and its
 * exact gradient w.r.t. each log-prob. Aggregation is linear in the per-token losses
 * (`aggregationWeights`), so the gradient is weight × per-token derivative, token by token.
 */
import { InputError } from '../core/errors.js';
import type { TargetLogprobs, TokenLossFunction } from '../core/policy.js';
import { aggregationWeights, assertLossAggregationMode, type LossAggregationMode } from './aggregation.js';
import {
  entropyTerm,
  getPolicyLoss,
  klPenalty,
  KL_ESTIMATORS,
  policyLossMetrics,
  validateClipConfig,
  validatePolicyLossInput,
  type ClipConfig,
  type KlEstimator,
  type PolicyLossInput,
} from './policy-losses.js';
import { assertFiniteNumber, assertFiniteWhereMasked, assertSameShape, type Ragged } from './shapes.js';

export interface LossConfig extends ClipConfig {
  /** A registered policy loss: `ppo_clip` (paper), `vanilla`, `importance_sampling`. */
  policyLoss: string;
  aggregation: LossAggregationMode;
  /** Divisor of `seq-mean-token-sum-norm`; default the longest row. */
  normLength?: number;
  /** Weight of the KL penalty against the reference policy; 0 (paper) needs no reference log-probs. */
  klCoef: number;
  klEstimator: KlEstimator;
  /** Weight of the entropy bonus; 0 in the paper. */
  entropyCoef: number;
}

/** The paper's loss (RUCAIBox/CIR run.sh over core_algos.py `compute_policy_loss`): PPO clip 0.2/0.28, dual clip 3, token-mean, no KL, no entropy. */
export const PAPER_LOSS_CONFIG: Readonly<LossConfig> = Object.freeze({
  policyLoss: 'ppo_clip',
  clipLow: 0.2,
  clipHigh: 0.28,
  dualClip: 3,
  aggregation: 'token-mean',
  klCoef: 0,
  klEstimator: 'k3',
  entropyCoef: 0,
});

/** Everything about a batch that is fixed before the forward pass. Rows align with the data's targets. */
export interface TokenLossBatch {
  advantages_B_T: Ragged;
  /** Log-probs of the sampling policy (π_old); may be NaN where `lossMask_B_T` is 0. */
  samplingLogprobs_B_T: Ragged;
  lossMask_B_T: Ragged;
  /** Reference-policy log-probs; required when `klCoef` > 0. */
  referenceLogprobs_B_T?: Ragged;
}

export interface RlLossResult {
  loss: number;
  gradients: Float32Array[];
  metrics: Record<string, number>;
}

export function validateLossConfig(config: LossConfig): void {
  getPolicyLoss(config.policyLoss);
  validateClipConfig(config);
  assertLossAggregationMode(config.aggregation);
  assertFiniteNumber('klCoef', config.klCoef, 0);
  assertFiniteNumber('entropyCoef', config.entropyCoef);
  if (!(KL_ESTIMATORS as readonly string[]).includes(config.klEstimator)) {
    throw new InputError(`unknown KL estimator ${JSON.stringify(config.klEstimator)}; supported: ${KL_ESTIMATORS.join(', ')}`, 'klEstimator');
  }
}

function validateBatch(batch: TokenLossBatch, config: LossConfig): void {
  if (config.klCoef > 0) {
    if (batch.referenceLogprobs_B_T === undefined) {
      throw new InputError('klCoef > 0 needs referenceLogprobs_B_T', 'referenceLogprobs_B_T');
    }
    assertSameShape('referenceLogprobs_B_T', batch.referenceLogprobs_B_T, batch.lossMask_B_T, 'lossMask_B_T');
    assertFiniteWhereMasked('referenceLogprobs_B_T', batch.referenceLogprobs_B_T, batch.lossMask_B_T);
  }
}

/** The objective and its exact gradient at `logprobs_B_T`. Pure; validates everything. */
export function computeRlLoss(logprobs_B_T: Ragged, batch: TokenLossBatch, config: LossConfig): RlLossResult {
  validateLossConfig(config);
  validateBatch(batch, config);
  const input: PolicyLossInput = {
    logprobs_B_T,
    oldLogprobs_B_T: batch.samplingLogprobs_B_T,
    advantages_B_T: batch.advantages_B_T,
    lossMask_B_T: batch.lossMask_B_T,
  };
  validatePolicyLossInput(input);
  const terms = getPolicyLoss(config.policyLoss)(input, config);
  const weights_B_T = aggregationWeights(
    batch.lossMask_B_T,
    config.aggregation,
    config.normLength === undefined ? {} : { normLength: config.normLength },
  );
  let policyLoss = 0;
  let kl = 0;
  let entropy = 0;
  let entropySurrogate = 0;
  const gradients = weights_B_T.map((weights, b) => {
    const logprobs = logprobs_B_T[b]!;
    const reference = batch.referenceLogprobs_B_T?.[b];
    const gradient = new Float32Array(weights.length);
    for (let t = 0; t < weights.length; t++) {
      const weight = weights[t]!;
      if (weight === 0) continue;
      let derivative = terms.gradient_B_T[b]![t]!;
      policyLoss += weight * terms.loss_B_T[b]![t]!;
      if (config.klCoef > 0 && reference !== undefined) {
        const penalty = klPenalty(logprobs[t]!, reference[t]!, config.klEstimator);
        kl += weight * penalty.value;
        derivative += config.klCoef * penalty.gradient;
      }
      const term = entropyTerm(logprobs[t]!);
      entropy += weight * term.estimate;
      entropySurrogate += weight * term.surrogate;
      derivative -= config.entropyCoef * term.gradient;
      gradient[t] = weight * derivative;
    }
    return gradient;
  });
  const loss = policyLoss + config.klCoef * kl - config.entropyCoef * entropySurrogate;
  const metrics: Record<string, number> = {
    'loss/total': loss,
    'policy/loss': policyLoss,
    ...policyLossMetrics(input, terms),
    // Aggregated like the loss (so with token-mean: the mean over loss tokens).
    'policy/entropy': entropy,
  };
  if (config.klCoef > 0) metrics['policy/kl'] = kl;
  return { loss, gradients, metrics };
}

/**
 * Builds the `TokenLossFunction` handed to `PolicyBackend.forwardBackward`. The batch and config
 * are checked once here, so a mistake surfaces before the forward pass.
 * With several mini-batches per step, build one function per mini-batch: token-mean is then taken
 * within the mini-batch, as in the paper's code (RUCAIBox/CIR verl/workers/actor/dp_actor.py).
 */
export function buildTokenLoss(batch: TokenLossBatch, config: LossConfig): TokenLossFunction {
  validateLossConfig(config);
  validateBatch(batch, config);
  assertSameShape('samplingLogprobs_B_T', batch.samplingLogprobs_B_T, batch.lossMask_B_T, 'lossMask_B_T');
  assertSameShape('advantages_B_T', batch.advantages_B_T, batch.lossMask_B_T, 'lossMask_B_T');
  assertFiniteWhereMasked('samplingLogprobs_B_T', batch.samplingLogprobs_B_T, batch.lossMask_B_T);
  return (logprobs: TargetLogprobs) => computeRlLoss(logprobs, batch, config);
}
