/** `cir train`: the main job, tool-augmented RL of the policy (docs/train.md). */
import { join, resolve } from 'node:path';
import { CirError, SessionLostError } from '../../core/errors.js';
import type { CodeExecutor } from '../../core/execution.js';
import type { PolicyBackend } from '../../core/policy.js';
import type { Tokenizer } from '../../core/tokenizer.js';
import { formatEngineSpec, openExecutor, openPolicyBackend, parseEngineSpec, parseSandboxSpec, type EngineSpec, type OpenedPolicy } from '../../backends/index.js';
import { DEFAULT_CONCURRENCY, formatFeedback } from '../../interpreter/index.js';
import {
  advantageEstimatorNames,
  fixedBudgetSchedule,
  KL_ESTIMATORS,
  LOSS_AGGREGATION_MODES,
  paperBudgetSchedule,
  policyLossNames,
  switchingBudgetSchedule,
  type KlEstimator,
  type LossAggregationMode,
} from '../../rl/index.js';
import { BOUNDARY_MODES, type BoundaryMode } from '../../rollout/index.js';
import { HfTokenizer, loadHfTokenizer } from '../../tokenizers/index.js';
import {
  loadTrainingData,
  OUTPUT_ONLY_FLAGS,
  PAPER_BUDGET_SWITCH_STEPS,
  PAPER_BUDGETS,
  planRun,
  recipeConfig,
  RECIPES,
  runTraining,
  validateTrainConfig,
  type PromptEncoder,
  type RecipeName,
  type RunPlan,
  type TrainConfig,
  type TrainerDeps,
  tensorboardTracker,
  type TrainEvent,
  type TrainResult,
} from '../../train/index.js';
import { numberFlag, oneOf, parseCommandLine, UsageError, type Command } from '../command.js';
import { ProgressBar } from '../progress.js';

/** Flags shared by `cir train` and `cir ablate`. */
export const TRAIN_FLAGS = {
  out: { type: 'string' },
  steps: { type: 'string' },
  prompts: { type: 'string' },
  group: { type: 'string' },
  'mini-batches': { type: 'string' },
  epochs: { type: 'string' },
  lr: { type: 'string' },
  seed: { type: 'string' },
  temperature: { type: 'string' },
  'max-response-tokens': { type: 'string' },
  budget: { type: 'string' },
  'fixed-budget': { type: 'string' },
  advantage: { type: 'string' },
  loss: { type: 'string' },
  aggregation: { type: 'string' },
  'kl-coef': { type: 'string' },
  kl: { type: 'string' },
  'entropy-coef': { type: 'string' },
  'dynamic-sampling': { type: 'boolean' },
  'no-mask': { type: 'boolean' },
  'no-interpreter': { type: 'boolean' },
  boundary: { type: 'string' },
  families: { type: 'string' },
  'eval-tasks': { type: 'string' },
  'eval-every': { type: 'string' },
  'eval-temperature': { type: 'string' },
  'eval-samples': { type: 'string' },
  'eval-budget': { type: 'string' },
  'no-text-eval': { type: 'boolean' },
  'checkpoint-every': { type: 'string' },
  recipe: { type: 'string' },
  dataset: { type: 'string' },
  'data-dir': { type: 'string' },
  levels: { type: 'string' },
  subjects: { type: 'string' },
  'drop-overlap': { type: 'boolean' },
  'val-sets': { type: 'string' },
  'val-every': { type: 'string' },
  'val-temperature': { type: 'string' },
  'val-top-p': { type: 'string' },
  'clip-low': { type: 'string' },
  'clip-high': { type: 'string' },
  'dual-clip': { type: 'string' },
  'weight-decay': { type: 'string' },
  'grad-clip': { type: 'string' },
  'top-p': { type: 'string' },
  'max-prompt-tokens': { type: 'string' },
  truncation: { type: 'string' },
  budgets: { type: 'string' },
  'budget-steps': { type: 'string' },
  'micro-batch-tokens': { type: 'string' },
  'old-logprobs': { type: 'string' },
  interpreter: { type: 'string' },
  'text-only': { type: 'boolean' },
  thinking: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  engine: { type: 'string' },
  sandbox: { type: 'string' },
  init: { type: 'string' },
  backend: { type: 'string' },
  'base-url': { type: 'string' },
  'base-model': { type: 'string' },
  tokenizer: { type: 'string' },
  'lora-rank': { type: 'string' },
  'context-window': { type: 'string' },
  threads: { type: 'string' },
  'sandbox-concurrency': { type: 'string' },
  json: { type: 'boolean' },
  tensorboard: { type: 'string' },
  quiet: { type: 'boolean' },
} as const;

