/** `cir train`: the main job, tool-augmented RL of the policy (docs/train.md). */
import { join, resolve } from 'node:path';
import type { CodeExecutor } from '../../core/execution.js';
import type { PolicyBackend } from '../../core/policy.js';
import type { Tokenizer } from '../../core/tokenizer.js';
import { openExecutor, openPolicyBackend, parseEngineSpec, parseSandboxSpec, type EngineSpec, type OpenedPolicy } from '../../backends/index.js';
import { DEFAULT_CONCURRENCY, formatFeedback } from '../../interpreter/index.js';
import { advantageEstimatorNames, fixedBudgetSchedule, KL_ESTIMATORS, LOSS_AGGREGATION_MODES, paperBudgetSchedule, policyLossNames, type KlEstimator, type LossAggregationMode } from '../../rl/index.js';
import { defaultTrainConfig, runTraining, type TrainConfig, type TrainerDeps, type TrainEvent, type TrainResult } from '../../train/index.js';
import { numberFlag, parseCommandLine, UsageError, type Command } from '../command.js';
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
  families: { type: 'string' },
  'eval-tasks': { type: 'string' },
  'eval-every': { type: 'string' },
  'eval-temperature': { type: 'string' },
  'eval-samples': { type: 'string' },
  'eval-budget': { type: 'string' },
  'no-text-eval': { type: 'boolean' },
  'checkpoint-every': { type: 'string' },
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
  quiet: { type: 'boolean' },
} as const;

export const TRAIN_FLAGS_HELP = `Run:
  --out DIR               run directory (default runs/train): config.json, metrics.jsonl, checkpoints/,
                          state.json, summary.json, report.md, report.html
  --steps N               training steps (default 40)
  --prompts N             prompts per step (default 16)
  --group N               rollouts per prompt, the group size n (default 8)
  --mini-batches N        optimizer steps per training step, split by prompt (default 2, as the paper)
  --epochs N              passes over each step's data (default 1)
  --lr X                  AdamW learning rate, constant (default 1e-4; see docs/train.md)
  --seed N                run seed: prompts, sampling (default 80, the paper's data seed)
  --temperature T         rollout temperature (default 1)
  --max-response-tokens N policy + tool tokens per trajectory (default 240)
  --families a,b,...      training task families (default all)
Algorithm (defaults = the paper's recipe):
  --budget progressive|fixed   tool budget: 2 → 3 → 4 at 1/3 and 2/3 of the run (default), or fixed
  --fixed-budget K        fixed budget K (implies --budget fixed; default K 4)
  --advantage NAME        ${advantageEstimatorNames().join(' | ')} (default reinforce_plus_plus_baseline)
  --loss NAME             ${policyLossNames().join(' | ')} (default ppo_clip: clip 0.2/0.28, dual clip 3)
  --aggregation MODE      ${LOSS_AGGREGATION_MODES.join(' | ')} (default token-mean)
  --kl-coef X, --kl k1|k2|k3   KL penalty to the starting policy (default 0)
  --entropy-coef X        entropy bonus (default 0)
  --dynamic-sampling      drop groups whose rewards are all equal (DAPO; the paper: off)
  --no-mask               train on interpreter output too (ablation; the paper masks it)
  --no-interpreter        never run code: the model continues its own text (ablation)
Evaluation (held-out test split; start, periodic, end):
  --eval-tasks N          tasks (default 400, even over families and levels, duplicates dropped)
  --eval-every N          steps between evaluations (default 10; 0 = start and end only)
  --eval-temperature T    0 = greedy (default, the paper's MATH500 protocol)
  --eval-samples N        samples per task when T > 0 (avg@N)
  --eval-budget K         tool budget of every evaluation (default 5, the paper's evaluation)
  --no-text-eval          skip the extra start/end evaluation with the interpreter off
Policy and tools:
  --engine embedded[:CHECKPOINT] | tinker:URL
                          the policy: the embedded model starting from a checkpoint's weights with
                          fresh AdamW moments (default: the committed warm start), or a Tinker server
                          (API key from TINKER_API_KEY; needs --base-model and --tokenizer)
  --base-model NAME, --tokenizer DIR|ID   Tinker: the base model and its Hugging Face tokenizer
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
  --json                  print summary.json to stdout at the end
  --quiet                 no progress on stderr`;

