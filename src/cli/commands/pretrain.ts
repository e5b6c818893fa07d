/** `cir pretrain`: the supervised warm start of the embedded policy on generated traces. */
import { createSandboxExecutor, formatFeedback } from '../../interpreter/index.js';
import { createEmbeddedPolicy, createEmbeddedPolicyForTokenizer, deepenEmbeddedPolicy, DEFAULT_CHECKPOINT_PATH, DEFAULT_MODEL_CONFIG, loadEmbeddedPolicy, parameterLayout, type EmbeddedPolicy, type ModelConfig } from '../../model/index.js';
import { loadHfTokenizer } from '../../tokenizers/index.js';
import { DEFAULT_TRACE_MIX } from '../../tasks/index.js';
import { pretrain, probeCopying } from '../../tasks/warm-start.js';
import { defaultTrainConfig, evaluateHeldOut, heldOutTasks, type EvalResult, type EvalSettings } from '../../train/index.js';
import { numberFlag, parseCommandLine, UsageError, type Command } from '../command.js';
import { ProgressBar } from '../progress.js';

const help = `Usage: cir pretrain [--out DIR] [--init DIR [--layers N] | --hidden N --layers N --heads N --kv-heads N --ffn N --context-length N]
                    [--copy-steps N] [--steps N] [--copy-focus N] [--batch N] [--lr X] [--seed N] [--threads N]
                    [--save-every N] [--tokenizer DIR] [--probe N] [--eval N] [--eval-temperature T] [--eval-only] [--json]

Trains the embedded transformer (default size, random init, or --init a checkpoint) by supervised
learning on generated traces: direct answers, code-integrated solutions, and solutions whose first
program fails before a corrected one follows (docs/model.md). Prompt and interpreter-output tokens are
masked from the loss. Writes a checkpoint directory (model.safetensors with Hugging Face names,
config.json, optimizer state); config.json's "cir" block records every setting of the run (the command
line, steps, lr, seed, batch, copy steps and focus, trace mix, tokenizer, model size) and, after
--init, the chain recorded in that checkpoint.

Training:
  --out DIR        checkpoint directory (default: the committed warm start, ${DEFAULT_CHECKPOINT_PATH})
  --init DIR       continue from this checkpoint (weights and optimizer moments) instead of a random init;
                   with --layers N (more than it has), a deeper model: the checkpoint's layers, then new
                   top layers whose output projections start at zero, so it computes what the checkpoint
                   computes until they train (fresh optimizer moments)
  --copy-steps N   copy-drill steps first, which form the copying heads the traces need (default 200)
  --steps N        optimizer steps on traces after the drills (default 700)
  --copy-focus N   of each step's sequences, N come from code traces with the loss on the digits they
                   copy (problem numbers into code, output into \\boxed{}), weighted as half the step's
                   loss (default 0)
  --batch N        sequences per step (default 32)
  --lr X           peak learning rate, linear warm-up over 5% of the steps then cosine decay to 10% (default 3e-3)
  --seed N         data and initialisation seed (default 1)
  --threads N      matmul threads, 1 or 2 (default 2)
  --save-every N   also write the checkpoint every N steps (default 0 = only at the end)

A new model (not with --init; defaults are the committed size, docs/model.md):
  --hidden N       residual width (default ${DEFAULT_MODEL_CONFIG.hiddenSize}; a multiple of --heads, head dimension even)
  --layers N       transformer blocks (default ${DEFAULT_MODEL_CONFIG.numLayers}; with --init, see above)
  --heads N        attention heads (default ${DEFAULT_MODEL_CONFIG.numHeads})
  --kv-heads N     key/value heads, grouped-query attention; divides --heads (default ${DEFAULT_MODEL_CONFIG.numKvHeads})
  --ffn N          SwiGLU inner width (default ${DEFAULT_MODEL_CONFIG.intermediateSize})
  --context-length N   context window (default ${DEFAULT_MODEL_CONFIG.contextLength})
  --tokenizer DIR  build the model over this Hugging Face tokenizer's vocabulary instead of the char
                   tokenizer (e.g. Qwen3's 151,669 ids; the checkpoint records its name, load it with the same
                   --tokenizer); with --init, the vocabulary that checkpoint was trained over

Measuring (after training, or of the checkpoint at --out with --eval-only):
  --probe N        the copy probe: teacher-forced on code traces of N held-out code-helps tasks (test split,
                   seed ${defaultTrainConfig().eval.seed}), the share of the digits the policy must copy (problem numbers into the program,
                   the printed result into \\boxed{}) given probability above 1/2, their mean NLL, and the share
                   of traces with all of them right (default 0 = skip; a few seconds for 200)
  --eval N         held-out accuracy on N test-split tasks with and without the Python tool, measured
                   exactly as \`cir train\` measures it (its task draw, the rollout engine with tool budget 5
                   and 240 response tokens, the grader; the sandbox from src/interpreter; default 0 = skip)
  --eval-temperature T   sampling temperature of that evaluation (default 0 = greedy, as \`cir train\`)
  --eval-only      skip training: measure the checkpoint at --out
  --json           print the result as one line of JSON: {"out","copy_steps","steps","sequences","seconds",
                   "tokens_per_s","final_loss","probe":{"traces","seed","digits","accuracy","nll","allRight",
                   "byFamily"},"eval":{"tasks","temperature","seconds","with_tools":{...},"without_tools":{...}}},
                   each evaluation as in \`cir train\`'s metrics (accuracy, ci95, n, byFamily, codeHelps, text, ...)`;

