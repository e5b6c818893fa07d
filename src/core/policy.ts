/**
 * The training-backend contract, modelled on the Tinker API so that a remote Tinker server can
 * stand in for the embedded model with no change to the trainer. The backend knows nothing of
 * RL: it computes per-token log-probabilities, applies a loss given as a function of them, and
 * steps its optimizer.
 */
import type { SamplingEngine } from './sampling.js';

/** One training sequence: `tokens[t+1]` is predicted from `tokens[0..t]`. */
export interface TrainingDatum {
  tokens: readonly number[];
  /** Length `tokens.length - 1`: 1 where the target `tokens[t+1]` takes part in the loss. */
  lossMask: ArrayLike<number>;
}

/** Per-datum log-probabilities of the targets `tokens[1..]` (length `tokens.length - 1`). */
export type TargetLogprobs = Float32Array[];

/**
 * A loss written as a function of the target log-probabilities. It returns the loss and its
 * gradient with respect to each log-probability; the backend back-propagates that gradient.
 * Remote backends that cannot run it map it to a built-in loss or a weighted cross-entropy.
 */
export type TokenLossFunction = (logprobs: TargetLogprobs) => {
  loss: number;
  gradients: Float32Array[];
  metrics: Record<string, number>;
};

/** A loss the backend computes itself (the Tinker built-ins). */
export type BuiltinLoss =
  | { kind: 'cross_entropy'; weights: Float32Array[] }
  | { kind: 'importance_sampling'; advantages: Float32Array[]; samplingLogprobs: Float32Array[] }
  | {
      kind: 'ppo';
      advantages: Float32Array[];
      samplingLogprobs: Float32Array[];
      clipLow: number;
      clipHigh: number;
    };

export interface ForwardBackwardResult {
  loss: number;
  /** Log-probabilities computed in the forward pass, before the update. */
  logprobs: TargetLogprobs;
  metrics: Record<string, number>;
}

export interface AdamParams {
  learningRate: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Global gradient-norm clip; 0 disables. */
  gradClip: number;
}

export interface PolicyBackend extends SamplingEngine {
  /** Log-probabilities of the targets, no gradient. */
  forward(data: readonly TrainingDatum[]): Promise<TargetLogprobs>;
  /** Accumulates gradients of the loss; call `optimStep` to apply them. */
  forwardBackward(data: readonly TrainingDatum[], loss: TokenLossFunction | BuiltinLoss): Promise<ForwardBackwardResult>;
  optimStep(params: AdamParams): Promise<{ gradNorm: number }>;
  /** Saves weights and optimizer state under `name`; returns where. */
  save(name: string): Promise<string>;
  load(path: string): Promise<void>;
  /**
   * Remote backends: after a SessionLostError, opens a new session with the last checkpoint saved or loaded
   * (weights and optimizer); returns its path, or null when there was none (the base model).
   */
  recover?(): Promise<string | null>;
}
