/**
 * Views derived from a token-exact trajectory: text for display and grading, the loss mask and the
 * training datum for the trainer, and the check that what is trained is what was sampled.
 */
import { CirError } from '../core/errors.js';
import type { TrainingDatum } from '../core/policy.js';
import type { Trajectory } from '../core/trajectory.js';

/** The whole text: prompt, model output and tool output. */
export function trajectoryText(trajectory: Trajectory): string {
  return trajectory.segments.map((segment) => segment.text).join('');
}

/** Everything after the prompt (what the paper calls the response). */
export function responseText(trajectory: Trajectory): string {
  return trajectory.segments
    .filter((segment) => segment.origin !== 'prompt')
    .map((segment) => segment.text)
    .join('');
}

export function trajectoryTokens(trajectory: Trajectory): number[] {
  return trajectory.segments.flatMap((segment) => segment.tokens);
}

/** One entry per token: 1 for tokens the policy sampled, 0 for prompt and tool tokens. */
export function lossMask(trajectory: Trajectory): number[] {
  return trajectory.segments.flatMap((segment) => segment.tokens.map(() => (segment.origin === 'policy' ? 1 : 0)));
}

/** Sampling log-probabilities aligned with `trajectoryTokens` (0 where not sampled); null if any are missing. */
export function samplingLogprobs(trajectory: Trajectory): number[] | null {
  const out: number[] = [];
  for (const segment of trajectory.segments) {
    if (segment.origin !== 'policy') out.push(...segment.tokens.map(() => 0));
    else if (segment.logprobs && segment.logprobs.length === segment.tokens.length) out.push(...segment.logprobs);
    else return null;
  }
  return out;
}

/** The trainer's datum: targets `tokens[1..]` with the mask of each target. */
export function trainingDatum(trajectory: Trajectory): TrainingDatum {
  return { tokens: trajectoryTokens(trajectory), lossMask: lossMask(trajectory).slice(1) };
}

export class TokenMismatchError extends CirError {
  override readonly name: string = 'TokenMismatchError';
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

/**
 * Asserts the invariant the paper's pipeline breaks (cir-reference §12.10): the token ids trained on,
 * with mask 1, are exactly the ids the engine sampled, in order, and every sampled id is in the datum.
 * `sampled` lists each policy segment's sampled ids (e.g. `RolloutTrajectory.sampledTokens`).
 */
export function assertTrainedEqualsSampled(datum: TrainingDatum, sampled: readonly (readonly number[])[]): void {
  const { tokens, lossMask: mask } = datum;
  if (mask.length !== tokens.length - 1) {
    throw new TokenMismatchError(`loss mask has ${mask.length} entries for ${tokens.length} tokens (expected tokens - 1)`, -1);
  }
  const expected = sampled.flat();
  let cursor = 0;
  for (let t = 1; t < tokens.length; t += 1) {
    if (mask[t - 1] !== 1) continue;
    if (cursor >= expected.length) throw new TokenMismatchError(`trained token at ${t} was never sampled`, t);
    if (tokens[t] !== expected[cursor]) {
      throw new TokenMismatchError(`trained token ${tokens[t]} at ${t} differs from sampled token ${expected[cursor]}`, t);
    }
    cursor += 1;
  }
  if (cursor !== expected.length) throw new TokenMismatchError(`${expected.length - cursor} sampled tokens are missing from the datum`, tokens.length);
}
