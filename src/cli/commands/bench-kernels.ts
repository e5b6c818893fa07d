/** `cir bench kernels`: matmul GFLOP/s beside native onnxruntime, train and sample tokens/s. */
import { benchKernels } from '../../model/bench.js';
import { numberFlag, parseCommandLine, type Command } from '../command.js';

const help = `Usage: cir bench kernels [--json] [--seconds S]

Measures, in one run: the WASM SIMD matmul (512x512x512) on 1 and 2 threads, the plain TypeScript
matmul, and onnxruntime-node's native MatMul on 1 and 2 threads (a development dependency; when it
cannot load, native_gflops is null and native_error says why); then training tokens/s (forward,
backward and AdamW on 32 sequences of 40-160 tokens) and KV-cache sampling tokens/s (64 concurrent sequences,
continuous batching) for the default embedded model, on the fast path and on the TypeScript path.

Options:
  --seconds S   minimum timing per matmul measurement (default 1)
  --json        print {"matmul":{"gflops_1t","gflops_2t","native_gflops","ratio",...},
                "train_tokens_per_s","sample_tokens_per_s","typescript":{...},...}`;

export const benchKernelsCommand: Command = {
  name: 'bench kernels',
  summary: 'matmul GFLOP/s vs native, train and sample tokens/s of the embedded model',
  help,
  async run(argv) {
    const { values } = parseCommandLine(argv, { json: { type: 'boolean' }, seconds: { type: 'string' } }, false);
    const seconds = numberFlag(values.seconds, 'seconds', 1, 0.1, 60);
    const report = await benchKernels({ seconds, onProgress: (label) => !values.json && process.stderr.write(`bench kernels: ${label}\n`) });
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `${JSON.stringify(report, null, 2)}\n`);
    return 0;
  },
};
