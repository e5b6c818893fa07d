/**
 * The trainer's configuration: the RL recipe (`RlConfig` from src/rl, the paper's algorithm) plus
 * what the loop needs around it (task pool, held-out evaluation, checkpoints, interpreter on/off).
 * Data only, saved as `config.json` beside the run and checked again on `--resume`.
 */
import { InputError } from '../core/errors.js';
import { PAPER_RL_CONFIG, paperBudgetSchedule, validateRlConfig, type RlConfig } from '../rl/index.js';
import { findFamily } from '../tasks/index.js';

export interface EvalSettings {
  /** Held-out test-split tasks, spread evenly over families and levels. */
  tasks: number;
  /** Evaluate every this many steps (besides start and end); 0 = start and end only. */
  every: number;
  /** 0 = greedy (the paper's MATH500 protocol); > 0 samples (`samples` per task, avg@k). */
  temperature: number;
  topP: number;
  samples: number;
  /** Tool budget K of every evaluation, fixed so curves compare (the paper's offline eval uses 5). */
  toolBudget: number;
  /** Also evaluate with the interpreter off at start and end (the code-vs-text comparison). */
  withoutTools: boolean;
  seed: number;
}

export interface TrainConfig {
  rl: RlConfig;
  /** False: the ablation without an interpreter (the model's code is never run, its text is kept). */
  tools: boolean;
  /** Training families (default all); held-out evaluation always covers `evalFamilies`. */
  families: string[] | null;
  evalFamilies: string[] | null;
  /** Distinct training problems drawn once; each step samples `promptsPerStep` of them. */
  trainPoolSize: number;
  eval: EvalSettings;
  /** Save a checkpoint every this many steps (and at the end); 0 = only at the end. */
  checkpointEvery: number;
  /** Per-snippet interpreter time limit. */
  executionTimeoutMs: number;
}

/**
 * The default run, tuned for the embedded model on 2 CPU cores (docs/train.md has the measurements):
 * the paper's algorithm (REINFORCE++ baseline, clip 0.2/0.28, dual clip 3, token-mean, no KL, no
 * entropy, constant lr, tool output masked, budget 2 → 3 → 4), at a scale that finishes in under 10
 * minutes: 40 steps × 16 prompts × 8 samples, 400 held-out tasks. The learning rate is the embedded
 * model's own, not the paper's 1e-6 for a 7B model (see DEFAULT_LEARNING_RATE).
 */
export const DEFAULT_TOTAL_STEPS = 40;

/**
 * AdamW moves each weight by about lr per step whatever the gradient's scale, so lr is the step size
 * in weight space. Measured from the committed warm start (docs/train.md): 1e-4 gives +18.9 points in
 * 40 steps. With earlier warm starts 5e-4 wore the code-helps families' code down to 0% (their reward
 * almost always −1) and 1e-3 collapsed a warm start within 20 steps.
 */
export const DEFAULT_LEARNING_RATE = 1e-4;

export function defaultTrainConfig(totalSteps = DEFAULT_TOTAL_STEPS): TrainConfig {
  return {
    rl: {
      ...PAPER_RL_CONFIG,
      loss: { ...PAPER_RL_CONFIG.loss },
      advantage: { ...PAPER_RL_CONFIG.advantage },
      optimizer: { ...PAPER_RL_CONFIG.optimizer, learningRate: DEFAULT_LEARNING_RATE, weightDecay: 0 },
      promptsPerStep: 16,
      groupSize: 8,
      miniBatchesPerStep: 2,
      epochsPerStep: 1,
      totalSteps,
      budget: paperBudgetSchedule(totalSteps),
      rollout: { temperature: 1, topP: 1, topK: 0, maxResponseTokens: 240, maxPromptTokens: 80 },
      seed: 80,
    },
    tools: true,
    families: null,
    evalFamilies: null,
    trainPoolSize: 4000,
    eval: { tasks: 400, every: 10, temperature: 0, topP: 1, samples: 1, toolBudget: 5, withoutTools: true, seed: 7 },
    checkpointEvery: 10,
    executionTimeoutMs: 5000,
  };
}

function positiveInteger(name: string, value: number, allowZero = false): void {
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new InputError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${value}`, name);
  }
}

/** Throws `InputError` naming the first bad field. */
export function validateTrainConfig(config: TrainConfig): void {
  validateRlConfig(config.rl);
  for (const list of [config.families, config.evalFamilies]) list?.forEach((name) => findFamily(name));
  if (config.families?.length === 0) throw new InputError('families must not be empty (null means all)', 'families');
  if (config.evalFamilies?.length === 0) throw new InputError('evalFamilies must not be empty (null means all)', 'evalFamilies');
  positiveInteger('trainPoolSize', config.trainPoolSize);
  if (config.trainPoolSize < config.rl.promptsPerStep) {
    throw new InputError(`trainPoolSize (${config.trainPoolSize}) must be at least promptsPerStep (${config.rl.promptsPerStep})`, 'trainPoolSize');
  }
  positiveInteger('eval.tasks', config.eval.tasks);
  positiveInteger('eval.every', config.eval.every, true);
  positiveInteger('eval.samples', config.eval.samples);
  positiveInteger('eval.toolBudget', config.eval.toolBudget, true);
  positiveInteger('eval.seed', config.eval.seed, true);
  if (!(config.eval.temperature >= 0) || !Number.isFinite(config.eval.temperature)) {
    throw new InputError(`eval.temperature must be a non-negative number, got ${config.eval.temperature}`, 'eval.temperature');
  }
  if (!(config.eval.topP > 0 && config.eval.topP <= 1)) throw new InputError(`eval.topP must be in (0, 1], got ${config.eval.topP}`, 'eval.topP');
  if (config.eval.temperature === 0 && config.eval.samples !== 1) {
    throw new InputError('greedy evaluation (temperature 0) takes exactly 1 sample per task', 'eval.samples');
  }
  positiveInteger('checkpointEvery', config.checkpointEvery, true);
  positiveInteger('executionTimeoutMs', config.executionTimeoutMs);
}
