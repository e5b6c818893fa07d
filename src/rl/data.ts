/**
 * Training-data assembly: a token-exact `Trajectory` becomes a `TrainingDatum` plus the arrays the
 * losses need, all aligned with the datum's targets (`tokens[t+1]` at index t). No re-tokenization:
 * the trained ids are the sampled ids, which the paper's string-level pipeline (decode, then re-encode,
 * in RUCAIBox/CIR@6d27817 verl/verl-main/verl/workers/rollout/vllm_rollout/vllm_rollout_spmd.py) could not promise.
 */
import { InputError } from '../core/errors.js';
import type { TrainingDatum } from '../core/policy.js';
import type { Trajectory } from '../core/trajectory.js';

export interface DatumOptions {
  /**
   * Keep interpreter output out of the loss (the paper's masking of external feedback). `false` is the ablation: tool tokens
   * are trained like policy tokens; their old log-probs are then unknown (NaN) and must be filled
   * from a forward pass (`fillMissingLogprobs`), as the paper's code recomputes them anyway.
   */
  maskToolOutput: boolean;
}

export interface AssembledDatum {
  datum: TrainingDatum & { lossMask: Float32Array };
  /** Sampling log-prob of each target; NaN where the target was not sampled by the policy or the engine gave none. */
  samplingLogprobs: Float32Array;
  /** 1 for every target after the prompt (policy and tool), 0 for prompt targets: the whitening mask. */
  responseMask: Float32Array;
  promptTokens: number;
  policyTokens: number;
  toolTokens: number;
}

/** Builds the datum of one trajectory; throws `InputError` for an infra-failed or malformed one. */
export function trajectoryToDatum(trajectory: Trajectory, options: DatumOptions): AssembledDatum {
  if (trajectory.infraFailure) {
    throw new InputError('a trajectory with an infrastructure failure must not enter the gradient', 'trajectory.infraFailure');
  }
  const segments = trajectory.segments;
  if (segments.length === 0 || segments[0]!.origin !== 'prompt') {
    throw new InputError('a trajectory must start with a prompt segment', 'trajectory.segments');
  }
  const tokens: number[] = [];
  const origins: number[] = []; // 0 prompt, 1 policy, 2 tool, per token
  const logprobs: number[] = [];
  let promptDone = false;
  segments.forEach((segment, index) => {
    if (segment.origin === 'prompt' && promptDone) {
      throw new InputError(`segment ${index} is a prompt segment after the response began`, 'trajectory.segments');
    }
    if (segment.origin !== 'prompt') promptDone = true;
    if (segment.logprobs !== undefined && segment.logprobs.length !== segment.tokens.length) {
      throw new InputError(
        `segment ${index} has ${segment.tokens.length} tokens but ${segment.logprobs.length} log-probs`,
        'trajectory.segments.logprobs',
      );
    }
    segment.tokens.forEach((token, t) => {
      if (!Number.isInteger(token) || token < 0) {
        throw new InputError(`segment ${index} token ${t} is not a token id: ${token}`, 'trajectory.segments.tokens');
      }
      tokens.push(token);
      origins.push(segment.origin === 'prompt' ? 0 : segment.origin === 'policy' ? 1 : 2);
      const logprob = segment.origin === 'policy' ? segment.logprobs?.[t] : undefined;
      logprobs.push(logprob ?? Number.NaN);
    });
  });
  if (tokens.length < 2) throw new InputError(`a trajectory needs at least 2 tokens, got ${tokens.length}`, 'trajectory.segments');

  const targets = tokens.length - 1;
  const lossMask = new Float32Array(targets);
  const responseMask = new Float32Array(targets);
  const samplingLogprobs = new Float32Array(targets);
  let promptTokens = 0;
  let policyTokens = 0;
  let toolTokens = 0;
  origins.forEach((origin) => {
    if (origin === 0) promptTokens += 1;
    else if (origin === 1) policyTokens += 1;
    else toolTokens += 1;
  });
  for (let t = 0; t < targets; t++) {
    const origin = origins[t + 1]!;
    responseMask[t] = origin === 0 ? 0 : 1;
    lossMask[t] = origin === 1 || (origin === 2 && !options.maskToolOutput) ? 1 : 0;
    samplingLogprobs[t] = logprobs[t + 1]!;
  }
  const assembled: AssembledDatum = {
    datum: { tokens, lossMask },
    samplingLogprobs,
    responseMask,
    promptTokens,
    policyTokens,
    toolTokens,
  };
  checkDatumAlignment(trajectory, assembled, options);
  return assembled;
}

/**
 * The invariant at the boundary between rollout and training: lengths agree, every target is the
 * token the trajectory recorded (policy targets are the sampled ids), tool targets are masked when
 * masking is on, and prompt targets never take part in the loss. Throws `InputError` on a violation.
 */
