/**
 * The backend's built-in losses (the Tinker set) as functions of the target log-probabilities,
 * each returning the loss (a sum over tokens, as Tinker defines them) and d loss / d logprob.
 */
import type { BuiltinLoss, TargetLogprobs, TokenLossFunction } from '../core/policy.js';
import { InputError } from '../core/errors.js';

type LossOutput = ReturnType<TokenLossFunction>;

export function isBuiltinLoss(loss: TokenLossFunction | BuiltinLoss): loss is BuiltinLoss {
  return typeof loss !== 'function';
}

function checkLengths(name: string, arrays: Float32Array[] | undefined, logprobs: TargetLogprobs): Float32Array[] {
  if (!arrays || arrays.length !== logprobs.length) throw new InputError(`needs one array per datum (${logprobs.length})`, `${name} loss input`);
  arrays.forEach((array, i) => {
    if (array.length !== logprobs[i]!.length) throw new InputError(`datum ${i} has ${array.length} values for ${logprobs[i]!.length} targets`, `${name} loss input`);
  });
  return arrays;
}

export function builtinLoss(loss: BuiltinLoss, logprobs: TargetLogprobs): LossOutput {
  let total = 0;
  let clipped = 0;
  let tokens = 0;
  const gradients = logprobs.map((row) => new Float32Array(row.length));
  if (loss.kind === 'cross_entropy') {
    const weights = checkLengths('cross_entropy weights', loss.weights, logprobs);
    logprobs.forEach((row, i) => {
      for (let t = 0; t < row.length; t++) {
        const w = weights[i]![t]!;
        total -= w * row[t]!;
        gradients[i]![t] = -w;
        if (w !== 0) tokens++;
      }
    });
    return { loss: total, gradients, metrics: { 'loss:sum': total, tokens } };
  }
  const advantages = checkLengths(`${loss.kind} advantages`, loss.advantages, logprobs);
  const sampling = checkLengths(`${loss.kind} samplingLogprobs`, loss.samplingLogprobs, logprobs);
  logprobs.forEach((row, i) => {
    for (let t = 0; t < row.length; t++) {
      const advantage = advantages[i]![t]!;
      if (advantage === 0) continue;
      tokens++;
      const ratio = Math.exp(row[t]! - sampling[i]![t]!);
      if (loss.kind === 'importance_sampling') {
        total -= ratio * advantage;
        gradients[i]![t] = -ratio * advantage;
      } else {
        // Tinker's ppo: clip thresholds are ratio bounds (e.g. 0.8 and 1.2), loss -min(rA, clip(r)A).
        const clippedRatio = Math.min(Math.max(ratio, loss.clipLow), loss.clipHigh);
        const unclippedTerm = ratio * advantage;
        const clippedTerm = clippedRatio * advantage;
        if (unclippedTerm <= clippedTerm) {
          total -= unclippedTerm;
          gradients[i]![t] = -unclippedTerm;
        } else {
          total -= clippedTerm;
          clipped++;
        }
      }
    }
  });
  return { loss: total, gradients, metrics: { 'loss:sum': total, tokens, ...(loss.kind === 'ppo' ? { clip_fraction: tokens ? clipped / tokens : 0 } : {}) } };
}
