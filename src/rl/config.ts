/**
 * The trainer's configuration with the paper's values as the documented default
 * (RUCAIBox/CIR@6d27817 verl/verl-main/scripts/run/run.sh over verl/trainer/config/ppo_trainer.yaml). Saved beside
 * every checkpoint as JSON, so it holds data only.
 */
import { InputError } from '../core/errors.js';
import type { AdamParams } from '../core/policy.js';
import { getAdvantageEstimator, type AdvantageOptions } from './advantages.js';
import { paperBudgetSchedule, validateBudgetSchedule, type BudgetSchedule } from './budget.js';
import { PAPER_LOSS_CONFIG, validateLossConfig, type LossConfig } from './token-loss.js';

export interface RolloutSettings {
  temperature: number;
  /** 1 disables nucleus sampling. */
  topP: number;
  /** 0 disables top-k (the paper's −1). */
  topK: number;
  /** Whole response, tool output included (paper 4096). */
  maxResponseTokens: number;
  maxPromptTokens: number;
}

export interface RlConfig {
  /** A registered estimator; the paper's "REINFORCE++" is `reinforce_plus_plus_baseline`. */
  advantageEstimator: string;
  advantage: AdvantageOptions;
  loss: LossConfig;
  /**
   * AdamW. The paper: lr 1e-6 constant (no warm-up) for a 7B model. That value is for a
   * pretrained 7B; the small embedded model needs its own, much larger lr, set by the trainer.
   */
  optimizer: AdamParams;
  promptsPerStep: number;
  /** Rollouts per prompt (the group size n). */
  groupSize: number;
  /** Optimizer steps per training step (the paper: 128 prompts / 64 per mini-batch = 2). */
  miniBatchesPerStep: number;
  /** Passes over each step's data (PPO epochs; the paper: 1). */
  epochsPerStep: number;
  totalSteps: number;
  /** Tool budget K by step. */
  budget: BudgetSchedule;
  /** Interpreter output out of the loss (the paper: on). */
  maskToolOutput: boolean;
  /** Drop groups whose rewards are all equal (DAPO). The paper: off. */
  dynamicSampling: boolean;
  rollout: RolloutSettings;
  /**
   * Where π_old comes from: `recompute` (the paper: the actor's forward pass over the step's data
   * before the update) or `sampler` (the sampler's own log-probs; recomputed only where it gave none).
   */
  oldLogprobs: 'recompute' | 'sampler';
  /**
   * The token-mean's scope: micro-batches of at most this many tokens (prompt + response), each
   * weighted by its share of the mini-batch's sequences, as verl's dynamic batch size (the paper:
   * 32,768 per GPU); null takes the token-mean over the whole mini-batch.
   */
  microBatchTokens: number | null;
  seed: number;
}

export const PAPER_RL_CONFIG: Readonly<RlConfig> = Object.freeze({
  advantageEstimator: 'reinforce_plus_plus_baseline',
  advantage: { whitenEpsilon: 1e-8, stdEpsilon: 1e-6 },
  loss: PAPER_LOSS_CONFIG,
  optimizer: { learningRate: 1e-6, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, gradClip: 1 },
  promptsPerStep: 128,
  groupSize: 16,
  miniBatchesPerStep: 2,
  epochsPerStep: 1,
  totalSteps: 300,
  budget: paperBudgetSchedule(300),
  maskToolOutput: true,
  dynamicSampling: false,
  rollout: { temperature: 1, topP: 1, topK: 0, maxResponseTokens: 4096, maxPromptTokens: 1024 },
  oldLogprobs: 'recompute',
  microBatchTokens: 32768,
  seed: 80,
});

function positiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new InputError(`${name} must be a positive integer, got ${value}`, name);
}

function nonNegative(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new InputError(`${name} must be a non-negative number, got ${value}`, name);
}

/** Throws `InputError` naming the first bad field. */
export function validateRlConfig(config: RlConfig): void {
  getAdvantageEstimator(config.advantageEstimator);
  validateLossConfig(config.loss);
  validateBudgetSchedule(config.budget);
  const { optimizer, rollout } = config;
  if (!(optimizer.learningRate > 0) || !Number.isFinite(optimizer.learningRate)) {
    throw new InputError(`optimizer.learningRate must be a positive number, got ${optimizer.learningRate}`, 'optimizer.learningRate');
  }
  for (const key of ['beta1', 'beta2'] as const) {
    if (!(optimizer[key] >= 0 && optimizer[key] < 1)) throw new InputError(`optimizer.${key} must be in [0, 1), got ${optimizer[key]}`, `optimizer.${key}`);
  }
  nonNegative('optimizer.eps', optimizer.eps);
  nonNegative('optimizer.weightDecay', optimizer.weightDecay);
  nonNegative('optimizer.gradClip', optimizer.gradClip);
  positiveInteger('promptsPerStep', config.promptsPerStep);
  positiveInteger('groupSize', config.groupSize);
  positiveInteger('miniBatchesPerStep', config.miniBatchesPerStep);
  positiveInteger('epochsPerStep', config.epochsPerStep);
  positiveInteger('totalSteps', config.totalSteps);
  if (config.miniBatchesPerStep > config.promptsPerStep) {
    throw new InputError(
      `miniBatchesPerStep (${config.miniBatchesPerStep}) must not exceed promptsPerStep (${config.promptsPerStep}): mini-batches split by prompt`,
      'miniBatchesPerStep',
    );
  }
  nonNegative('rollout.temperature', rollout.temperature);
  if (!(rollout.topP > 0 && rollout.topP <= 1)) throw new InputError(`rollout.topP must be in (0, 1], got ${rollout.topP}`, 'rollout.topP');
  if (!Number.isInteger(rollout.topK)) throw new InputError(`rollout.topK must be an integer, got ${rollout.topK}`, 'rollout.topK');
  positiveInteger('rollout.maxResponseTokens', rollout.maxResponseTokens);
  positiveInteger('rollout.maxPromptTokens', rollout.maxPromptTokens);
  if (config.oldLogprobs !== 'recompute' && config.oldLogprobs !== 'sampler') {
    throw new InputError(`oldLogprobs must be recompute or sampler, got ${JSON.stringify(config.oldLogprobs)}`, 'oldLogprobs');
  }
  if (config.microBatchTokens !== null) positiveInteger('microBatchTokens', config.microBatchTokens);
  if (!Number.isInteger(config.seed)) throw new InputError(`seed must be an integer, got ${config.seed}`, 'seed');
}
