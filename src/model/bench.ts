/**
 * Kernel and model throughput, for `cir bench kernels`: the WASM SIMD matmul on 1 and 2 threads
 * beside onnxruntime-node's native MatMul (a development dependency, loaded if present) in the same
 * run, and training / KV-cache sampling tokens per second for the default model on the fast path and
 * the plain TypeScript path.
 */
import type { TrainingDatum } from '../core/policy.js';
import { Arena } from './arena.js';
import { matmulForwardRef } from './kernels/matmul.js';
import { WasmMatmul } from './kernels/matmul-wasm.js';
import { createEmbeddedPolicy } from './index.js';
import { Rng } from '../core/rng.js';

/** Printable-ASCII sequences with the length spread of the warm-start traces (40-160 tokens). */
function syntheticData(count: number, seed: number): TrainingDatum[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const tokens = Array.from({ length: rng.int(40, 160) }, () => rng.int(32, 126));
    return { tokens, lossMask: new Float32Array(tokens.length - 1).fill(1) };
  });
}

export interface KernelBenchReport {
  matmul: {
    size: number;
    gflops_1t: number;
    gflops_2t: number;
    native_gflops: number | null;
    native_gflops_1t: number | null;
    /** Fast path (2 threads) over native (2 threads). */
    ratio: number | null;
    native_error?: string;
    typescript_gflops: number;
  };
  train_tokens_per_s: number;
  sample_tokens_per_s: number;
  typescript: { train_tokens_per_s: number; sample_tokens_per_s: number };
  model: { parameters: number; config: Record<string, number> };
  sample_batch: number;
  train_batch: number;
}

function timeIt(minSeconds: number, work: () => void): number {
  work(); // warm-up (tier-up, worker start)
  let reps = 0;
  const started = performance.now();
  while ((performance.now() - started) / 1000 < minSeconds || reps < 3) {
    work();
    reps++;
  }
  return (performance.now() - started) / 1000 / reps;
}

/** A one-node ONNX model C = A·B for (n,n) float inputs, protobuf-encoded by hand. */
export function onnxMatmulModel(n: number): Uint8Array {
  const bytes: number[] = [];
  const varint = (out: number[], value: number) => {
    while (value > 127) {
      out.push((value & 127) | 128);
      value = Math.floor(value / 128);
    }
    out.push(value);
  };
  const field = (number: number, payload: number[] | string | number): number[] => {
    const out: number[] = [];
    if (typeof payload === 'number') {
      varint(out, number << 3);
      varint(out, payload);
      return out;
    }
    const data = typeof payload === 'string' ? [...Buffer.from(payload)] : payload;
    varint(out, (number << 3) | 2);
    varint(out, data.length);
    return out.concat(data);
  };
  const valueInfo = (name: string) =>
    field(1, name).concat(field(2, field(1, field(1, 1).concat(field(2, field(1, field(1, n)).concat(field(1, field(1, n)))))))); // float tensor (n,n)
  const node = field(1, 'A').concat(field(1, 'B'), field(2, 'C'), field(4, 'MatMul'));
  const graph = field(1, node).concat(field(2, 'bench'), field(11, valueInfo('A')), field(11, valueInfo('B')), field(12, valueInfo('C')));
  bytes.push(...field(1, 8), ...field(8, field(2, 13)), ...field(7, graph));
  return Uint8Array.from(bytes);
}

interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options: { intraOpNumThreads: number; interOpNumThreads: number }): Promise<OrtSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
}
interface OrtSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, unknown>>;
  release(): Promise<void>;
}

async function nativeGflops(n: number, threads: number, seconds: number): Promise<number> {
  const ort = (await import('onnxruntime-node' as string)) as unknown as OrtModule & { default?: OrtModule };
  const api = ort.InferenceSession ? ort : ort.default!;
  const session = await api.InferenceSession.create(onnxMatmulModel(n), { intraOpNumThreads: threads, interOpNumThreads: 1 });
  try {
    const a = new api.Tensor('float32', new Float32Array(n * n).fill(1), [n, n]);
    const b = new api.Tensor('float32', new Float32Array(n * n).fill(1), [n, n]);
    await session.run({ A: a, B: b });
    let reps = 0;
    const started = performance.now();
    while ((performance.now() - started) / 1000 < seconds || reps < 3) {
      await session.run({ A: a, B: b });
      reps++;
    }
    return (2 * n ** 3 * reps) / ((performance.now() - started) / 1000) / 1e9;
  } finally {
    await session.release();
  }
}