export const TRAIN_FLAGS_HELP = `Recipe (every setting below is also a flag; config.json records the recipe, its resolved values
and the flags that overrode it). Defaults marked [demo] are the embedded demo's, [paper] the paper's:
  --recipe NAME           embedded-demo (default: the embedded model on generated tasks, 2 CPU cores) |
                          cir-paper (every setting of the paper for a real model: 128 prompts × 16,
                          4,096 response + 1,024 prompt tokens, lr 1e-6, weight decay 0.01, clip 1.0,
                          budget 2 → 3 → 4 at steps 100 and 200, validation on AIME24 × 16 and MATH500
                          every 10 steps, the reference interpreter; needs --dataset)
  --dry-run               print the plan (settings, data counts and overlaps, prompt lengths in the
                          policy's tokens, one rendered prompt) and exit; no backend is opened
Run:
  --out DIR               run directory (default runs/train): config.json, metrics.jsonl, checkpoints/,
                          state.json, summary.json, report.md, report.html
  --steps N               training steps ([demo] 32, [paper] 300)
  --prompts N             prompts per step ([demo] 16, [paper] 128)
  --group N               rollouts per prompt, the group size n ([demo] 8, [paper] 16)
  --mini-batches N        optimizer steps per training step, split by prompt (2, as the paper)
  --epochs N              passes over each step's data (1)
  --lr X                  AdamW learning rate, constant ([demo] 1e-4, see docs/train.md; [paper] 1e-6)
  --weight-decay X        AdamW weight decay ([demo] 0, [paper] 0.01)
  --grad-clip X           global gradient-norm clip, 0 = off (1.0)
  --seed N                run seed: prompts, sampling (default 80, the paper's data seed)
  --temperature T         rollout temperature (1)
  --top-p P               rollout nucleus sampling (1)
  --max-response-tokens N policy + tool tokens per trajectory ([demo] 240, [paper] 4096)
  --max-prompt-tokens N   prompt limit ([demo] 80, [paper] 1024)
  --truncation left|error a longer prompt keeps its last tokens ([paper] left) or is refused ([demo] error)
  --families a,b,...      training task families (default all; generated tasks only)
Data (default: the generated tasks):
  --dataset SPEC[,SPEC]   training problems: a built-in name, a .jsonl (benchmark style) or .parquet
                          (verl layout) path, or hf:OWNER/NAME/PATH[@REV]; several are concatenated.
                          Each epoch is a seeded shuffle cut into batches (the last partial batch waits)
  --data-dir DIR          where built-in names are read (default CIR_DATA_DIR or ../shared/datasets)
  --levels a,b  --subjects a,b   keep only these MATH levels / subjects
  --drop-overlap          drop training problems that also appear in a validation set (always reported)
  --text-only             the RL_text baseline: the text-only instruction, no interpreter
  --thinking              Qwen3's thinking mode in the chat template (off unless asked)
Validation at the current tool budget (the paper's Figure 3):
  --val-sets A:N,B:M      dataset runs: sets and samples per problem ([paper] aime24:16,math500:1)
  --val-every N           every N steps, plus before the first and after the last ([paper] 10);
                          0 turns validation off, start and end included ([demo] 0). Generated-task
                          runs validate on the held-out tasks (one sample each), beside the fixed
                          --eval-budget evaluation
  --val-temperature T, --val-top-p P   ([paper] 1 and 0.95); the tool budget is the current one
Algorithm (defaults = the paper's):
  --clip-low X, --clip-high X, --dual-clip X|off   PPO clip range and dual clip (0.2, 0.28, 3)
  --old-logprobs recompute|sampler   π_old from the trainer's forward pass before the update ([paper]
                          recompute; the sampler's mismatch goes to metrics.jsonl) or the sampler's ([demo])
  --micro-batch-tokens N|off   token-mean within micro-batches of N tokens, weighted by sequences
                          ([paper] 32768, verl's dynamic batch size) or over the whole mini-batch ([demo] off)
  --interpreter reference|cir   the reference's semantics (code that prints nothing gets its error report,
                          input(/os.system( refused, __name__ as in the reference) ([paper]) or cir's ([demo])
  --budgets 2,3,4 --budget-steps 100,200   budgets switching at absolute steps ([paper] these)
  --budget progressive|fixed   [demo]: 2 → 3 → 4 at 1/3 and 2/3 of the run (default), or fixed
  --fixed-budget K        fixed budget K (implies --budget fixed; default K 4)
  --advantage NAME        ${advantageEstimatorNames().join(' | ')} (default reinforce_plus_plus_baseline)
  --loss NAME             ${policyLossNames().join(' | ')} (default ppo_clip: clip 0.2/0.28, dual clip 3)
  --aggregation MODE      ${LOSS_AGGREGATION_MODES.join(' | ')} (default token-mean)
  --kl-coef X, --kl k1|k2|k3   KL penalty to the starting policy (default 0)
  --entropy-coef X        entropy bonus (default 0)
  --dynamic-sampling      drop groups whose rewards are all equal (DAPO; the paper: off)
  --no-mask               train on interpreter output too (ablation; the paper masks it)
  --no-interpreter        never run code: the model continues its own text (ablation)
  --boundary precise|stop-strings   where a turn ends to run its code: after the first complete python
                          block (default, the paper) or at the stop strings "\`\`\`output" / "\`\`\`\\n\\n" its code used
                          before (the boundary ablation); evaluations always use the precise boundary
Evaluation (held-out test split; start, periodic, end):
  --eval-tasks N          tasks (default 400, even over families and levels, duplicates dropped)
  --eval-every N          steps between evaluations (default 20; 0 = start and end only)
  --eval-temperature T    0 = greedy (default, the paper's MATH500 protocol)
  --eval-samples N        samples per task when T > 0 (avg@N)
  --eval-budget K         tool budget of every evaluation (default 5, the paper's evaluation)
  --no-text-eval          skip the extra start/end evaluation with the interpreter off
Policy and tools:
  --engine embedded[:CHECKPOINT] | tinker:URL
                          the policy: the embedded model starting from a checkpoint's weights with
                          fresh AdamW moments (default: the committed warm start), or a Tinker server
                          (API key from TINKER_API_KEY; needs --base-model and --tokenizer)
  --base-model NAME, --tokenizer DIR|ID   Tinker: the base model and its Hugging Face tokenizer (its chat
                          template renders dataset prompts; --dry-run of a dataset run needs it too)
  --lora-rank N           Tinker LoRA rank (default 32)
  --context-window N      Tinker prompt + completion limit (default: the server's; required for SkyRL,
                          which reports none)
  --init DIR              same as --engine embedded:DIR
  --backend tinker --base-url URL         same as --engine tinker:URL (older spelling)
  --sandbox local|fusion:URL   where code runs: this machine's sandbox (default) or a SandboxFusion
                          service (stateless blocks, as the paper)
  --threads 1|2           embedded matmul threads (default 2)
  --sandbox-concurrency N snippets run at once (default ${DEFAULT_CONCURRENCY}, the interpreter's measured best on 2 cores;
                          with fusion:URL, requests in flight)
  --checkpoint-every N    checkpoint every N steps (default 10; always at the end)
  --tensorboard DIR       also write every step, evaluation and validation as TensorBoard scalars
                          (event files in DIR: TensorBoard, or anything that syncs it, shows the run)
  --json                  print summary.json to stdout at the end
  --quiet                 no progress on stderr`;

