/** Choosing the next token from logits: temperature, top-k, top-p, seeded. Shared by the embedded model and the llama.cpp engine. */
import type { Rng } from './rng.js';

export interface TokenChoice {
  token: number;
  /** Log-probability under softmax(logits / temperature) (temperature 1 when greedy), before top-k/top-p. */
  logprob: number;
}

/**
 * logits (V), read-only; `order` is (V) scratch. Greedy when temperature is 0. Top-k and top-p
 * restrict the candidates (renormalised); the reported log-probability is that of the full
 * tempered distribution, which is what an RL importance ratio needs when top-k/top-p are off.
 */
export function chooseToken(
  logits: Float32Array,
  temperature: number,
  topK: number,
  topP: number,
  rng: Rng,
  probs: Float64Array,
  order: Int32Array,
): TokenChoice {
  const V = logits.length;
  const t = temperature > 0 ? temperature : 1;
  let max = -Infinity;
  let argmax = 0;
  for (let v = 0; v < V; v++) {
    if (logits[v]! > max) {
      max = logits[v]!;
      argmax = v;
    }
  }
  let sum = 0;
  for (let v = 0; v < V; v++) {
    const e = Math.exp((logits[v]! - max) / t);
    probs[v] = e;
    sum += e;
  }
  const logSum = Math.log(sum);
  const logprobOf = (token: number) => (logits[token]! - max) / t - logSum;
  if (temperature <= 0) return { token: argmax, logprob: logprobOf(argmax) };
  const restrict = (topK > 0 && topK < V) || topP < 1;
  if (!restrict) {
    let u = rng.next() * sum;
    for (let v = 0; v < V; v++) {
      u -= probs[v]!;
      if (u <= 0) return { token: v, logprob: logprobOf(v) };
    }
    return { token: argmax, logprob: logprobOf(argmax) };
  }
  for (let v = 0; v < V; v++) order[v] = v;
  // Sorted in place (a stable sort, as Array's): the scratch buffer is the candidate list, nothing is allocated.
  const sorted = order.sort((a, b) => probs[b]! - probs[a]!);
  let keep = topK > 0 ? Math.min(topK, V) : V;
  if (topP < 1) {
    let mass = 0;
    for (let i = 0; i < keep; i++) {
      mass += probs[sorted[i]!]! / sum;
      if (mass >= topP) {
        keep = i + 1;
        break;
      }
    }
  }
  let kept = 0;
  for (let i = 0; i < keep; i++) kept += probs[sorted[i]!]!;
  let u = rng.next() * kept;
  for (let i = 0; i < keep; i++) {
    const token = sorted[i]!;
    u -= probs[token]!;
    if (u <= 0) return { token, logprob: logprobOf(token) };
  }
  const first = sorted[0]!;
  return { token: first, logprob: logprobOf(first) };
}