const help = `Usage: cir train [--out DIR] [--resume] [options]

Trains the policy with tool-augmented RL (the paper's recipe: REINFORCE++ with group-mean baseline,
clipped surrogate 0.2/0.28 with dual clip 3, token-mean, no KL, no entropy, constant lr, interpreter
output masked, tool budget 2 → 3 → 4) on the generated math tasks, starting from the committed warm
start. Shows live progress (step, reward, held-out accuracy, tool-call rate, tool-output token share,
execution error rate) and ends with summary.json and a report with plots. The default run takes
under 10 minutes on 2 cores.

  --resume                continue the run in --out from its last checkpoint (same flags required);
                          the result equals an uninterrupted run with the same seed
  --stop-after N          stop with a checkpoint once N steps are done (to test --resume)

${TRAIN_FLAGS_HELP}`;

type Values = { [K in keyof typeof TRAIN_FLAGS]?: (typeof TRAIN_FLAGS)[K]['type'] extends 'boolean' ? boolean : string };

function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

/** The run's configuration from the command line (defaults: `defaultTrainConfig`). */
export function configFromFlags(values: Values): TrainConfig {
  const steps = numberFlag(values.steps, 'steps', defaultTrainConfig().rl.totalSteps, 1, 1_000_000);
  if (!Number.isInteger(steps)) throw new UsageError('--steps must be an integer');
  const config = defaultTrainConfig(steps);
  const rl = config.rl;
  const integer = (value: string | undefined, flag: string, fallback: number, min: number, max = 1_000_000) => {
    const parsed = numberFlag(value, flag, fallback, min, max);
    if (!Number.isInteger(parsed)) throw new UsageError(`--${flag} must be an integer, got ${JSON.stringify(value)}`);
    return parsed;
  };
  rl.promptsPerStep = integer(values.prompts, 'prompts', rl.promptsPerStep, 1);
  rl.groupSize = integer(values.group, 'group', rl.groupSize, 1);
  rl.miniBatchesPerStep = integer(values['mini-batches'], 'mini-batches', rl.miniBatchesPerStep, 1);
  rl.epochsPerStep = integer(values.epochs, 'epochs', rl.epochsPerStep, 1);
  rl.optimizer.learningRate = numberFlag(values.lr, 'lr', rl.optimizer.learningRate, 0, 1);
  rl.seed = integer(values.seed, 'seed', rl.seed, 0, 2 ** 31 - 1);
  rl.rollout.temperature = numberFlag(values.temperature, 'temperature', rl.rollout.temperature, 0, 10);
  rl.rollout.maxResponseTokens = integer(values['max-response-tokens'], 'max-response-tokens', rl.rollout.maxResponseTokens, 1);
  const budgetKind = values['fixed-budget'] !== undefined ? 'fixed' : oneOf(values.budget, 'budget', ['progressive', 'fixed'] as const, 'progressive');
  rl.budget = budgetKind === 'fixed' ? fixedBudgetSchedule(integer(values['fixed-budget'], 'fixed-budget', 4, 0, 100)) : paperBudgetSchedule(steps);
  rl.advantageEstimator = oneOf(values.advantage, 'advantage', advantageEstimatorNames(), 'reinforce_plus_plus_baseline');
  rl.loss.policyLoss = oneOf(values.loss, 'loss', policyLossNames(), 'ppo_clip');
  rl.loss.aggregation = oneOf<LossAggregationMode>(values.aggregation, 'aggregation', LOSS_AGGREGATION_MODES, rl.loss.aggregation);
  rl.loss.klCoef = numberFlag(values['kl-coef'], 'kl-coef', rl.loss.klCoef, 0, 100);
  rl.loss.klEstimator = oneOf<KlEstimator>(values.kl, 'kl', KL_ESTIMATORS, rl.loss.klEstimator);
  rl.loss.entropyCoef = numberFlag(values['entropy-coef'], 'entropy-coef', rl.loss.entropyCoef, 0, 100);
  rl.dynamicSampling = values['dynamic-sampling'] ?? false;
  rl.maskToolOutput = !(values['no-mask'] ?? false);
  config.tools = !(values['no-interpreter'] ?? false);
  if (values.families !== undefined) config.families = values.families.split(',').map((name) => name.trim()).filter((name) => name !== '');
  config.eval.tasks = integer(values['eval-tasks'], 'eval-tasks', config.eval.tasks, 1);
  config.eval.every = integer(values['eval-every'], 'eval-every', config.eval.every, 0);
  config.eval.temperature = numberFlag(values['eval-temperature'], 'eval-temperature', config.eval.temperature, 0, 10);
  config.eval.samples = integer(values['eval-samples'], 'eval-samples', config.eval.temperature > 0 ? 4 : 1, 1, 1000);
  config.eval.toolBudget = integer(values['eval-budget'], 'eval-budget', config.eval.toolBudget, 0, 100);
  config.eval.withoutTools = !(values['no-text-eval'] ?? false);
  config.checkpointEvery = integer(values['checkpoint-every'], 'checkpoint-every', config.checkpointEvery, 0);
  return config;
}