const help = `Usage: cir train [--out DIR] [--resume] [options]

Trains the policy with tool-augmented RL (the paper's algorithm: REINFORCE++ with group-mean baseline,
clipped surrogate 0.2/0.28 with dual clip 3, token-mean, no KL, no entropy, constant lr, interpreter
output masked, tool budget 2 → 3 → 4). By default (--recipe embedded-demo) the embedded model trains on
the generated math tasks from the committed warm start, in about 10 minutes on 2 cores; --recipe
cir-paper sets every value of the paper's training script for a real model on problem files
(--dataset), e.g. through Tinker. Shows live progress (step, reward, held-out accuracy or validation,
tool-call rate, tool-output token share, execution error rate) and ends with summary.json and a report.

  --resume                continue the run in --out from its last checkpoint (same flags required);
                          the result equals an uninterrupted run with the same seed
  --stop-after N          stop with a checkpoint once N steps are done (to test --resume)

${TRAIN_FLAGS_HELP}`;

type Values = { [K in keyof typeof TRAIN_FLAGS]?: (typeof TRAIN_FLAGS)[K]['type'] extends 'boolean' ? boolean : string };

/** Flags that do not change the run's configuration (not recorded as recipe overrides). */
const NOT_CONFIG = new Set(['out', 'json', 'quiet', 'dry-run', 'backend', 'base-url', 'base-model', 'tokenizer', 'threads', 'sandbox-concurrency', 'init', 'data-dir', 'recipe', 'baseline', ...OUTPUT_ONLY_FLAGS]);

function list(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').map((item) => item.trim()).filter((item) => item !== '');
}

