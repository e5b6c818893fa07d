/**
 * EmbeddedPolicy: the in-process transformer behind the PolicyBackend contract (Tinker-like):
 * batched sampling with a KV cache and continuous batching, forward, forward-backward with a
 * per-token loss, AdamW steps, save and load.
 */
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import type { AdamParams, BuiltinLoss, ForwardBackwardResult, PolicyBackend, TargetLogprobs, TokenLossFunction, TrainingDatum } from '../core/policy.js';
import type { SampleChunk, SampledSequence, SampleRequest, StreamRequest } from '../core/sampling.js';
import { AdamW } from './adamw.js';
import { Arena } from './arena.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { DEFAULT_MODEL_CONFIG, type ModelConfig } from './config.js';
import { Decoder } from './decode.js';
import { referenceMatmul } from './kernels/matmul.js';
import { WasmMatmul } from './kernels/matmul-wasm.js';
import { builtinLossFunction, isBuiltinLoss } from '../core/builtin-losses.js';
import { Scheduler } from './scheduler.js';
import type { Tokenizer } from '../core/tokenizer.js';
import { charTokenizer, streamingTokenizer, type StreamingTokenizer } from './tokenizer.js';
import { Transformer } from './transformer.js';

export interface EmbeddedPolicyOptions {
  /** 'wasm' (SIMD kernels, default) or 'typescript' (the plain reference path). */
  kernels?: 'wasm' | 'typescript';
  /** Threads for the WASM matmul; default 2. */
  threads?: 1 | 2;
  /** Sequences decoded at once (KV-cache slots); default 64. */
  maxConcurrentSequences?: number;
  /** Rows (prompt + decode tokens) per decode step; long prompts are prefilled in chunks. Default 1024. */
  maxRowsPerStep?: number;
  /** Tokens per training micro-batch (B·T). Default 4096. */
  microBatchTokens?: number;
  /** Where `save(name)` writes `name/`; default `runs/checkpoints`. */
  checkpointDir?: string;
  /** Seed for initialisation and for sampling calls that give none. */
  seed?: number;
  /**
   * The vocabulary the model speaks (default the char tokenizer): any tokenizer with at most
   * `config.vocabSize` ids, e.g. a Hugging Face one (see `createEmbeddedPolicyForTokenizer`).
   */
  tokenizer?: Tokenizer;
}

export class EmbeddedPolicy implements PolicyBackend {
  readonly name = 'embedded';
  readonly contextWindow: number;
  readonly tokenizer: StreamingTokenizer;
  readonly model: Transformer;
  readonly optimizer: AdamW;
  private readonly scheduler: Scheduler;
  private readonly wasmKernels: WasmMatmul | undefined;
  private readonly microBatchTokens: number;
  private readonly checkpointDir: string;
  /** Free-form facts saved with checkpoints (e.g. how the weights were trained). */
  info: Record<string, unknown> = {};

  constructor(
    readonly config: ModelConfig = { ...DEFAULT_MODEL_CONFIG },
    options: EmbeddedPolicyOptions = {},
  ) {
    this.tokenizer = options.tokenizer ? streamingTokenizer(options.tokenizer) : charTokenizer;
    if (this.tokenizer.vocabSize > config.vocabSize) {
      throw new InputError(`the tokenizer has ${this.tokenizer.vocabSize} ids, the model only ${config.vocabSize}`, this.tokenizer.name);
    }
    const arena = new Arena();
    this.wasmKernels = options.kernels === 'typescript' ? undefined : new WasmMatmul(arena, options.threads ?? 2);
    this.model = new Transformer(config, this.wasmKernels ?? referenceMatmul, arena);
    this.model.initialize(options.seed ?? 1234);
    this.model.activeVocab = this.tokenizer.vocabSize;
    this.optimizer = new AdamW(this.model.params.length, this.model.layout.tensors, arena);
    this.contextWindow = config.contextLength;
    // Training keeps (tokens × vocabulary) probabilities: a large vocabulary takes smaller micro-batches
    // (about 256 MB of them; a longer sequence still goes alone), the char model whole contexts.
    this.microBatchTokens = options.microBatchTokens ?? Math.min(Math.max(4096, config.contextLength), Math.max(64, Math.floor(2 ** 26 / config.vocabSize)));
    this.checkpointDir = options.checkpointDir ?? join('runs', 'checkpoints');
    const decoder = new Decoder(this.model, options.maxConcurrentSequences ?? 64, options.maxRowsPerStep ?? Math.min(1024, Math.max(64, Math.floor(2 ** 26 / config.vocabSize))), arena);
    this.scheduler = new Scheduler(decoder, this.tokenizer, config.contextLength, options.seed ?? 1234);
  }

