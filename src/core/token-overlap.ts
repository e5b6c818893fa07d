/**
 * Where a continuation resumes a planned turn: the longest j such that `prompt` ends with
 * `turn[0..j)`. The scripted engine (the rollout bench's simulated server) and the test servers built
 * after vLLM and llama.cpp use it to continue a scripted answer after a tool output or a resumed stream.
 */
export function overlap(prompt: readonly number[], turn: readonly number[]): number {
  for (let j = Math.min(prompt.length, turn.length - 1); j > 0; j -= 1) {
    let match = true;
    for (let i = 0; i < j && match; i += 1) match = prompt[prompt.length - j + i] === turn[i];
    if (match) return j;
  }
  return 0;
}
