/** `cir pretrain`: the supervised warm start of the embedded policy on generated traces. */
import { createSandboxExecutor, formatFeedback } from '../../interpreter/index.js';
import { createEmbeddedPolicy, createEmbeddedPolicyForTokenizer, DEFAULT_CHECKPOINT_PATH, DEFAULT_MODEL_CONFIG, loadEmbeddedPolicy, type EmbeddedPolicy } from '../../model/index.js';
import { loadHfTokenizer } from '../../tokenizers/index.js';
import { pretrain } from '../../tasks/warm-start.js';
import { defaultTrainConfig, evaluateHeldOut, heldOutTasks, type EvalResult, type EvalSettings } from '../../train/index.js';
import { numberFlag, parseCommandLine, UsageError, type Command } from '../command.js';
import { ProgressBar } from '../progress.js';

const help = `Usage: cir pretrain [--out DIR] [--steps N] [--copy-focus N] [--batch N] [--lr X] [--seed N] [--eval N] [--eval-only] [--json]

Trains the embedded transformer (default size, random init) by supervised learning on generated
traces: direct answers, code-integrated solutions, and solutions whose first program fails before a
corrected one follows (docs/model.md). Prompt and interpreter-output tokens are masked from the loss.
Writes a checkpoint directory (model.safetensors with Hugging Face names, config.json, optimizer state).

Options:
  --out DIR     checkpoint directory (default: the committed warm start, ${DEFAULT_CHECKPOINT_PATH})
  --copy-steps N   copy-drill steps first, which form the copying heads the traces need (default 200)
  --steps N     optimizer steps on traces after the drills (default 700)
  --copy-focus N   of each step's sequences, N come from code traces with the loss on the digits they
                copy (problem numbers into code, output into \\boxed{}), weighted as half the step's loss
                (default 0; the committed warm start was continued with 16 of 32)
  --batch N     sequences per step (default 32)
  --lr X        peak learning rate, warm-up then cosine decay (default 3e-3)
  --seed N      data and initialisation seed (default 1)
  --threads N   matmul threads, 1 or 2 (default 2)
  --eval N      afterwards, held-out accuracy on N test-split tasks with and without the Python tool,
                measured exactly as \`cir train\` measures it (its task draw, the rollout engine with
                tool budget 5 and 240 response tokens, the grader; the sandbox from src/interpreter;
                default 0 = skip)
  --eval-temperature T   sampling temperature of that evaluation (default 0 = greedy, as \`cir train\`)
  --eval-only   skip training: evaluate the checkpoint at --out
  --save-every N   also write the checkpoint every N steps (default 0 = only at the end)
  --init DIR    continue from this checkpoint instead of a random initialisation
  --tokenizer DIR   build the model over this Hugging Face tokenizer's vocabulary instead of the char
                tokenizer (e.g. Qwen3's 151,669 ids; the checkpoint records its name, load it with the same
                --tokenizer); with --init, the vocabulary that checkpoint was trained over
  --context-length N   context window of a new model (default 384)
  --json        print the result as JSON: {"out","steps","seconds","tokens_per_s","final_loss",
                "eval":{"tasks","temperature","seconds","with_tools":{...},"without_tools":{...}}}, each
                evaluation as in \`cir train\`'s metrics (accuracy, ci95, n, byFamily, codeHelps, text, ...)`;

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
        'context-length': { type: 'string' },
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
    const contextLength = numberFlag(values['context-length'], 'context-length', DEFAULT_MODEL_CONFIG.contextLength, 8, 32768);
    if (!Number.isInteger(contextLength)) throw new UsageError('--context-length must be an integer');
    if (init !== undefined && values['context-length'] !== undefined) throw new UsageError('--context-length sizes a new model; a checkpoint has its own');
    const policy: EmbeddedPolicy =
      init !== undefined
        ? await loadEmbeddedPolicy(init, { threads, ...(vocabulary ? { tokenizer: vocabulary } : {}) })
        : vocabulary
          ? createEmbeddedPolicyForTokenizer(vocabulary, { contextLength }, { seed, threads })
          : createEmbeddedPolicy({ contextLength }, { seed, threads });
    const before = policy.info;
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
              policy.info = { trained_by: 'cir pretrain (partial)', steps: step, of_steps: copySteps + steps, copy_steps: copySteps, copy_focus: copyFocus, batch: batchSize, lr: learningRate, seed };
              policy.saveTo(out);
            }
          },
        });
        bar.finish();
        const seconds = Math.round(result.seconds);
        policy.info = {
          trained_by: 'cir pretrain',
          copy_steps: copySteps,
          copy_focus: copyFocus,
          steps,
          batch: batchSize,
          lr: learningRate,
          seed,
          seconds,
          final_loss: result.finalLoss,
          ...(init !== undefined ? { continued_from: before } : {}),
        };
        policy.saveTo(out);
        Object.assign(report, { copy_steps: copySteps, steps, sequences: result.sequences, seconds, tokens_per_s: Math.round(result.tokensPerSecond), final_loss: result.finalLoss });
      }
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