  get kernelName(): string {
    return this.model.kernels.name;
  }

  /** Decode steps, rows and sampled tokens so far (for benchmarks). */
  get samplingStats(): Readonly<{ steps: number; rows: number; sampledTokens: number }> {
    return this.scheduler.stats;
  }

  async sample(request: SampleRequest): Promise<SampledSequence[]> {
    const n = request.n ?? 1;
    const handles = Array.from({ length: n }, (_, i) => this.scheduler.submit(request.promptTokens, request.params, request.signal, i));
    return Promise.all(
      handles.map(async (handle) => {
        const sequence: SampledSequence = { tokens: [], logprobs: [], finishReason: 'length', text: '' };
        for (let chunk = await handle.next(); chunk; chunk = await handle.next()) {
          sequence.tokens.push(...chunk.tokens);
          sequence.logprobs!.push(...(chunk.logprobs ?? []));
          sequence.text += chunk.text ?? '';
          if (chunk.finishReason) {
            sequence.finishReason = chunk.finishReason;
            sequence.stopReason = chunk.stopReason ?? null;
          }
        }
        return sequence;
      }),
    );
  }

  /** One token per chunk; breaking out of the loop (or aborting) frees the sequence's slot at once. */
  async *stream(request: StreamRequest): AsyncIterable<SampleChunk> {
    const handle = this.scheduler.submit(request.promptTokens, request.params, request.signal);
    try {
      for (let chunk = await handle.next(); chunk; chunk = await handle.next()) yield chunk;
    } finally {
      handle.cancel();
    }
  }

  private checkDatum(datum: TrainingDatum, index: number): void {
    const source = `training datum ${index}`;
    if (datum.tokens.length < 2) throw new InputError('needs at least 2 tokens', source);
    if (datum.tokens.length > this.contextWindow) throw new InputError(`has ${datum.tokens.length} tokens, the context window is ${this.contextWindow}`, source);
    if (datum.lossMask.length !== datum.tokens.length - 1) throw new InputError(`lossMask has length ${datum.lossMask.length}, expected ${datum.tokens.length - 1}`, source);
  }

  /** Micro-batches of similar length: index lists into `data`, each with its padded T. */
  private microBatches(data: readonly TrainingDatum[]): { indices: number[]; T: number }[] {
    const order = data.map((_, i) => i).sort((a, b) => data[a]!.tokens.length - data[b]!.tokens.length);
    const batches: { indices: number[]; T: number }[] = [];
    let current: number[] = [];
    let T = 0;
    for (const index of order) {
      const length = data[index]!.tokens.length;
      if (current.length > 0 && (current.length + 1) * Math.max(T, length) > this.microBatchTokens) {
        batches.push({ indices: current, T });
        current = [];
        T = 0;
      }
      current.push(index);
      T = Math.min(Math.max(T, Math.ceil(length / 8) * 8), this.contextWindow); // multiples of 8 take the fast attention
    }
    if (current.length > 0) batches.push({ indices: current, T });
    return batches;
  }

  /** Runs the forward for one micro-batch; returns the (B,T) logprobs view. */
  private forwardBatch(data: readonly TrainingDatum[], batch: { indices: number[]; T: number }): Float32Array {
    const { indices, T } = batch;
    const B = indices.length;
    const tokens = new Int32Array(B * T);
    const targets = new Int32Array(B * T).fill(-1);
    indices.forEach((index, b) => {
      const sequence = data[index]!.tokens;
      for (let t = 0; t < sequence.length; t++) tokens[b * T + t] = sequence[t]!;
      for (let t = 0; t + 1 < sequence.length; t++) targets[b * T + t] = sequence[t + 1]!;
    });
    return this.model.forward(tokens, targets, B, T);
  }

  private collect(data: readonly TrainingDatum[], batch: { indices: number[]; T: number }, logprobs_B_T: Float32Array, out: TargetLogprobs): void {
    batch.indices.forEach((index, b) => {
      const length = data[index]!.tokens.length - 1;
      out[index] = logprobs_B_T.slice(b * batch.T, b * batch.T + length);
    });
  }

