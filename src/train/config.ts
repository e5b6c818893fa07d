/**
 * The trainer's configuration: the RL recipe (`RlConfig` from src/rl, the paper's algorithm) plus
 * what the loop needs around it (task pool, held-out evaluation, checkpoints, interpreter on/off).
 * Data only, saved as `config.json` beside the run and checked again on `--resume`.
 */
import { InputError } from '../core/errors.js';
import type { ReasoningMode } from '../prompts/index.js';
import { PAPER_RL_CONFIG, paperBudgetSchedule, switchingBudgetSchedule, validateRlConfig, type RlConfig } from '../rl/index.js';
import { BOUNDARY_MODES, type BoundaryMode } from '../rollout/index.js';
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

/** Where training problems come from: the generated task families, or problem files (JSONL, verl Parquet, the Hub). */
export type TrainData =
  | { kind: 'generated' }
  | {
      kind: 'dataset';
      /** Dataset specs as `src/datasets` reads them (built-in name, path, `hf:…`), concatenated in order. */
      specs: string[];
      /** Keep only these MATH levels / subjects (null: all). */
      levels: string[] | null;
      subjects: string[] | null;
      /** Drop training problems whose text also appears in a validation set (they are reported either way). */
      dropOverlap: boolean;
    };

export interface PromptSettings {
  /**
   * `plain`: `Q: {problem}\nA: ` (what the embedded model was pretrained on); `chat`: the instruction
   * and the problem as one user message through the policy's chat template, as the paper's training
   * data (cir-reference §4.1–4.2): whatever system prompt the template adds by itself and no other.
   */
  format: 'plain' | 'chat';
  /** Which instruction a chat prompt carries: the CIR one, or its text-only twin (RL_text). */
  mode: ReasoningMode;
  /** Qwen3's `enable_thinking` (off unless asked). */
  thinking: boolean;
  /** A prompt over `rl.rollout.maxPromptTokens`: `left` keeps its last tokens (the paper), `error` refuses it. */
  truncation: 'left' | 'error';
}

/** The paper's in-training validation (cir-reference §9): sampled, with the step's current tool budget. */
export interface ValidationSettings {
  /** Benchmarks (src/datasets specs) with samples per problem: AIME24 × 16 and MATH500 × 1 in the paper. */
  sets: { spec: string; samples: number }[];
  /** Every this many steps, plus before the first and after the last; 0 turns validation off entirely. */
  every: number;
  temperature: number;
  topP: number;
}

export interface TrainConfig {
  /** The preset the run started from and the flags that changed it (config.json records both). */
  recipe: { name: RecipeName; overrides: Record<string, string | boolean> };
  data: TrainData;
  prompt: PromptSettings;
  /** Dataset runs only (generated-task runs use `eval`). */
  validation: ValidationSettings;
  /** `reference`: the paper's interpreter semantics (no-output error report, banned calls, `__name__`); `cir`: this project's. */
  interpreter: 'reference' | 'cir';
  rl: RlConfig;
  /** False: the ablation without an interpreter (the model's code is never run, its text is kept). */
  tools: boolean;
  /**
   * Where a training rollout's model turn ends: `precise` (the paper) at the first complete python
   * block; `stop-strings` at the heuristic stop strings the paper's code used before (the `boundary`
   * ablation). Held-out evaluation and validation always use the precise boundary.
   */
  boundary: BoundaryMode;
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
  /**
   * The policy the run starts from, as an `--engine` spec (`embedded` is the committed warm start), so a
   * finished run can stand in for an ablation arm with the same start (`cir ablate --baseline`).
   */
  policy: string;
}

/**
 * The default run, tuned for the embedded model on 2 CPU cores (docs/train.md has the measurements):
 * the paper's algorithm (REINFORCE++ baseline, clip 0.2/0.28, dual clip 3, token-mean, no KL, no
 * entropy, constant lr, tool output masked, budget 2 → 3 → 4), at a scale that finishes in about 10
 * minutes: 32 steps × 16 prompts × 8 samples, 400 held-out tasks evaluated at steps 0, 20 and 32. From the
 * current warm start 40 steps took 10.0 minutes (79.3% at step 20, 81.1% at 40), too close to the budget; every
 * 10 steps cost 20 s more (`cir reproduce` keeps 10 for its curves). The learning rate is the embedded
 * model's own, not the paper's 1e-6 for a 7B model (see DEFAULT_LEARNING_RATE).
 */
export const DEFAULT_TOTAL_STEPS = 32;

/**
 * AdamW moves each weight by about lr per step whatever the gradient's scale, so lr is the step size
 * in weight space. Measured (docs/train.md): from the committed warm start 1e-4 gives +56.2 points in 32
 * steps (+18.9 in 40 from an earlier start). With earlier warm starts 5e-4 wore the code-helps families' code down to 0% (their reward
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
      // The demo's measured figures (docs/train.md) use the sampler's log-probs and one token-mean per
      // mini-batch; for the embedded model the sampler's log-probs are exact, so recomputing changes nothing.
      oldLogprobs: 'sampler',
      microBatchTokens: null,
      seed: 80,
    },
    tools: true,
    boundary: 'precise',
    policy: 'embedded',
    families: null,
    evalFamilies: null,
    trainPoolSize: 4000,
    eval: { tasks: 400, every: 20, temperature: 0, topP: 1, samples: 1, toolBudget: 5, withoutTools: true, seed: 7 },
    checkpointEvery: 10,
    executionTimeoutMs: 5000,
    recipe: { name: 'embedded-demo', overrides: {} },
    data: { kind: 'generated' },
    prompt: { ...PLAIN_PROMPT },
    validation: { sets: [], every: 0, temperature: 1, topP: 0.95 },
    interpreter: 'cir',
  };
}

/** The generated tasks' prompt: `Q: … A: `, refused when over the limit (the held-out evaluation's too). */
export const PLAIN_PROMPT: Readonly<PromptSettings> = Object.freeze({ format: 'plain', mode: 'code', thinking: false, truncation: 'error' });

