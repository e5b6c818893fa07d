/** `cir bench serve`: completions throughput over HTTP vs in process, in one run. */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPolicyBackend } from '../../backends/index.js';
import { DEFAULT_CHECKPOINT_PATH } from '../../model/index.js';
import { benchServe } from '../../serve/bench.js';
import { numberFlag, parseCommandLine, UsageError, type Command } from '../command.js';
import { ProgressBar } from '../progress.js';

const help = `Usage: cir bench serve [--json] [--clients 1,8,32] [--requests N] [--max-tokens N] [--checkpoint PATH | --random-init]

Measures /v1/completions throughput of cir serve (loopback, greedy decoding, token ids in and out)
with concurrent clients, and the same requests against the in-process backend in the same run.
Reports completion tokens/s and requests/s for both paths and the HTTP overhead in percent.

Options:
  --clients LIST       concurrent clients to measure (default 1,8,32)
  --requests N         requests per measurement (default 64)
  --max-tokens N       tokens per completion (default 64)
  --checkpoint PATH    model to serve (default: the committed warm start; a random-init model if absent)
  --random-init        use a freshly initialised model
  --json               print the report as JSON
`;

export const benchServeCommand: Command = {
  name: 'bench serve',
  summary: 'throughput of cir serve with concurrent clients vs the in-process backend',
  help,
  async run(argv) {
    const { values } = parseCommandLine(
      argv,
      {
        clients: { type: 'string' },
        requests: { type: 'string' },
        'max-tokens': { type: 'string' },
        checkpoint: { type: 'string' },
        'random-init': { type: 'boolean' },
        json: { type: 'boolean' },
      },
      false,
    );
    const concurrency = (values.clients ?? '1,8,32').split(',').map((part) => numberFlag(part.trim(), 'clients', 1, 1, 1024));
    if (concurrency.some((c) => !Number.isInteger(c))) throw new UsageError('--clients takes whole numbers, e.g. 1,8,32');
    const requests = numberFlag(values.requests, 'requests', 64, 1, 100_000);
    const maxTokens = numberFlag(values['max-tokens'], 'max-tokens', 64, 1, 4096);
    const checkpointDir = mkdtempSync(join(tmpdir(), 'cir-bench-serve-'));
    const checkpoint = values.checkpoint ?? DEFAULT_CHECKPOINT_PATH;
    const useCheckpoint = !values['random-init'] && existsSync(checkpoint);
    if (values.checkpoint !== undefined && !useCheckpoint) throw new UsageError(`--checkpoint ${values.checkpoint}: not found`);
    const opened = await openPolicyBackend({ kind: 'embedded', checkpoint }, { checkpointDir, randomInit: !useCheckpoint });
    const { backend, tokenizer } = opened;
    const progress = new ProgressBar({ label: 'bench serve', total: concurrency.length * 2, silent: Boolean(values.json) });
    const prompts = Array.from({ length: 16 }, (_, i) => `Q: What is ${17 + i * 13} * ${23 + i * 7}?\nA: `);
    try {
      const report = await benchServe({
        backend,
        tokenizer,
        modelName: 'cir-embedded',
        checkpointDir,
        concurrency,
        requests,
        maxTokens: Math.min(maxTokens, backend.contextWindow - 64),
        prompts,
        onProgress: (done) => progress.update(done),
      });
      progress.finish();
      const output = { ...report, checkpoint: useCheckpoint ? checkpoint : 'random-init', kernels: opened.description['kernels'] };
      if (values.json) process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
      else {
        process.stdout.write(`model ${output.checkpoint} (${output.kernels}), ${report.max_tokens} tokens per completion, same tokens on both paths: ${report.same_tokens}\n`);
        for (const [i, local] of report.in_process.entries()) {
          const http = report.http[i];
          process.stdout.write(`  ${String(local.clients).padStart(3)} clients: in-process ${local.tokens_per_s} tok/s, HTTP ${http?.tokens_per_s} tok/s, overhead ${report.overhead_pct[i]?.overhead_pct}%\n`);
        }
      }
      return 0;
    } finally {
      await opened.close();
    }
  },
};
