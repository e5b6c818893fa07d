/** `cir solve "PROBLEM"`: one code-integrated trajectory, printed live as the model writes it. */
import { InputError } from '../../core/errors.js';
import { instructedQuestion } from '../../prompts/index.js';
import { ENGINE_GRAMMAR, openExecutor, openSamplingEngine, parseEngineSpec, parseSandboxSpec, SANDBOX_GRAMMAR } from '../../backends/index.js';
import { renderPrompt } from '../../tasks/index.js';
import { BOUNDARY_MODES, RolloutEngine, type BoundaryMode, type RolloutEvent } from '../../rollout/index.js';
import { numberFlag, oneOf, parseCommandLine, UsageError, type Command } from '../command.js';
import { ProgressBar } from '../progress.js';
import { untrustedTextPrinter } from '../terminal.js';

const help = `Usage: cir solve "PROBLEM" --engine ENGINE [--model NAME] [--tokenizer DIR|HUB_ID] [options]
       cir solve "PROBLEM" --engine embedded[:CHECKPOINT]

Solves one problem with code-integrated reasoning: the model writes prose and python blocks; each
block is run in the sandbox as soon as it closes and its output is fed back, until the model
finishes or the tool budget is spent. Prints the model's text live, with code outputs set apart.

The prompt is the CIR instruction + "\\n" + PROBLEM, wrapped in the tokenizer's chat template
(--raw sends it without a template, as the paper's Qwen2.5-Math evaluation does).

Engines (--engine):
${ENGINE_GRAMMAR.replace(/^/gm, '  ')}

Options:
  --engine ENGINE         the model (above)
  --model NAME            served model name (server engines)
  --tokenizer DIR|ID      local folder with tokenizer.json + tokenizer_config.json, or a Hub id
                          (downloaded to ~/.cache/cir/tokenizers); default: --model if it is a Hub id
  --mode tokens|text      tokens (default): exact ids; text for OpenAI-compatible servers without ids
  --sandbox SANDBOX       where code runs: local (default) | fusion:URL (a SandboxFusion service)
  --max-tool-calls N      tool budget (default 5, the paper's evaluation budget)
  --budget-policy P       finish (paper: continue without executing) | notify (tell the model)
  --max-tokens N          new tokens per model call (default 4096)
  --max-total N           response tokens in total (default 16384)
  --temperature T         default 1.0       --top-p P   default 0.95     --top-k K   default 0 (off)
  --seed N                sampling seed
  --session               keep Python state across the blocks (the paper runs each block fresh)
  --no-stream             use stop strings + verification instead of streaming
  --boundary precise|stop-strings   where a turn ends to run its code: after the first complete python
                          block (default, the paper) or at the stop strings "\`\`\`output" / "\`\`\`\\n\\n" the
                          paper's code used before
  --raw                   no chat template
  --thinking              Qwen3: enable_thinking=true (default false, as the paper's Qwen3 runs)
  --checkpoint DIR        same as --engine embedded:DIR
  --json                  print the full trajectory record (segments with token ids) as JSON
  --raw-output            print model and program text as it is; by default control characters and
                          escape sequences (which could drive the terminal) are shown as \\xNN escapes
`;

const color = (code: number, text: string) => (process.stdout.isTTY ? `\x1b[${code}m${text}\x1b[0m` : text);