export function checkDatumAlignment(trajectory: Trajectory, assembled: AssembledDatum, options: DatumOptions): void {
  const { datum, samplingLogprobs, responseMask } = assembled;
  const targets = datum.tokens.length - 1;
  for (const [name, array] of [['lossMask', datum.lossMask], ['samplingLogprobs', samplingLogprobs], ['responseMask', responseMask]] as const) {
    if (array.length !== targets) throw new InputError(`${name} has length ${array.length}, expected ${targets} (tokens − 1)`, name);
  }
  let position = 0;
  trajectory.segments.forEach((segment, index) => {
    segment.tokens.forEach((token, t) => {
      if (datum.tokens[position] !== token) {
        throw new InputError(`token ${position} is ${datum.tokens[position]} but segment ${index} sampled ${token} there`, 'datum.tokens');
      }
      const target = position - 1;
      if (target >= 0) {
        const expectedLoss = segment.origin === 'policy' || (segment.origin === 'tool' && !options.maskToolOutput) ? 1 : 0;
        if (datum.lossMask[target] !== expectedLoss) {
          throw new InputError(`lossMask[${target}] is ${datum.lossMask[target]} for a ${segment.origin} token, expected ${expectedLoss}`, 'datum.lossMask');
        }
        const sampled = segment.origin === 'policy' ? segment.logprobs?.[t] : undefined;
        const actual = samplingLogprobs[target]!;
        if (sampled === undefined ? !Number.isNaN(actual) : actual !== Math.fround(sampled)) {
          throw new InputError(`samplingLogprobs[${target}] is ${actual}, expected ${sampled ?? 'NaN'}`, 'samplingLogprobs');
        }
      }
      position += 1;
    });
  });
  if (position !== datum.tokens.length) {
    throw new InputError(`datum has ${datum.tokens.length} tokens but the trajectory has ${position}`, 'datum.tokens');
  }
}

/** Replaces NaN (unknown) old log-probs by recomputed ones, e.g. from `PolicyBackend.forward`. */
export function fillMissingLogprobs(samplingLogprobs_B_T: readonly Float32Array[], recomputed_B_T: readonly ArrayLike<number>[]): Float32Array[] {
  if (samplingLogprobs_B_T.length !== recomputed_B_T.length) {
    throw new InputError(`recomputed log-probs have ${recomputed_B_T.length} rows, expected ${samplingLogprobs_B_T.length}`, 'recomputed_B_T');
  }
  return samplingLogprobs_B_T.map((row, b) => {
    const recomputed = recomputed_B_T[b]!;
    if (recomputed.length !== row.length) {
      throw new InputError(`recomputed log-probs row ${b} has length ${recomputed.length}, expected ${row.length}`, 'recomputed_B_T');
    }
    return row.map((value, t) => (Number.isNaN(value) ? recomputed[t]! : value));
  });
}

/** A graded trajectory: its reward and the prompt (group) it answers. */
export interface ScoredTrajectory {
  trajectory: Trajectory;
  reward: number;
  groupId: string | number;
}

export interface AssembledBatch {
  data: (TrainingDatum & { lossMask: Float32Array })[];
  samplingLogprobs_B_T: Float32Array[];
  responseMask_B_T: Float32Array[];
  lossMask_B_T: Float32Array[];
  rewards_B: number[];
  groupIds_B: (string | number)[];
  /** The items that made it in, in batch order. */
  kept: ScoredTrajectory[];
  metrics: Record<string, number>;
}

/** Assembles a batch, leaving out (and counting) trajectories touched by an infrastructure failure. */
export function assembleBatch(items: readonly ScoredTrajectory[], options: DatumOptions): AssembledBatch {
  const batch: AssembledBatch = {
    data: [],
    samplingLogprobs_B_T: [],
    responseMask_B_T: [],
    lossMask_B_T: [],
    rewards_B: [],
    groupIds_B: [],
    kept: [],
    metrics: {},
  };
  let excluded = 0;
  let lossTokens = 0;
  let responseTokens = 0;
  for (const item of items) {
    if (item.trajectory.infraFailure) {
      excluded += 1;
      continue;
    }
    if (!Number.isFinite(item.reward)) throw new InputError(`reward must be a finite number, got ${item.reward}`, 'reward');
    const assembled = trajectoryToDatum(item.trajectory, options);
    batch.data.push(assembled.datum);
    batch.samplingLogprobs_B_T.push(assembled.samplingLogprobs);
    batch.responseMask_B_T.push(assembled.responseMask);
    batch.lossMask_B_T.push(assembled.datum.lossMask);
    batch.rewards_B.push(item.reward);
    batch.groupIds_B.push(item.groupId);
    batch.kept.push(item);
    for (let t = 0; t < assembled.responseMask.length; t++) {
      lossTokens += assembled.datum.lossMask[t]!;
      responseTokens += assembled.responseMask[t]!;
    }
  }
  batch.metrics = {
    'data/trajectories': items.length,
    'data/excludedInfraFailure': excluded,
    'data/sequences': batch.data.length,
    'data/lossTokens': lossTokens,
    'data/responseTokens': responseTokens,
    // The paper's `state_tokens/coverage`: the share of response tokens that are trained.
    'data/lossCoverage': responseTokens > 0 ? lossTokens / responseTokens : 0,
  };
  return batch;
}