/** The paper's budget switches: K = 2, 3 from step 100, 4 from step 200 (Figure 3), whatever the run's length. */
export const PAPER_BUDGETS = [2, 3, 4] as const;
export const PAPER_BUDGET_SWITCH_STEPS = [100, 200] as const;

/**
 * The paper's recipe (cir-reference §8.3 from RUCAIBox/CIR @ 6d27817, verl/scripts/run/run.sh, and §5, §9):
 * 128 prompts × 16 rollouts, 2 mini-batches, 1 epoch, AdamW lr 1e-6 constant, weight decay 0.01, clip
 * 1.0, 4,096 response tokens in total, 1,024 prompt tokens left-truncated, T 1 / top-p 1, budget 2 → 3 → 4
 * at steps 100 and 200, old log-probs recomputed, token-mean per 32,768-token micro-batch, validation on
 * AIME24 × 16 and MATH500 every 10 steps at T 1 / top-p 0.95 with the current budget, the reference's
 * interpreter semantics, the CIR instruction in the policy's chat template, data seed 80. 300 steps: the
 * length of the paper's curve (its script says 30 epochs; the figure stops near 300 steps).
 */
export function cirPaperConfig(totalSteps = 300): TrainConfig {
  const base = defaultTrainConfig(totalSteps);
  return {
    ...base,
    rl: {
      ...PAPER_RL_CONFIG,
      loss: { ...PAPER_RL_CONFIG.loss },
      advantage: { ...PAPER_RL_CONFIG.advantage },
      optimizer: { ...PAPER_RL_CONFIG.optimizer },
      rollout: { ...PAPER_RL_CONFIG.rollout },
      totalSteps,
      budget: switchingBudgetSchedule(PAPER_BUDGETS, PAPER_BUDGET_SWITCH_STEPS),
    },
    checkpointEvery: 10,
    recipe: { name: 'cir-paper', overrides: {} },
    data: { kind: 'dataset', specs: [], levels: null, subjects: null, dropOverlap: false },
    prompt: { format: 'chat', mode: 'code', thinking: false, truncation: 'left' },
    validation: { sets: [{ spec: 'aime24', samples: 16 }, { spec: 'math500', samples: 1 }], every: 10, temperature: 1, topP: 0.95 },
    interpreter: 'reference',
  };
}

export const RECIPES = {
  'embedded-demo': { describe: 'the embedded model on generated tasks, sized for 2 CPU cores (the default)', config: defaultTrainConfig },
  'cir-paper': { describe: 'every setting of the paper (cir-reference §5, §8.3, §9) for a real model on real problems', config: cirPaperConfig },
} as const;

export type RecipeName = keyof typeof RECIPES;

export function recipeConfig(name: string, totalSteps?: number): TrainConfig {
  const recipe = (RECIPES as Record<string, (typeof RECIPES)[RecipeName]>)[name];
  if (!recipe) throw new InputError(`unknown recipe; known: ${Object.keys(RECIPES).join(', ')}`, name);
  return recipe.config(totalSteps);
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
  if (config.data.kind === 'dataset' && config.data.specs.length === 0) {
    throw new InputError('a dataset run needs at least one dataset (--dataset NAME|PATH|hf:…)', 'data.specs');
  }
  positiveInteger('validation.every', config.validation.every, true);
  for (const set of config.validation.sets) positiveInteger(`validation samples of ${set.spec}`, set.samples);
  if (!(config.validation.topP > 0 && config.validation.topP <= 1)) throw new InputError(`validation.topP must be in (0, 1], got ${config.validation.topP}`, 'validation.topP');
  if (!(config.validation.temperature >= 0)) throw new InputError(`validation.temperature must be ≥ 0, got ${config.validation.temperature}`, 'validation.temperature');
  positiveInteger('checkpointEvery', config.checkpointEvery, true);
  positiveInteger('executionTimeoutMs', config.executionTimeoutMs);
  if (!BOUNDARY_MODES.includes(config.boundary)) throw new InputError(`boundary must be one of ${BOUNDARY_MODES.join(', ')}, got ${JSON.stringify(config.boundary)}`, 'boundary');
}

/**
 * Command-line flags that say where a run's outputs go, not how it trains: never part of its
 * configuration. Runs written before this list existed recorded `--tensorboard` among the recipe's
 * overrides; `storedTrainConfig` drops it there.
 */
export const OUTPUT_ONLY_FLAGS: readonly string[] = ['tensorboard'];

/**
 * A stored config.json with the settings added since it was written filled in as every run had them
 * before they existed (`boundary`: precise) and output-only flags dropped from its recorded overrides,
 * so an older run still resumes and still stands in as a baseline, with or without `--tensorboard`.
 */
export function storedTrainConfig<T>(stored: T): T {
  if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) return stored;
  const filled = { boundary: 'precise', ...stored } as { recipe?: { overrides?: Record<string, unknown> } | null };
  const overrides = filled.recipe?.overrides;
  if (overrides && OUTPUT_ONLY_FLAGS.some((flag) => flag in overrides)) {
    filled.recipe = { ...filled.recipe, overrides: Object.fromEntries(Object.entries(overrides).filter(([flag]) => !OUTPUT_ONLY_FLAGS.includes(flag))) };
  }
  return filled as T;
}