  async forward(data: readonly TrainingDatum[]): Promise<TargetLogprobs> {
    data.forEach((datum, i) => this.checkDatum(datum, i));
    const out: TargetLogprobs = new Array<Float32Array>(data.length);
    for (const batch of this.microBatches(data)) {
      this.collect(data, batch, this.forwardBatch(data, batch), out);
      await yieldToEventLoop();
    }
    return out;
  }

  /**
   * Gradients of the loss accumulate until `optimStep`. The loss's gradient is multiplied by each
   * datum's lossMask, so masked targets never train, whatever the loss function returns for them.
   * With several micro-batches the forward runs twice (once for the loss, once before backward).
   */
  async forwardBackward(data: readonly TrainingDatum[], loss: TokenLossFunction | BuiltinLoss): Promise<ForwardBackwardResult> {
    data.forEach((datum, i) => this.checkDatum(datum, i));
    const batches = this.microBatches(data);
    const logprobs: TargetLogprobs = new Array<Float32Array>(data.length);
    for (const batch of batches) {
      this.collect(data, batch, this.forwardBatch(data, batch), logprobs);
      if (batches.length > 1) await yieldToEventLoop();
    }
    const result = (isBuiltinLoss(loss) ? builtinLossFunction(loss, data.map((datum) => datum.lossMask)) : loss)(logprobs);
    if (result.gradients.length !== data.length) throw new InputError(`returned ${result.gradients.length} gradient arrays for ${data.length} data`, 'loss function');
    for (const batch of batches) {
      if (batches.length > 1) this.forwardBatch(data, batch);
      const dlogprobs = new Float32Array(batch.indices.length * batch.T);
      batch.indices.forEach((index, b) => {
        const gradient = result.gradients[index]!;
        const mask = data[index]!.lossMask;
        if (gradient.length !== mask.length) throw new InputError(`gradient ${index} has length ${gradient.length}, expected ${mask.length}`, 'loss function');
        for (let t = 0; t < gradient.length; t++) dlogprobs[b * batch.T + t] = gradient[t]! * mask[t]!;
      });
      this.model.backward(dlogprobs);
      await yieldToEventLoop();
    }
    let tokens = 0;
    for (const datum of data) tokens += datum.tokens.length - 1;
    return { loss: result.loss, logprobs, metrics: { ...result.metrics, target_tokens: tokens, micro_batches: batches.length } };
  }

  async optimStep(params: AdamParams): Promise<{ gradNorm: number }> {
    const result = this.optimizer.update(this.model.params, this.model.grads, params);
    this.model.zeroGrad();
    return result;
  }

  /** Zero AdamW moments and step: a new run from these weights (a checkpoint's moments belong to its own run). */
  resetOptimizer(): void {
    this.optimizer.m.fill(0);
    this.optimizer.v.fill(0);
    this.optimizer.step = 0;
  }

  /** Writes `checkpointDir/name/` (weights, config, optimizer state); returns the directory. */
  async save(name: string): Promise<string> {
    if (!/^[\w.-]+$/.test(name) || /^\.+$/.test(name)) throw new InputError('checkpoint names use letters, digits, _, - and . only, and not only dots', name);
    return this.saveTo(join(this.checkpointDir, name));
  }

  saveTo(dir: string): string {
    return saveCheckpoint(dir, {
      config: this.config,
      params: this.model.params,
      optimizer: { m: this.optimizer.m, v: this.optimizer.v, step: this.optimizer.step },
      // The vocabulary is part of what the weights mean: a checkpoint names its tokenizer.
      info: this.tokenizer === charTokenizer ? this.info : { ...this.info, tokenizer: this.tokenizer.name },
    });
  }

  async load(path: string): Promise<void> {
    const contents = loadCheckpoint(path);
    const mismatch = (Object.keys(this.config) as (keyof ModelConfig)[]).find((key) => this.config[key] !== contents.config[key]);
    if (mismatch) throw new InputError(`checkpoint has ${mismatch}=${contents.config[mismatch]}, this policy was built with ${this.config[mismatch]}; use loadEmbeddedPolicy(path)`, path);
    this.model.params.set(contents.params);
    this.model.zeroGrad();
    if (contents.optimizer) {
      this.optimizer.m.set(contents.optimizer.m);
      this.optimizer.v.set(contents.optimizer.v);
      this.optimizer.step = contents.optimizer.step;
    }
    this.info = contents.info;
  }

  /** Stops the matmul worker thread; the policy keeps working on one thread. */
  async close(): Promise<void> {
    await this.wasmKernels?.close();
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