/** The flags that size a new model, and the ModelConfig field each sets. */
const MODEL_SIZE_FLAGS = { hidden: 'hiddenSize', layers: 'numLayers', heads: 'numHeads', 'kv-heads': 'numKvHeads', ffn: 'intermediateSize', 'context-length': 'contextLength' } as const;

export const pretrainCommand: Command = {
  name: 'pretrain',
  summary: 'supervised warm start of the embedded model on generated traces',
  help,
  async run(argv) {
    const { values } = parseCommandLine(
      argv,
      {
        out: { type: 'string' },
        steps: { type: 'string' },
        'copy-steps': { type: 'string' },
        'copy-focus': { type: 'string' },
        batch: { type: 'string' },
        lr: { type: 'string' },
        seed: { type: 'string' },
        threads: { type: 'string' },
        eval: { type: 'string' },
        'eval-temperature': { type: 'string' },
        'eval-only': { type: 'boolean' },
        'save-every': { type: 'string' },
        init: { type: 'string' },
        tokenizer: { type: 'string' },
        hidden: { type: 'string' },
        layers: { type: 'string' },
        heads: { type: 'string' },
        'kv-heads': { type: 'string' },
        ffn: { type: 'string' },
        'context-length': { type: 'string' },
        probe: { type: 'string' },
        json: { type: 'boolean' },
      },
      false,
    );
    const out = values.out ?? DEFAULT_CHECKPOINT_PATH;
    const steps = numberFlag(values.steps, 'steps', 700, 1, 1_000_000);
    const copySteps = numberFlag(values['copy-steps'], 'copy-steps', 200, 0, 1_000_000);
    const batchSize = numberFlag(values.batch, 'batch', 32, 1, 4096);
    const copyFocus = numberFlag(values['copy-focus'], 'copy-focus', 0, 0, batchSize - 1);
    const learningRate = numberFlag(values.lr, 'lr', 3e-3, 0, 1);
    const seed = numberFlag(values.seed, 'seed', 1, 0, 2 ** 31);
    const threads = numberFlag(values.threads, 'threads', 2, 1, 2) as 1 | 2;
    const evalCount = numberFlag(values.eval, 'eval', 0, 0, 100_000);
    const trainDefaults = defaultTrainConfig();
    const temperature = numberFlag(values['eval-temperature'], 'eval-temperature', trainDefaults.eval.temperature, 0, 10);
    const evalOnly = Boolean(values['eval-only']);
    const saveEvery = numberFlag(values['save-every'], 'save-every', 0, 0, 1_000_000);
    const init = evalOnly ? out : values.init;
    const vocabulary = values.tokenizer !== undefined ? await loadHfTokenizer(values.tokenizer) : undefined;
    const probeCount = numberFlag(values.probe, 'probe', 0, 0, 100_000);
    const size: Partial<ModelConfig> = {};
    for (const [flag, field] of Object.entries(MODEL_SIZE_FLAGS) as [keyof typeof MODEL_SIZE_FLAGS, (typeof MODEL_SIZE_FLAGS)[keyof typeof MODEL_SIZE_FLAGS]][]) {
      if (values[flag] === undefined) continue;
      if (init !== undefined && (flag !== 'layers' || evalOnly)) throw new UsageError(`--${flag} sizes a new model; the checkpoint ${init} has its own size`);
      const value = numberFlag(values[flag], flag, 0, 1, flag === 'context-length' ? 32768 : 4096);
      if (!Number.isInteger(value)) throw new UsageError(`--${flag} must be an integer, got ${JSON.stringify(values[flag])}`);
      size[field] = value;
    }
    const loaded = init !== undefined ? await loadEmbeddedPolicy(init, { threads, ...(vocabulary ? { tokenizer: vocabulary } : {}) }) : undefined;
    const grownFrom = loaded !== undefined && size.numLayers !== undefined ? loaded.config.numLayers : undefined;
    let policy: EmbeddedPolicy;
    try {
      policy =
        loaded !== undefined
          ? grownFrom !== undefined
            ? deepenEmbeddedPolicy(loaded, size.numLayers!, { threads, seed })
            : loaded
          : vocabulary
            ? createEmbeddedPolicyForTokenizer(vocabulary, size, { seed, threads })
            : createEmbeddedPolicy(size, { seed, threads });
    } finally {
      if (grownFrom !== undefined) await loaded?.close();
    }
    const before = policy.info;
    const { config } = policy;
    // Everything needed to run this link again: with the init's own record, the whole chain.
    const recipe = {
      command: ['cir', 'pretrain', ...argv].join(' '),
      copy_steps: copySteps,
      copy_focus: copyFocus,
      steps,
      batch: batchSize,
      lr: learningRate,
      seed,
      trace_mix: DEFAULT_TRACE_MIX,
      programs: 'copy-only',
      tokenizer: policy.tokenizer.name,
      model: { hidden: config.hiddenSize, layers: config.numLayers, heads: config.numHeads, kv_heads: config.numKvHeads, ffn: config.intermediateSize, context: config.contextLength, vocab: config.vocabSize, parameters: parameterLayout(config).totalSize },
      ...(init !== undefined ? { init } : {}),
      ...(grownFrom !== undefined ? { grown_from_layers: grownFrom } : {}),
    };
    const bar = new ProgressBar({ label: 'pretrain', total: copySteps + steps, silent: Boolean(values.json) || evalOnly });
    try {
      const report: Record<string, unknown> = { out };
      if (!evalOnly) {
        const result = await pretrain(policy, policy.tokenizer, {
          copySteps,
          copyFocus,
          steps,
          batchSize,
          seed,
          learningRate,
          maxTokens: policy.contextWindow,
          onStep: (step, loss, tokensPerSecond) => {
            bar.update(step, `loss ${loss.toFixed(3)} ${tokensPerSecond.toFixed(0)} tok/s`);
            if (saveEvery > 0 && step % saveEvery === 0 && step < copySteps + steps) {
              policy.info = { trained_by: 'cir pretrain (partial)', ...recipe, done_steps: step, of_steps: copySteps + steps, ...(init !== undefined ? { continued_from: before } : {}) };
              policy.saveTo(out);
            }
          },
        });
        bar.finish();
        const seconds = Math.round(result.seconds);
        policy.info = {
          trained_by: 'cir pretrain',
          ...recipe,
          seconds,
          tokens_per_s: Math.round(result.tokensPerSecond),
          threads,
          final_loss: result.finalLoss,
          ...(init !== undefined ? { continued_from: before } : {}),
        };
        policy.saveTo(out);
        Object.assign(report, { copy_steps: copySteps, steps, sequences: result.sequences, seconds, tokens_per_s: Math.round(result.tokensPerSecond), final_loss: result.finalLoss });
      }
      if (probeCount > 0) report['probe'] = await probeCopying(policy, policy.tokenizer, { traces: probeCount, seed: trainDefaults.eval.seed, maxTokens: policy.contextWindow });
      if (evalCount > 0) {
        // The trainer's held-out evaluation, unchanged but for the task count and temperature.
        const settings: EvalSettings = { ...trainDefaults.eval, tasks: evalCount, temperature };
        const tasks = heldOutTasks({ eval: settings, evalFamilies: null });
        const executor = await createSandboxExecutor();
        try {
          const started = performance.now();
          const deps = { engine: policy, tokenizer: policy.tokenizer, executor, formatFeedback: (outcome: Parameters<typeof formatFeedback>[0]) => formatFeedback(outcome) };
          const evaluate = (tools: boolean): Promise<EvalResult> =>
            evaluateHeldOut(deps, tasks, {
              settings,
              tools,
              maxResponseTokens: trainDefaults.rl.rollout.maxResponseTokens,
              maxPromptTokens: trainDefaults.rl.rollout.maxPromptTokens,
              executionTimeoutMs: trainDefaults.executionTimeoutMs,
            });
          const withTools = await evaluate(true);
          const withoutTools = await evaluate(false);
          const seconds = Math.round((performance.now() - started) / 1000);
          report['eval'] = { tasks: tasks.length, temperature, seconds, with_tools: withTools, without_tools: withoutTools };
        } finally {
          await executor.close();
        }
      }
      if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return 0;
    } finally {
      await policy.close();
    }
  },
};
