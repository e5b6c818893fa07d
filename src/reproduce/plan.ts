/**
 * How long a reproduction takes, estimated from the figures the README states for this machine (2 cores):
 * the default run, 40 steps of 16 prompts × 8 with its held-out evaluations, takes 7.8 minutes, so a step
 * costs about 11.7 s evaluations included; the rollout engine makes about 35 trajectories per second
 * (`cir bench rollout`), which prices the current-budget validations and the pass@k samples. The step
 * count is cut until the estimate fits the minutes budget.
 */
import { InputError } from '../core/errors.js';
import type { TrainConfig } from '../train/index.js';
import { heldOutTasks } from '../train/index.js';

/** 7.8 minutes for the README's 40-step default run of 16 × 8 trajectories per step. */
export const SECONDS_PER_DEFAULT_STEP = (7.8 * 60) / 40;
export const DEFAULT_TRAJECTORIES_PER_STEP = 16 * 8;
/** `cir bench rollout` on this machine: 35.5–35.8 trajectories/s. */
export const TRAJECTORIES_PER_SECOND = 35;
/** Training runs of a reproduction: default, unmasked, fixed budget, without the interpreter. */
export const TRAINING_RUNS = 4;
/** pass@k conditions: three policies, each with and without the interpreter. */
export const PASSK_CONDITIONS = 6;

export interface ReproducePlan {
  /** The default run's configuration; the other arms change one setting of it. */
  base: TrainConfig;
  passAtK: { tasks: number; samples: number; budget: number; temperature: number };
  /** The estimate the plan was cut to, in minutes, and the budget it had to fit. */
  estimatedMinutes: number;
  minutesBudget: number;
}

export const estimateSeconds = {
  trainingRun(config: TrainConfig): number {
    const stepScale = (config.rl.promptsPerStep * config.rl.groupSize) / DEFAULT_TRAJECTORIES_PER_STEP;
    const validations = config.validation.every > 0 ? Math.floor(config.rl.totalSteps / config.validation.every) + 1 : 0;
    const validationTrajectories = validations * heldOutTasks(config).length;
    return config.rl.totalSteps * SECONDS_PER_DEFAULT_STEP * stepScale + validationTrajectories / TRAJECTORIES_PER_SECOND;
  },
  passAtK(plan: Pick<ReproducePlan, 'passAtK'>): number {
    return (plan.passAtK.tasks * plan.passAtK.samples) / TRAJECTORIES_PER_SECOND;
  },
  total(plan: Pick<ReproducePlan, 'base' | 'passAtK'>): number {
    return TRAINING_RUNS * estimateSeconds.trainingRun(plan.base) + PASSK_CONDITIONS * estimateSeconds.passAtK(plan);
  },
};

/**
 * The plan for `base` (its steps the most wanted) cut to `minutesBudget`: fewer steps, the budget
 * schedule and validations following, until the estimate fits. Refuses when even 3 steps do not.
 */
export function planReproduction(base: TrainConfig, passAtK: ReproducePlan['passAtK'], minutesBudget: number, withSteps: (steps: number) => TrainConfig): ReproducePlan {
  let config = base;
  while (estimateSeconds.total({ base: config, passAtK }) > minutesBudget * 60) {
    if (config.rl.totalSteps <= 3) {
      throw new InputError(`even 3 training steps need about ${(estimateSeconds.total({ base: config, passAtK }) / 60).toFixed(0)} minutes; give a larger --minutes-budget or fewer pass@k tasks or samples`, '--minutes-budget');
    }
    config = withSteps(Math.max(3, Math.floor(config.rl.totalSteps * 0.9)));
  }
  return { base: config, passAtK, estimatedMinutes: estimateSeconds.total({ base: config, passAtK }) / 60, minutesBudget };
}
