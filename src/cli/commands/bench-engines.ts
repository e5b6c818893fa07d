/** `cir bench engines`: tokens/s of the embedded engine and llama.cpp in process on the same exported model. */
import { benchEngines } from '../../backends/bench-engines.js';
import { numberFlag, parseCommandLine, type Command } from '../command.js';

const help = `Usage: cir bench engines [--checkpoint DIR] [--prompts N] [--max-tokens N] [--json]

Exports the checkpoint (default: the committed warm start) to GGUF and, in the same run, decodes the
same greedy prompts (generated test tasks) with the embedded engine (WASM, 2 threads) and with llama.cpp
in process (node-llama-cpp, CPU, 1 thread): first one prompt at a time, then all of them concurrently
(continuous batching / one llama.cpp context with a slot per prompt). Times include prefill.

Options:
  --checkpoint DIR   the model (default assets/checkpoints/warm-start)
  --prompts N        prompts (default 16)
  --max-tokens N     new tokens per prompt at most (default 64)
  --json             print {"embedded":{"tokens_per_s","batched_tokens_per_s",...},"llamacpp":{...},
                     "same_greedy_tokens","max_logprob_diff",...}`;

export const benchEnginesCommand: Command = {
  name: 'bench engines',
  summary: 'tokens/s of the embedded engine and llama.cpp in process on the same model',
  help,
  async run(argv) {
    const { values } = parseCommandLine(argv, { checkpoint: { type: 'string' }, prompts: { type: 'string' }, 'max-tokens': { type: 'string' }, json: { type: 'boolean' } }, false);
    const report = await benchEngines({
      ...(values.checkpoint !== undefined ? { checkpoint: values.checkpoint } : {}),
      prompts: numberFlag(values.prompts, 'prompts', 16, 1, 256),
      maxTokens: numberFlag(values['max-tokens'], 'max-tokens', 64, 1, 4096),
      onProgress: (label) => !values.json && process.stderr.write(`bench engines: ${label}\n`),
    });
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `${JSON.stringify(report, null, 2)}\n`);
    return 0;
  },
};