/** The run's configuration from the command line: the recipe's values, then every flag given. */
export function configFromFlags(values: Values): TrainConfig {
  const recipeName = values.recipe ?? 'embedded-demo';
  if (!(recipeName in RECIPES)) throw new UsageError(`--recipe must be one of ${Object.keys(RECIPES).join(', ')}, got ${JSON.stringify(recipeName)}`);
  const defaults = recipeConfig(recipeName);
  const steps = numberFlag(values.steps, 'steps', defaults.rl.totalSteps, 1, 1_000_000);
  if (!Number.isInteger(steps)) throw new UsageError('--steps must be an integer');
  const config = recipeConfig(recipeName, steps);
  const paper = recipeName === 'cir-paper';
  const rl = config.rl;
  const integer = (value: string | undefined, flag: string, fallback: number, min: number, max = 1_000_000) => {
    const parsed = numberFlag(value, flag, fallback, min, max);
    if (!Number.isInteger(parsed)) throw new UsageError(`--${flag} must be an integer, got ${JSON.stringify(value)}`);
    return parsed;
  };
  const integers = (value: string, flag: string) =>
    list(value)!.map((item) => {
      const parsed = Number(item);
      if (!Number.isInteger(parsed) || parsed < 0) throw new UsageError(`--${flag} takes comma-separated integers ≥ 0, got ${JSON.stringify(value)}`);
      return parsed;
    });
  rl.promptsPerStep = integer(values.prompts, 'prompts', rl.promptsPerStep, 1);
  rl.groupSize = integer(values.group, 'group', rl.groupSize, 1);
  rl.miniBatchesPerStep = integer(values['mini-batches'], 'mini-batches', rl.miniBatchesPerStep, 1);
  rl.epochsPerStep = integer(values.epochs, 'epochs', rl.epochsPerStep, 1);
  rl.optimizer.learningRate = numberFlag(values.lr, 'lr', rl.optimizer.learningRate, 0, 1);
  rl.optimizer.weightDecay = numberFlag(values['weight-decay'], 'weight-decay', rl.optimizer.weightDecay, 0, 10);
  rl.optimizer.gradClip = numberFlag(values['grad-clip'], 'grad-clip', rl.optimizer.gradClip, 0, 1e6);
  rl.seed = integer(values.seed, 'seed', rl.seed, 0, 2 ** 31 - 1);
  rl.rollout.temperature = numberFlag(values.temperature, 'temperature', rl.rollout.temperature, 0, 10);
  rl.rollout.topP = numberFlag(values['top-p'], 'top-p', rl.rollout.topP, 0.000001, 1);
  rl.rollout.maxResponseTokens = integer(values['max-response-tokens'], 'max-response-tokens', rl.rollout.maxResponseTokens, 1);
  rl.rollout.maxPromptTokens = integer(values['max-prompt-tokens'], 'max-prompt-tokens', rl.rollout.maxPromptTokens, 1);
  config.prompt.truncation = oneOf(values.truncation, 'truncation', ['left', 'error'] as const, config.prompt.truncation);
  if (values['fixed-budget'] !== undefined || values.budget === 'fixed') {
    rl.budget = fixedBudgetSchedule(integer(values['fixed-budget'], 'fixed-budget', 4, 0, 100));
  } else if (values.budgets !== undefined || values['budget-steps'] !== undefined) {
    const budgets = values.budgets !== undefined ? integers(values.budgets, 'budgets') : [...PAPER_BUDGETS];
    const switches = values['budget-steps'] !== undefined ? integers(values['budget-steps'], 'budget-steps') : [...PAPER_BUDGET_SWITCH_STEPS];
    rl.budget = switchingBudgetSchedule(budgets, switches);
  } else if (values.budget !== undefined) {
    oneOf(values.budget, 'budget', ['progressive', 'fixed'] as const, 'progressive');
    rl.budget = paperBudgetSchedule(steps);
  }
  rl.advantageEstimator = oneOf(values.advantage, 'advantage', advantageEstimatorNames(), rl.advantageEstimator);
  rl.loss.policyLoss = oneOf(values.loss, 'loss', policyLossNames(), rl.loss.policyLoss);
  rl.loss.aggregation = oneOf<LossAggregationMode>(values.aggregation, 'aggregation', LOSS_AGGREGATION_MODES, rl.loss.aggregation);
  rl.loss.clipLow = numberFlag(values['clip-low'], 'clip-low', rl.loss.clipLow, 0, 1);
  rl.loss.clipHigh = numberFlag(values['clip-high'], 'clip-high', rl.loss.clipHigh, 0, 100);
  if (values['dual-clip'] !== undefined) rl.loss.dualClip = values['dual-clip'] === 'off' ? null : numberFlag(values['dual-clip'], 'dual-clip', 3, 1, 1e6);
  rl.loss.klCoef = numberFlag(values['kl-coef'], 'kl-coef', rl.loss.klCoef, 0, 100);
  rl.loss.klEstimator = oneOf<KlEstimator>(values.kl, 'kl', KL_ESTIMATORS, rl.loss.klEstimator);
  rl.loss.entropyCoef = numberFlag(values['entropy-coef'], 'entropy-coef', rl.loss.entropyCoef, 0, 100);
  rl.oldLogprobs = oneOf(values['old-logprobs'], 'old-logprobs', ['recompute', 'sampler'] as const, rl.oldLogprobs);
  if (values['micro-batch-tokens'] !== undefined) rl.microBatchTokens = values['micro-batch-tokens'] === 'off' ? null : integer(values['micro-batch-tokens'], 'micro-batch-tokens', 0, 1);
  rl.dynamicSampling = values['dynamic-sampling'] ?? false;
  rl.maskToolOutput = !(values['no-mask'] ?? false);
  config.interpreter = oneOf(values.interpreter, 'interpreter', ['reference', 'cir'] as const, config.interpreter);
  config.boundary = oneOf<BoundaryMode>(values.boundary, 'boundary', BOUNDARY_MODES, config.boundary);
  config.tools = !(values['no-interpreter'] ?? false) && !(values['text-only'] ?? false);
  if (values['text-only']) config.prompt.mode = 'text';
  config.prompt.thinking = values.thinking ?? false;
  if (values.families !== undefined) config.families = list(values.families)!;
  const datasets = list(values.dataset);
  if (datasets !== undefined) {
    if (datasets.length === 0) throw new UsageError('--dataset needs at least one NAME, PATH or hf: spec');
    config.data = { kind: 'dataset', specs: datasets, levels: list(values.levels) ?? null, subjects: list(values.subjects) ?? null, dropOverlap: values['drop-overlap'] ?? false };
    // A dataset is a real model's data: its prompt is the instruction in the policy's chat template.
    if (!paper) config.prompt = { ...config.prompt, format: 'chat' };
  } else if (paper) {
    throw new UsageError('--recipe cir-paper trains on problem files: give --dataset NAME|PATH|hf:… (e.g. ../shared/datasets/train_math.jsonl)');
  } else if (values.levels !== undefined || values.subjects !== undefined || values['drop-overlap'] !== undefined) {
    throw new UsageError('--levels, --subjects and --drop-overlap filter a --dataset');
  }
  if (values['val-sets'] !== undefined) {
    config.validation.sets = list(values['val-sets'])!.map((item) => {
      const [spec, samples] = item.includes(':') && !/^hf:/.test(item) ? [item.slice(0, item.lastIndexOf(':')), item.slice(item.lastIndexOf(':') + 1)] : [item, '1'];
      return { spec: spec!, samples: integer(samples, 'val-sets', 1, 1, 10_000) };
    });
  }
  if (config.data.kind === 'dataset' && !paper && values['val-every'] === undefined && values['val-sets'] !== undefined) config.validation.every = 10;
  if (config.data.kind === 'generated' && values['val-sets'] !== undefined) throw new UsageError('--val-sets names a dataset run\'s sets; a generated-task run validates on its held-out tasks (--val-every N)');
  config.validation.every = integer(values['val-every'], 'val-every', config.validation.every, 0);
  config.validation.temperature = numberFlag(values['val-temperature'], 'val-temperature', config.validation.temperature, 0, 10);
  config.validation.topP = numberFlag(values['val-top-p'], 'val-top-p', config.validation.topP, 0.000001, 1);
  config.eval.tasks = integer(values['eval-tasks'], 'eval-tasks', config.eval.tasks, 1);
  config.eval.every = integer(values['eval-every'], 'eval-every', config.eval.every, 0);
  config.eval.temperature = numberFlag(values['eval-temperature'], 'eval-temperature', config.eval.temperature, 0, 10);
  config.eval.samples = integer(values['eval-samples'], 'eval-samples', config.eval.temperature > 0 ? 4 : 1, 1, 1000);
  config.eval.toolBudget = integer(values['eval-budget'], 'eval-budget', config.eval.toolBudget, 0, 100);
  config.eval.withoutTools = !(values['no-text-eval'] ?? false);
  config.checkpointEvery = integer(values['checkpoint-every'], 'checkpoint-every', config.checkpointEvery, 0);
  const overrides: Record<string, string | boolean> = {};
  for (const [flag, value] of Object.entries(values)) if (!NOT_CONFIG.has(flag) && value !== undefined) overrides[flag] = value as string | boolean;
  config.recipe = { name: recipeName as RecipeName, overrides };
  validateTrainConfig(config);
  config.policy = formatEngineSpec(trainEngineSpec(values));
  return config;
}