export interface TrainingResources {
  backend: PolicyBackend;
  reference?: PolicyBackend;
  tokenizer: Tokenizer;
  executor?: CodeExecutor;
  close(): Promise<void>;
}

/** What the trainer needs from the opened resources: the policy, its reference for KL, the sandbox. */
export function trainerDeps(resources: TrainingResources): TrainerDeps {
  return {
    backend: resources.backend,
    tokenizer: resources.tokenizer,
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
  if (spec.kind === 'tinker' && (!values['base-model'] || !values.tokenizer)) throw new UsageError('a Tinker policy needs --base-model NAME and --tokenizer DIR|ID');
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
    // The KL reference is a second, frozen model: a server that holds one model at a time says so clearly.
    const reference = config.rl.loss.klCoef > 0 ? await openPolicyBackend(spec, { ...common, threads: 1, role: 'reference' }) : undefined;
    if (reference) opened.push(reference);
    const executor = config.tools ? await openExecutor(sandbox, { concurrency: numberFlag(values['sandbox-concurrency'], 'sandbox-concurrency', DEFAULT_CONCURRENCY, 1, 64) }) : undefined;
    return {
      backend: policy.backend,
      ...(reference ? { reference: reference.backend } : {}),
      tokenizer: policy.tokenizer,
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
  return (event) => {
    if (silent) return;
    switch (event.type) {
      case 'resumed':
        completed = event.step;
        process.stderr.write(`${label}: resuming after step ${event.step} from ${event.checkpoint ?? 'the initial weights'}\n`);
        break;
      case 'evaluation-start':
        evalBar = new ProgressBar({ label: `${label} eval (${event.label}, step ${event.step}, interpreter ${event.tools ? 'on' : 'off'})`, total: event.tasks });
        break;
      case 'evaluation-progress':
        evalBar?.update(event.done);
        break;
      case 'evaluation': {
        const result = event.record.result;
        const figure = `${(result.accuracy * 100).toFixed(1)}% [${(result.ci95[0] * 100).toFixed(1)}, ${(result.ci95[1] * 100).toFixed(1)}]`;
        if (result.tools === trainsWithTools) heldOut = figure;
        evalBar?.finish(`accuracy ${figure} code-helps ${(result.codeHelps.accuracy * 100).toFixed(1)}% text ${(result.text.accuracy * 100).toFixed(1)}% tool use ${(result.toolCallRate * 100).toFixed(0)}%`);
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

export function describeResult(result: TrainResult): string {
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
    const resources = await openResources(values, config, out);
    const silent = Boolean(values.quiet) || Boolean(values.json);
    try {
      const result = await runTraining(
        config,
        trainerDeps(resources),
        { out, resume: Boolean(values.resume), ...(stopAfter !== undefined ? { stopAfter } : {}), onEvent: progressReporter(config.rl.totalSteps, silent, config.tools) },
      );
      if (values.json) process.stdout.write(`${JSON.stringify(result.summary ?? { stopped: true, completedSteps: result.completedSteps })}\n`);
      else process.stdout.write(describeResult(result));
      return 0;
    } finally {
      await resources.close();
    }
  },
};