async function trainTokensPerSecond(kernels: 'wasm' | 'typescript', steps: number): Promise<number> {
  const policy = createEmbeddedPolicy({}, { kernels, seed: 3 });
  try {
    const data = syntheticData(32, 5);
    const weights = data.map((datum) => Float32Array.from(datum.lossMask, (m) => m / 1000));
    const tokens = data.reduce((sum, datum) => sum + datum.tokens.length, 0);
    const adam = { learningRate: 1e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 1 };
    await policy.forwardBackward(data, { kind: 'cross_entropy', weights }); // warm-up and buffer sizing
    await policy.optimStep(adam);
    const started = performance.now();
    for (let step = 0; step < steps; step++) {
      await policy.forwardBackward(data, { kind: 'cross_entropy', weights });
      await policy.optimStep(adam);
    }
    return (tokens * steps) / ((performance.now() - started) / 1000);
  } finally {
    await policy.close();
  }
}

async function sampleTokensPerSecond(kernels: 'wasm' | 'typescript', batch: number, maxTokens: number): Promise<number> {
  const policy = createEmbeddedPolicy({}, { kernels, seed: 4, maxConcurrentSequences: batch });
  try {
    const prompts = syntheticData(batch, 9).map((datum) => datum.tokens.slice(0, 30));
    // Random weights rarely sample the end token, so every sequence runs to maxTokens.
    const run = () =>
      Promise.all(prompts.map((promptTokens, i) => policy.sample({ promptTokens, params: { temperature: 1, topP: 1, topK: 0, maxTokens, seed: i } })));
    await run();
    const started = performance.now();
    const results = await run();
    const tokens = results.reduce((sum, [sequence]) => sum + sequence!.tokens.length, 0);
    return tokens / ((performance.now() - started) / 1000);
  } finally {
    await policy.close();
  }
}

export async function benchKernels(options: { seconds?: number; onProgress?: (label: string) => void } = {}): Promise<KernelBenchReport> {
  const seconds = options.seconds ?? 1;
  const n = 512;
  const flops = 2 * n ** 3;
  const arena = new Arena();
  const a = arena.alloc(n * n).fill(1);
  const b = arena.alloc(n * n).fill(1);
  const c = arena.alloc(n * n);
  options.onProgress?.('matmul 1 thread');
  const one = new WasmMatmul(arena, 1);
  const gflops1 = flops / timeIt(seconds, () => one.gemm(c, a, b, n, n, n, false)) / 1e9;
  options.onProgress?.('matmul 2 threads');
  const two = new WasmMatmul(arena, 2);
  const gflops2 = flops / timeIt(seconds, () => two.gemm(c, a, b, n, n, n, false)) / 1e9;
  await two.close();
  options.onProgress?.('matmul typescript');
  const small = 256; // the reference is slow: a smaller product, same per-FLOP measure
  const typescriptGflops = (2 * small ** 3) / timeIt(seconds, () => matmulForwardRef(c, a, b, small, small, small)) / 1e9;
  options.onProgress?.('matmul onnxruntime-node');
  let native: number | null = null;
  let native1: number | null = null;
  let nativeError: string | undefined;
  try {
    native1 = await nativeGflops(n, 1, seconds);
    native = await nativeGflops(n, 2, seconds);
  } catch (error) {
    nativeError = `onnxruntime-node unavailable: ${error instanceof Error ? error.message : String(error)}`;
  }
  options.onProgress?.('train, fast path');
  const train = await trainTokensPerSecond('wasm', 3);
  options.onProgress?.('sample, fast path');
  const sampleBatch = 64;
  const sample = await sampleTokensPerSecond('wasm', sampleBatch, 96);
  options.onProgress?.('train and sample, typescript path');
  const trainTs = await trainTokensPerSecond('typescript', 1);
  const sampleTs = await sampleTokensPerSecond('typescript', sampleBatch, 24);
  const probe = createEmbeddedPolicy({}, { kernels: 'typescript' });
  const config = { ...probe.config } as unknown as Record<string, number>;
  const parameters = probe.model.params.length;
  await probe.close();
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    matmul: {
      size: n,
      gflops_1t: round(gflops1),
      gflops_2t: round(gflops2),
      native_gflops: native === null ? null : round(native),
      native_gflops_1t: native1 === null ? null : round(native1),
      ratio: native === null ? null : Math.round((gflops2 / native) * 1000) / 1000,
      ...(nativeError ? { native_error: nativeError } : {}),
      typescript_gflops: round(typescriptGflops),
    },
    train_tokens_per_s: Math.round(train),
    sample_tokens_per_s: Math.round(sample),
    typescript: { train_tokens_per_s: Math.round(trainTs), sample_tokens_per_s: Math.round(sampleTs) },
    model: { parameters, config },
    sample_batch: sampleBatch,
    train_batch: 32,
  };
}