export interface TrainingResources {
  backend: PolicyBackend;
  reference?: PolicyBackend;
  tokenizer: Tokenizer;
  /** The policy's Hugging Face tokenizer, whose chat template renders dataset prompts. */
  promptEncoder?: PromptEncoder;
  executor?: CodeExecutor;
  close(): Promise<void>;
}

/** What the trainer needs from the opened resources: the policy, its reference for KL, the sandbox. */
export function trainerDeps(resources: TrainingResources): TrainerDeps {
  return {
    backend: resources.backend,
    tokenizer: resources.tokenizer,
    ...(resources.promptEncoder ? { promptEncoder: resources.promptEncoder } : {}),
    ...(resources.executor ? { executor: resources.executor } : {}),
    ...(resources.reference ? { reference: resources.reference } : {}),
    formatFeedback: (outcome) => formatFeedback(outcome),
  };
}

/** The policy `--engine` names, with the older `--init` and `--backend tinker --base-url` spellings. */
export function trainEngineSpec(values: Pick<Values, 'engine' | 'init' | 'backend' | 'base-url'>): EngineSpec {
  const backend = oneOf(values.backend, 'backend', ['embedded', 'tinker'] as const, 'embedded');
  const spellings = [values.engine !== undefined, values.init !== undefined, values.backend !== undefined || values['base-url'] !== undefined].filter(Boolean).length;
  if (spellings > 1) throw new UsageError('name the policy once: --engine, or --init DIR, or --backend tinker --base-url URL');
  if (values.engine !== undefined) return parseEngineSpec(values.engine);
  if (backend === 'tinker' || values['base-url'] !== undefined) {
    if (backend !== 'tinker') throw new UsageError('--base-url goes with --backend tinker (or write --engine tinker:URL)');
    if (!values['base-url']) throw new UsageError('--backend tinker needs --base-url URL (or write --engine tinker:URL)');
    return parseEngineSpec(`tinker:${values['base-url']}`, '--base-url');
  }
  return values.init !== undefined ? parseEngineSpec(`embedded:${values.init}`, '--init') : { kind: 'embedded', checkpoint: null };
}