export const solveCommand: Command = {
  name: 'solve',
  summary: 'solve one problem with code-integrated reasoning, printed live',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, {
      engine: { type: 'string' },
      model: { type: 'string' },
      tokenizer: { type: 'string' },
      mode: { type: 'string' },
      'max-tool-calls': { type: 'string' },
      'budget-policy': { type: 'string' },
      'max-tokens': { type: 'string' },
      'max-total': { type: 'string' },
      temperature: { type: 'string' },
      'top-p': { type: 'string' },
      'top-k': { type: 'string' },
      seed: { type: 'string' },
      session: { type: 'boolean' },
      'no-stream': { type: 'boolean' },
      boundary: { type: 'string' },
      raw: { type: 'boolean' },
      thinking: { type: 'boolean' },
      checkpoint: { type: 'string' },
      sandbox: { type: 'string' },
      json: { type: 'boolean' },
      'raw-output': { type: 'boolean' },
    });
    const shown = untrustedTextPrinter(values['raw-output'] ?? false);
    if (positionals.length !== 1 || !positionals[0]?.trim()) throw new UsageError('give exactly one PROBLEM (quote it)');
    const problem = positionals[0];
    if (values.checkpoint !== undefined && values.engine !== undefined && values.engine !== 'embedded') throw new UsageError('--checkpoint DIR goes with --engine embedded (or write --engine embedded:DIR)');
    const engineText = values.checkpoint !== undefined ? `embedded:${values.checkpoint}` : values.engine;
    if (!engineText) throw new UsageError(`--engine is required, one of:\n${ENGINE_GRAMMAR}`);
    const engineSpec = parseEngineSpec(engineText);
    const sandboxSpec = parseSandboxSpec(values.sandbox ?? 'local');
    if (values.session && sandboxSpec.kind !== 'local') throw new UsageError(`--session keeps Python state between blocks, which needs --sandbox local (SandboxFusion runs each block in a fresh process)\n${SANDBOX_GRAMMAR}`);
    const budgetPolicy = values['budget-policy'] ?? 'finish';
    if (budgetPolicy !== 'finish' && budgetPolicy !== 'notify') throw new UsageError('--budget-policy must be finish or notify');
    const mode = values.mode ?? 'tokens';
    if (mode !== 'tokens' && mode !== 'text') throw new UsageError('--mode must be tokens or text');
    const boundary = oneOf<BoundaryMode>(values.boundary, 'boundary', BOUNDARY_MODES, 'precise');

    const loading = new ProgressBar({ label: 'loading model', total: 100, silent: Boolean(values.json) });
    const opened = await openSamplingEngine(engineSpec, {
      ...(values.model !== undefined ? { model: values.model } : {}),
      ...(values.tokenizer !== undefined ? { tokenizer: values.tokenizer } : {}),
      wire: mode,
      wireExplicit: values.mode !== undefined,
      onLoadProgress: (fraction) => (fraction < 1 ? loading.update(Math.round(fraction * 100)) : loading.finish()),
    });
    const { engine, tokenizer, chatTokenizer } = opened;
    let promptTokens: number[];
    const text = instructedQuestion(problem, 'code');
    if (opened.trainedPromptFormat === 'tasks') {
      // The embedded model was trained on the generated tasks' compact prompt, not the paper's long one.
      promptTokens = tokenizer.encode(renderPrompt({ problem }));
    } else {
      promptTokens = values.raw || chatTokenizer?.chatTemplate == null ? tokenizer.encode(text) : chatTokenizer.encodeChat([{ role: 'user', content: text }], { enableThinking: Boolean(values.thinking) });
    }

    if (promptTokens.length >= engine.contextWindow) {
      await opened.close();
      throw new InputError(`the prompt is ${promptTokens.length} tokens; the model's context window is ${engine.contextWindow} tokens, which leaves no room for an answer`, 'PROBLEM');
    }

    let executor;
    try {
      executor = await openExecutor(sandboxSpec, { concurrency: 1 });
    } catch (error) {
      await opened.close();
      throw error;
    }
    const json = Boolean(values.json);
    const print = (event: RolloutEvent) => {
      if (json) return;
      if (event.type === 'text') process.stdout.write(shown(event.text));
      else if (event.type === 'tool' || event.type === 'notice') {
        const body = event.type === 'tool' ? event.feedback : event.text.trim();
        const label = event.type === 'tool' ? `output of block ${event.callIndex + 1} (${event.outcome.kind}, ${Math.round('durationMs' in event.outcome ? event.outcome.durationMs : 0)} ms)` : 'budget notice';
        process.stdout.write(`\n${color(36, `┌─ ${label}`)}\n${shown(body).split('\n').map((line) => `${color(36, '│')} ${line}`).join('\n')}\n${color(36, '└─')}\n`);
      } else if (event.type === 'retry') process.stderr.write(color(33, `[interpreter retry ${event.attempt}: ${event.reason}]\n`));
    };
    try {
      const rollout = new RolloutEngine({
        engine,
        tokenizer,
        executor,
        sampling: {
          temperature: numberFlag(values.temperature, 'temperature', 1, 0, 10),
          topP: numberFlag(values['top-p'], 'top-p', 0.95, 0, 1),
          topK: numberFlag(values['top-k'], 'top-k', 0, 0, 1e6),
          ...(values.seed !== undefined ? { seed: numberFlag(values.seed, 'seed', 0, 0, 2 ** 31) } : {}),
        },
        maxToolCalls: numberFlag(values['max-tool-calls'], 'max-tool-calls', 5, 0, 1000),
        budgetPolicy,
        maxTokensPerCall: numberFlag(values['max-tokens'], 'max-tokens', 4096, 1, 1e6),
        maxTotalTokens: numberFlag(values['max-total'], 'max-total', 16384, 1, 1e7),
        interpreterMode: values.session ? 'session' : 'stateless',
        streaming: !values['no-stream'],
        boundary,
        engineConcurrency: 1,
        executorConcurrency: 1,
      });
      const controller = new AbortController();
      const onSigint = () => controller.abort();
      process.once('SIGINT', onSigint);
      const [trajectory] = await rollout.rollout(promptTokens, 1, { onEvent: print, signal: controller.signal });
      process.off('SIGINT', onSigint);
      if (!trajectory) throw new InputError('no trajectory was produced', 'engine');
      if (json) {
        process.stdout.write(`${JSON.stringify(trajectory)}\n`);
      } else {
        const policyTokens = trajectory.segments.filter((s) => s.origin === 'policy').reduce((n, s) => n + s.tokens.length, 0);
        process.stdout.write('\n');
        process.stderr.write(
          color(2, `[${trajectory.status}${trajectory.error ? `: ${shown(trajectory.error)}` : ''} · ${trajectory.toolCalls.length} tool call(s) · ${policyTokens} model tokens · ${(trajectory.wallMs / 1000).toFixed(1)} s${trajectory.tokenExact ? '' : ' · text mode (not token-exact)'}]`) + '\n',
        );
      }
      return trajectory.status === 'error' ? 1 : 0;
    } finally {
      await executor.close();
      await opened.close();
    }
  },
};
