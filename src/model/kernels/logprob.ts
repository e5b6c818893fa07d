/**
 * Target log-probabilities from logits, and their backward: d logp(t) / d logits = onehot(t) - softmax.
 * The backend's losses are functions of these log-probabilities (the Tinker contract), so this is the
 * model's only output head.
 */

/**
 * logprobs (N) = log softmax(logits)[targets]; logits (N,V) are overwritten with the softmax
 * probabilities, which backward needs. Rows with target < 0 get logprob 0.
 */
export function logprobForward(logprobs: Float32Array, logits: Float32Array, targets: ArrayLike<number>, N: number, V: number): void {
  for (let n = 0; n < N; n++) {
    const row = n * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (logits[row + v]! > max) max = logits[row + v]!;
    const target = targets[n]!;
    const targetLogit = target >= 0 ? logits[row + target]! : 0;
    let sum = 0;
    for (let v = 0; v < V; v++) {
      const e = Math.exp(logits[row + v]! - max);
      logits[row + v] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let v = 0; v < V; v++) logits[row + v] = logits[row + v]! * inv;
    logprobs[n] = target >= 0 ? targetLogit - max - Math.log(sum) : 0;
  }
}

/** dlogits (N,V) = dlogprobs[n] · (onehot(target) - probs); probs (N,V) from logprobForward. May alias. */
export function logprobBackward(dlogits: Float32Array, probs: Float32Array, dlogprobs: Float32Array, targets: ArrayLike<number>, N: number, V: number): void {
  for (let n = 0; n < N; n++) {
    const row = n * V;
    const g = dlogprobs[n]!;
    const target = targets[n]!;
    if (g === 0 || target < 0) {
      dlogits.fill(0, row, row + V);
      continue;
    }
    for (let v = 0; v < V; v++) dlogits[row + v] = -g * probs[row + v]!;
    dlogits[row + target] = dlogits[row + target]! + (g);
  }
}