/** Builds the policy (embedded or Tinker), the reference policy for KL, and the sandbox. */
export async function openResources(values: Values, config: TrainConfig, out: string): Promise<TrainingResources> {
  const spec = trainEngineSpec(values);
  // Against `cir serve` the tokenizer comes from the server; other Tinker servers need --tokenizer.
  if (spec.kind === 'tinker' && !values['base-model']) throw new UsageError('a Tinker policy needs --base-model NAME (and --tokenizer DIR|ID unless the server is cir serve)');
  const sandbox = parseSandboxSpec(values.sandbox ?? 'local');
  const threads = numberFlag(values.threads, 'threads', 2, 1, 2) as 1 | 2;
  const common = {
    ...(values['base-model'] !== undefined ? { model: values['base-model'] } : {}),
    ...(values.tokenizer !== undefined ? { tokenizer: values.tokenizer } : {}),
    ...(values['lora-rank'] !== undefined ? { loraRank: numberFlag(values['lora-rank'], 'lora-rank', 32, 1, 1024) } : {}),
    ...(values['context-window'] !== undefined ? { contextWindow: numberFlag(values['context-window'], 'context-window', 32768, 2, 10_000_000) } : {}),
    modelFlag: '--base-model',
  };
  const opened: OpenedPolicy[] = [];
  try {
    // RL starts from the weights only: moments saved by `cir pretrain` belong to another objective and
    // lr. (`--resume` then loads the run's own checkpoint, moments included.)
    const policy = await openPolicyBackend(spec, { ...common, threads, checkpointDir: join(resolve(out), 'checkpoints'), freshOptimizer: true });
    opened.push(policy);
    // The KL reference is a second, frozen model: a Tinker server that holds one model at a time says so clearly.
    const reference = config.rl.loss.klCoef > 0 ? await openPolicyBackend(spec, { ...common, threads: 1, role: 'reference' }) : undefined;
    if (reference) opened.push(reference);
    const executor = config.tools ? await openExecutor(sandbox, { concurrency: numberFlag(values['sandbox-concurrency'], 'sandbox-concurrency', DEFAULT_CONCURRENCY, 1, 64) }) : undefined;
    return {
      backend: policy.backend,
      ...(reference ? { reference: reference.backend } : {}),
      tokenizer: policy.tokenizer,
      // The policy's chat template renders dataset prompts (a Hugging Face tokenizer that has one).
      ...(policy.tokenizer instanceof HfTokenizer && policy.tokenizer.chatTemplate !== null ? { promptEncoder: policy.tokenizer } : {}),
      ...(executor ? { executor } : {}),
      async close() {
        await executor?.close();
        for (const each of opened) await each.close();
      },
    };
  } catch (error) {
    for (const each of opened) await each.close();
    throw error;
  }
}

