/**
 * The one home of the built-in losses (Tinker's set: thinking-machines-lab/tinker @ d595dc2,
 * src/tinker/types/loss_fn_type.py) as pure functions of the learner's target log-probabilities.
 * All are token-level SUMS over tokens and data, as the hosted service computes them; masking is
 * zero weights or zero advantages. The embedded model runs them for a core BuiltinLoss, and
 * `cir serve` runs them to answer forward_backward by loss name.
 */
import { InputError } from './errors.js';
import type { BuiltinLoss, TokenLossFunction } from './policy.js';

/** The losses both ends implement; the SDK also names cispo and dro, which are refused by name. */
export type TinkerLossName = 'cross_entropy' | 'importance_sampling' | 'ppo';
export const TINKER_LOSS_NAMES: readonly TinkerLossName[] = ['cross_entropy', 'importance_sampling', 'ppo'];

/** Per-datum float inputs by name (`weights`, `advantages`, `logprobs`), each the length of the targets. */
export type LossInputs = Record<string, Float32Array>;

export interface PpoThresholds {
  /** Lower bound on the ratio, e.g. 0.8 (= 1 − ε_low). */
  clipLowThreshold: number;
  /** Upper bound on the ratio, e.g. 1.28 (= 1 + ε_high). */
  clipHighThreshold: number;
}

function required(inputs: LossInputs, key: string, length: number, datum: number): Float32Array {
  const values = inputs[key];
  if (!values) throw new InputError(`is required by this loss`, `data[${datum}].loss_fn_inputs.${key}`);
  if (values.length !== length) throw new InputError(`has length ${values.length}, expected ${length}`, `data[${datum}].loss_fn_inputs.${key}`);
  return values;
}

/** Per-token loss and its derivative with respect to the learner log-probability. */
type TokenTerm = (logprob: number, index: number, inputs: LossInputs) => { loss: number; gradient: number; clipped: boolean };

function termFor(name: TinkerLossName, config: Record<string, number>): { term: TokenTerm; keys: string[] } {
  switch (name) {
    case 'cross_entropy':
      // −w·log p
      return { keys: ['weights'], term: (lp, i, x) => ({ loss: -(x['weights'] as Float32Array)[i]! * lp, gradient: -(x['weights'] as Float32Array)[i]!, clipped: false }) };
    case 'importance_sampling':
      // −exp(log p − log q)·A ; d/dlogp = −r·A
      return {
        keys: ['advantages', 'logprobs'],
        term: (lp, i, x) => {
          const advantage = (x['advantages'] as Float32Array)[i]!;
          const ratio = Math.exp(lp - (x['logprobs'] as Float32Array)[i]!);
          return { loss: -ratio * advantage, gradient: -ratio * advantage, clipped: false };
        },
      };
    case 'ppo': {
      const low = config['clip_low_threshold'] ?? 0.8;
      const high = config['clip_high_threshold'] ?? 1.2;
      if (!(low > 0 && low <= 1 && high >= 1)) {
        throw new InputError(`needs 0 < clip_low_threshold <= 1 <= clip_high_threshold, got ${low} and ${high}`, 'loss_fn_config');
      }
      // −min(r·A, clip(r, lo, hi)·A): the gradient is −r·A unless the clipped term is the smaller one.
      return {
        keys: ['advantages', 'logprobs'],
        term: (lp, i, x) => {
          const advantage = (x['advantages'] as Float32Array)[i]!;
          const ratio = Math.exp(lp - (x['logprobs'] as Float32Array)[i]!);
          const unclipped = ratio * advantage;
          const clippedValue = Math.min(Math.max(ratio, low), high) * advantage;
          if (clippedValue < unclipped) return { loss: -clippedValue, gradient: 0, clipped: true };
          return { loss: -unclipped, gradient: -unclipped, clipped: false };
        },
      };
    }
  }
}

/** The config keys each loss accepts (anything else is refused, as SkyRL does with 422). */
export const LOSS_CONFIG_KEYS: Record<TinkerLossName, readonly string[]> = {
  cross_entropy: [],
  importance_sampling: [],
  ppo: ['clip_low_threshold', 'clip_high_threshold'],
};

/**
 * Builds the loss as a `TokenLossFunction` over the learner log-probabilities of each datum,
 * checking that every required input is present and sized. Metrics: `loss:sum`, `tokens` (tokens
 * with a non-zero weight or advantage), and for ppo `clip_fraction` over those tokens.
 */
export function tinkerLoss(name: TinkerLossName, inputs_D: readonly LossInputs[], config: Record<string, number> = {}): TokenLossFunction {
  for (const key of Object.keys(config)) {
    if (!LOSS_CONFIG_KEYS[name].includes(key)) {
      throw new InputError(`${name} takes no config key ${JSON.stringify(key)} (accepted: ${LOSS_CONFIG_KEYS[name].join(', ') || 'none'})`, 'loss_fn_config');
    }
  }
  const { term, keys } = termFor(name, config);
  return (logprobs_D) => {
    if (logprobs_D.length !== inputs_D.length) throw new InputError(`${logprobs_D.length} sequences for ${inputs_D.length} inputs`, 'data');
    let loss = 0;
    let clippedCount = 0;
    let activeCount = 0;
    const gradients = logprobs_D.map((logprobs_T, d) => {
      const inputs = inputs_D[d] as LossInputs;
      for (const key of keys) required(inputs, key, logprobs_T.length, d);
      const gradient_T = new Float32Array(logprobs_T.length);
      for (let t = 0; t < logprobs_T.length; t++) {
        const result = term(logprobs_T[t] as number, t, inputs);
        loss += result.loss;
        gradient_T[t] = result.gradient;
        if ((inputs[keys[0] as string] as Float32Array)[t] !== 0) {
          activeCount++;
          if (result.clipped) clippedCount++;
        }
      }
      return gradient_T;
    });
    const metrics: Record<string, number> = { 'loss:sum': loss, tokens: activeCount };
    if (name === 'ppo') metrics['clip_fraction'] = activeCount > 0 ? clippedCount / activeCount : 0;
    return { loss, gradients, metrics };
  };
}

/**
 * A core BuiltinLoss as the same Tinker loss (PPO's clipLow/clipHigh are ratio bounds such as 0.8
 * and 1.28). With `masks` (each datum's lossMask) masked targets get zero weight or advantage, so
 * they add nothing to the loss either.
 */
export function builtinLossFunction(loss: BuiltinLoss, masks?: readonly ArrayLike<number>[]): TokenLossFunction {
  const masked = (rows: readonly Float32Array[]) => (masks ? rows.map((row, d) => row.map((x, t) => x * (masks[d]?.[t] ?? 0))) : rows);
  switch (loss.kind) {
    case 'cross_entropy':
      return tinkerLoss('cross_entropy', masked(loss.weights).map((weights) => ({ weights })));
    case 'importance_sampling':
      return tinkerLoss('importance_sampling', masked(loss.advantages).map((advantages, d) => ({ advantages, logprobs: loss.samplingLogprobs[d] ?? new Float32Array() })));
    case 'ppo':
      return tinkerLoss(
        'ppo',
        masked(loss.advantages).map((advantages, d) => ({ advantages, logprobs: loss.samplingLogprobs[d] ?? new Float32Array() })),
        { clip_low_threshold: loss.clipLow, clip_high_threshold: loss.clipHigh },
      );
  }
}

export function isBuiltinLoss(loss: TokenLossFunction | BuiltinLoss): loss is BuiltinLoss {
  return typeof loss !== 'function';
}