/** Live progress on stderr: a bar over steps with the latest figures, and one per evaluation. */
export function progressReporter(totalSteps: number, silent: boolean, trainsWithTools: boolean, label = 'train'): (event: TrainEvent) => void {
  let stepBar: ProgressBar | undefined;
  let evalBar: ProgressBar | undefined;
  let heldOut = '–';
  let completed = 0;
  let evaluated = false;
  return (event) => {
    if (silent) return;
    switch (event.type) {
      case 'resumed':
        completed = event.step;
        process.stderr.write(`${label}: resuming after step ${event.step} from ${event.checkpoint ?? 'the initial weights'}\n`);
        break;
      case 'recovered':
        completed = event.step;
        stepBar?.update(completed);
        process.stderr.write(`\n${label}: the policy's session was lost (${event.reason}); reopened and continuing after step ${event.step} from ${event.checkpoint ?? 'the initial weights'}\n`);
        break;
      case 'evaluation-start':
        evalBar = new ProgressBar({
          label: `${label} ${event.budget === 'current' ? 'validation' : 'eval'} (${event.label}, step ${event.step}, interpreter ${event.tools ? 'on' : 'off'}, budget ${event.budget})`,
          total: event.tasks,
        });
        break;
      case 'evaluation-progress':
        evalBar?.update(event.done);
        break;
      case 'evaluation': {
        const result = event.record.result;
        const figure = `${(result.accuracy * 100).toFixed(1)}% [${(result.ci95[0] * 100).toFixed(1)}, ${(result.ci95[1] * 100).toFixed(1)}]`;
        if (result.tools === trainsWithTools) heldOut = figure;
        evaluated = true;
        evalBar?.finish(`accuracy ${figure} code-helps ${(result.codeHelps.accuracy * 100).toFixed(1)}% text ${(result.text.accuracy * 100).toFixed(1)}% tool use ${(result.toolCallRate * 100).toFixed(0)}%`);
        evalBar = undefined;
        break;
      }
      case 'validation': {
        const figures = Object.entries(event.record.sets).map(([name, figure]) => `${name} ${(figure.accuracy * 100).toFixed(1)}%`);
        // A generated-task run's step bar keeps the fixed-budget figure; a dataset run has only this one.
        if (!evaluated) heldOut = figures.join(' ');
        evalBar?.finish(`validation (K=${event.record.budget}): ${figures.join(', ')}`);
        evalBar = undefined;
        break;
      }
      case 'rollout-progress':
        break;
      case 'step': {
        const r = event.record;
        completed = r.step;
        stepBar ??= new ProgressBar({ label, total: totalSteps });
        stepBar.update(
          completed,
          `K=${r.budget} reward ${r.reward.toFixed(2)} held-out ${heldOut} tool-call ${(r.toolCallRate * 100).toFixed(0)}% tool-tokens ${(r.toolTokenShare * 100).toFixed(0)}% exec-err ${(r.executionErrorRate * 100).toFixed(0)}% ${(r.timings.stepMs / 1000).toFixed(1)}s/step`,
        );
        if (completed === totalSteps) stepBar.finish();
        break;
      }
      case 'checkpoint':
        break;
    }
  };
}

/** The dry run's plan as text. */
export function describePlan(plan: RunPlan): string {
  const s = plan.settings;
  const lines = [
    `recipe ${plan.recipe.name}${Object.keys(plan.recipe.overrides).length > 0 ? ` with ${Object.entries(plan.recipe.overrides).map(([flag, value]) => `--${flag}${value === true ? '' : ` ${String(value)}`}`).join(' ')}` : ''}`,
    `${s.steps} steps × ${s.promptsPerStep} prompts × ${s.groupSize} rollouts (${s.trajectoriesPerStep} trajectories per step), ${s.miniBatches} mini-batches, ${s.epochs} epoch(s)`,
    `prompt ≤ ${s.maxPromptTokens} tokens (${s.prompt.truncation === 'left' ? 'left-truncated' : 'refused when longer'}), response ≤ ${s.maxResponseTokens} tokens in total; ${s.prompt.format} prompt, ${s.prompt.mode} instruction${s.prompt.thinking ? ', thinking on' : ''}`,
    `AdamW lr ${s.optimizer.learningRate} constant, weight decay ${s.optimizer.weightDecay}, grad clip ${s.optimizer.gradClip}; T ${s.sampling.temperature}, top-p ${s.sampling.topP}`,
    `loss ${s.loss.policyLoss} clip ${s.loss.clipLow}/${s.loss.clipHigh} dual ${s.loss.dualClip ?? 'off'}, ${s.loss.aggregation} ${s.microBatchTokens === null ? 'over each mini-batch' : `per micro-batch of ≤ ${s.microBatchTokens} tokens`}; old log-probs: ${s.oldLogprobs}`,
    `tool budget ${s.budget.kind === 'fixed' ? `fixed ${s.budget.budget}` : s.budget.stages.map((stage) => stage.budget).join(' → ')}${s.budgetSwitches.length > 0 ? `, switching at steps ${s.budgetSwitches.map((b) => b.step - 1).join(' and ')}` : ''}; interpreter ${s.tools ? s.interpreter : 'off'}`,
    s.validation.every > 0 && s.validation.sets.length > 0
      ? `validation every ${s.validation.every} steps (and at start and end) on ${s.validation.sets.map((v) => `${v.spec} × ${v.samples}`).join(', ')} at T ${s.validation.temperature}, top-p ${s.validation.topP}, current budget`
      : 'validation off',
  ];
  if (plan.data) {
    const d = plan.data;
    lines.push(`data: ${d.problems} problems (${d.counts.map((c) => `${c.name} ${c.kept}/${c.loaded}`).join(', ')}), ${d.stepsPerEpoch} steps per epoch`);
    for (const o of d.overlap) lines.push(`  overlap with ${o.set}: ${o.problems} problems${o.examples.length > 0 ? ` (e.g. ${o.examples.join(', ')})` : ''}${d.droppedForOverlap > 0 ? ', dropped' : ''}`);
    lines.push(`prompt tokens: p50 ${d.promptTokens.p50}, p90 ${d.promptTokens.p90}, p99 ${d.promptTokens.p99}, max ${d.promptTokens.max}; ${d.promptTokens.overLimit} over the limit`);
  }
  if (plan.examplePrompt) lines.push(`example prompt (${plan.examplePrompt.id}, ${plan.examplePrompt.tokens} tokens):`, plan.examplePrompt.text);
  return `${lines.join('\n')}\n`;
}

export function describeResult(result: TrainResult): string {
  if (result.datasetSummary) {
    const d = result.datasetSummary;
    const validation = Object.entries(d.validation).map(([name, points]) => `${name} ${((points.at(-1)?.accuracy ?? 0) * 100).toFixed(1)}%`);
    return `${d.steps} steps in ${d.minutes.toFixed(1)} minutes; reward ${d.training.firstReward.toFixed(2)} → ${d.training.lastReward.toFixed(2)}; ${validation.length > 0 ? `last validation ${validation.join(', ')}` : 'validation off'}; report: ${result.store.path('report.md')}\n`;
  }
  if (!result.summary) return `stopped after step ${result.completedSteps}; continue with --resume\n`;
  const s = result.summary;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return [
    `held-out accuracy ${pct(s.start.accuracy)} [${pct(s.start.ci95[0])}, ${pct(s.start.ci95[1])}] → ${pct(s.end.accuracy)} [${pct(s.end.ci95[0])}, ${pct(s.end.ci95[1])}] (${s.gain >= 0 ? '+' : ''}${(s.gain * 100).toFixed(1)} points, intervals ${s.significant ? 'disjoint' : 'overlap'})`,
    `code-helps families ${pct(s.start.codeHelps.accuracy)} → ${pct(s.end.codeHelps.accuracy)}; text families ${pct(s.start.text.accuracy)} → ${pct(s.end.text.accuracy)}`,
    `${s.steps} steps in ${s.minutes.toFixed(1)} minutes; report: ${result.store.path('report.html')}`,
    '',
  ].join('\n');
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'tool-augmented RL of the policy on generated math tasks (the main job)',
  help,
  async run(argv) {
    const { values } = parseCommandLine(argv, { ...TRAIN_FLAGS, resume: { type: 'boolean' }, 'stop-after': { type: 'string' } }, false);
    const config = configFromFlags(values);
    const out = values.out ?? join('runs', 'train');
    const stopAfter = values['stop-after'] !== undefined ? numberFlag(values['stop-after'], 'stop-after', 0, 1, config.rl.totalSteps) : undefined;
    const data = config.data.kind === 'dataset' ? await loadTrainingData(config, values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}) : undefined;
    if (values['dry-run']) {
      const tokenizer = values.tokenizer !== undefined ? await loadHfTokenizer(values.tokenizer) : undefined;
      if (data && !tokenizer) throw new UsageError('--dry-run of a dataset run needs --tokenizer DIR (the policy\'s tokenizer) to count prompt tokens');
      const plan = planRun(config, data, tokenizer);
      process.stdout.write(values.json ? `${JSON.stringify(plan)}\n` : describePlan(plan));
      return 0;
    }
    const tracker = values.tensorboard !== undefined ? tensorboardTracker(values.tensorboard) : undefined;
    const resources = await openResources(values, config, out).catch((error: unknown) => {
      tracker?.close();
      throw error;
    });
    const silent = Boolean(values.quiet) || Boolean(values.json);
    const report = progressReporter(config.rl.totalSteps, silent, config.tools);
    try {
      const result = await runTraining(
        config,
        { ...trainerDeps(resources), ...(data ? { data } : {}) },
        {
          out,
          resume: Boolean(values.resume),
          ...(stopAfter !== undefined ? { stopAfter } : {}),
          onEvent: (event) => {
            report(event);
            tracker?.onEvent(event);
          },
        },
      );
      if (values.json) process.stdout.write(`${JSON.stringify(result.summary ?? result.datasetSummary ?? { stopped: true, completedSteps: result.completedSteps })}\n`);
      else process.stdout.write(describeResult(result));
      return 0;
    } catch (error) {
      // Still lost after the trainer's own recoveries (MAX_SESSION_RECOVERIES): what the user can do.
      if (error instanceof SessionLostError) throw new CirError(`${error.message}\nThe run's checkpoints are kept: the same command with --resume continues from the last one.`, { cause: error });
      throw error;
    } finally {
      tracker?.close();
      await resources.close();
    }
  },
};
