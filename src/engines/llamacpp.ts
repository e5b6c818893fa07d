/**
 * llama.cpp in process, through node-llama-cpp: GGUF models on a laptop CPU, token-exact. The engine
 * asks llama.cpp only for the next-token distribution (`controlledEvaluate` with `probabilities`) and
 * draws the token itself with the same `chooseToken` as the embedded model, so sampling, temperature,
 * top-k/top-p, seeds and the reported log-probabilities mean the same on both engines.
 *
 * One llama.cpp context holds `sequences` KV-cache slots; concurrent calls each take a slot and
 * node-llama-cpp evaluates the slots' pending tokens together in one batch. A slot keeps its cache, so a
 * continuation after a tool call evaluates only the tokens past the common prefix.
 */
import { InputError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { SampleChunk, SampledSequence, SampleRequest, SamplingEngine, SamplingParams, StreamRequest } from '../core/sampling.js';
import { chooseToken } from '../core/token-choice.js';
import type { Tokenizer } from '../core/tokenizer.js';

// Types only: the module (and its native binary) is imported when a model is loaded.
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';

export interface LlamaCppEngineOptions {
  /** A GGUF file. */
  modelPath: string;
  /** KV-cache slots, i.e. continuations decoded together (default 4). */
  sequences?: number;
  /** Tokens per slot (default and maximum: the model's training context). */
  contextWindow?: number;
  /** CPU threads for llama.cpp (default: 1 for models under 256 MB, else all cores). */
  threads?: number;
  /** Called with the loaded fraction (0..1) while the weights load. */
  onLoadProgress?: (fraction: number) => void;
}

/** What a `cir export` GGUF records besides the weights (the `cir.*` metadata keys). */
export interface CirGgufMetadata {
  format: string;
  tokenizer: string;
  promptTemplate: string;
}

interface Slot {
  sequence: LlamaContextSequence;
  busy: boolean;
}

export class LlamaCppEngine implements SamplingEngine {
  readonly name: string;
  readonly contextWindow: number;
  /** The `cir.*` keys of a `cir export` file, or null for any other GGUF model. */
  readonly cir: CirGgufMetadata | null;
  /** llama.cpp's own tokenizer of the model (byte-exact for `cir export` files on ASCII text). */
  readonly tokenizer: Tokenizer;
  private readonly slots: Slot[];
  private readonly waiting: ((slot: Slot) => void)[] = [];
  private readonly vocabSize: number;
  private readonly eosTokenId: number;
  private closed = false;

  private constructor(
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    modelPath: string,
    contextWindow: number,
  ) {
    this.name = `llamacpp:${modelPath}`;
    this.contextWindow = contextWindow;
    this.slots = [];
    for (let i = 0; i < context.totalSequences; i++) this.slots.push({ sequence: context.getSequence(), busy: false });
    // Rows of the embedding matrix (GGUF lists dimensions innermost first).
    const embedding = model.fileInfo.tensorInfo?.find((tensor) => tensor.name === 'token_embd.weight');
    const rows = Number(embedding?.dimensions[1] ?? 0);
    if (!(rows > 0)) throw new InputError('the model has no token_embd.weight tensor to size its vocabulary by', modelPath);
    this.vocabSize = rows;
    const eos = model.tokens.eos;
    if (eos === null) throw new InputError('the model declares no end-of-sequence token (tokenizer.ggml.eos_token_id)', modelPath);
    this.eosTokenId = eos;
    const metadata = model.fileInfo.metadata as unknown as { cir?: Record<string, unknown> };
    const cir = metadata.cir;
    this.cir =
      cir && typeof cir['format'] === 'string' && typeof cir['prompt_template'] === 'string'
        ? { format: cir['format'], tokenizer: String(cir['tokenizer'] ?? ''), promptTemplate: cir['prompt_template'] }
        : null;
    this.tokenizer = {
      name: `llamacpp:${modelPath}`,
      vocabSize: this.vocabSize,
      eosTokenId: eos,
      encode: (text: string) => model.tokenize(text, false) as number[],
      decode: (ids: readonly number[], options?: { skipSpecialTokens?: boolean }) => model.detokenize(ids as Token[], !options?.skipSpecialTokens),
    };
  }

  static async load(options: LlamaCppEngineOptions): Promise<LlamaCppEngine> {
    let module: typeof import('node-llama-cpp');
    try {
      module = await import('node-llama-cpp');
    } catch (error) {
      throw new InputError('node-llama-cpp is not installed; run `npm ci` (scripts/setup.sh installs it)', 'llamacpp', { cause: error });
    }
    // CPU only, and never build from source: the prebuilt linux-x64/arm64/mac/win binary from the registry.
    const llama = await module.getLlama({ gpu: false, build: 'never', logLevel: module.LlamaLogLevel.error, progressLogs: false });
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: options.modelPath, ...(options.onLoadProgress ? { onLoadProgress: options.onLoadProgress } : {}) });
    } catch (error) {
      await llama.dispose();
      throw new InputError(`llama.cpp could not load this model: ${error instanceof Error ? error.message : String(error)}`, options.modelPath, { cause: error });
    }
    const trained = model.trainContextSize;
    const window = Math.min(options.contextWindow ?? trained, trained);
    const sequences = options.sequences ?? 4;
    try {
      const context = await model.createContext({
        contextSize: window * sequences,
        sequences,
        batchSize: Math.max(512, window),
        // One thread unless told otherwise for models under 256 MB: their per-token work is too small to
        // split, and llama.cpp's threads spin at every barrier, which on a loaded machine cost 5 s a token
        // here (2 threads) against 3 ms on one.
        threads: options.threads ?? (model.size < 256 * 2 ** 20 ? 1 : 0),
        // float32 keys and values (llama.cpp's default is float16) and no flash attention (its CPU kernel
        // accumulates in float16): the cache of a small model is small, and log-probabilities then match
        // the float32 engines to about 3e-6 instead of 1e-2. Generation never outgrows `window` (see
        // `generate`), so llama.cpp's context shifting never runs.
        flashAttention: false,
        experimentalKvCacheKeyType: 'F32',
        experimentalKvCacheValueType: 'F32',
      });
      return new LlamaCppEngine(llama, model, context, options.modelPath, window);
    } catch (error) {
      await model.dispose();
      await llama.dispose();
      throw new InputError(`llama.cpp could not create a context of ${sequences} × ${window} tokens: ${error instanceof Error ? error.message : String(error)}`, options.modelPath, { cause: error });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }

  private acquire(): Promise<Slot> {
    if (this.closed) return Promise.reject(new InputError('the engine is closed', this.name));
    const free = this.slots.find((slot) => !slot.busy);
    if (free) {
      free.busy = true;
      return Promise.resolve(free);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(slot: Slot): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else slot.busy = false;
  }

  async sample(request: SampleRequest): Promise<SampledSequence[]> {
    const n = request.n ?? 1;
    const seeds = Array.from({ length: n }, (_, i) => (request.params.seed !== undefined ? request.params.seed + i : undefined));
    return Promise.all(
      seeds.map(async (seed) => {
        const sequence: SampledSequence = { tokens: [], logprobs: [], finishReason: 'length' };
        const params = seed === undefined ? request.params : { ...request.params, seed };
        for await (const chunk of this.generate(request.promptTokens, params, request.signal)) {
          sequence.tokens.push(...chunk.tokens);
          sequence.logprobs!.push(...chunk.logprobs!);
          if (chunk.finishReason) {
            sequence.finishReason = chunk.finishReason;
            if (chunk.stopReason !== undefined) sequence.stopReason = chunk.stopReason;
          }
        }
        return sequence;
      }),
    );
  }

  stream(request: StreamRequest): AsyncIterable<SampleChunk> {
    return this.generate(request.promptTokens, request.params, request.signal);
  }

  private async *generate(promptTokens: readonly number[], params: SamplingParams, signal?: AbortSignal): AsyncGenerator<SampleChunk> {
    for (const token of promptTokens) {
      if (!(Number.isInteger(token) && token >= 0 && token < this.vocabSize)) throw new InputError(`prompt token ${token} is outside the vocabulary of ${this.vocabSize}`, this.name);
    }
    if (promptTokens.length === 0) throw new InputError('the prompt is empty', this.name);
    const room = Math.min(params.maxTokens, this.contextWindow - promptTokens.length);
    if (room <= 0) {
      yield { tokens: [], logprobs: [], finishReason: 'length' };
      return;
    }
    const slot = await this.acquire();
    try {
      const sequence = slot.sequence;
      // Keep the cached prefix the prompt shares with what the slot last saw; the last prompt token is
      // always evaluated again, since its output (the next-token distribution) is what we need.
      const cached = sequence.contextTokens;
      let keep = 0;
      const limit = Math.min(cached.length, promptTokens.length - 1);
      while (keep < limit && cached[keep] === promptTokens[keep]) keep++;
      if (sequence.nextTokenIndex > keep) await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
      const rng = new Rng(params.seed ?? Math.floor(Math.random() * 2 ** 32));
      const logits = new Float32Array(this.vocabSize);
      const probs = new Float64Array(this.vocabSize);
      const order = new Int32Array(this.vocabSize);
      const stops = params.stop ?? [];
      const stopIds = new Set(params.stopTokenIds ?? []);
      const generated: number[] = [];
      let pending = promptTokens.slice(keep) as Token[];
      for (;;) {
        if (signal?.aborted) {
          yield { tokens: [], logprobs: [], finishReason: 'abort' };
          return;
        }
        const input = pending.map((token, i) => (i === pending.length - 1 ? ([token, { generateNext: { probabilities: true } }] as [Token, { generateNext: { probabilities: true } }]) : token));
        const output = await sequence.controlledEvaluate(input);
        const distribution = output[input.length - 1]?.next.probabilities;
        if (!distribution) throw new InputError('llama.cpp returned no next-token probabilities', this.name);
        logits.fill(-Infinity);
        for (const [token, p] of distribution) if (token < this.vocabSize) logits[token] = Math.log(p);
        const choice = chooseToken(logits, params.temperature, params.topK, params.topP, rng, probs, order);
        generated.push(choice.token);
        const chunk: SampleChunk = { tokens: [choice.token], logprobs: [choice.logprob] };
        if (choice.token === this.eosTokenId || this.model.isEogToken(choice.token as Token)) {
          chunk.finishReason = 'stop';
          chunk.stopReason = choice.token;
        } else if (stopIds.has(choice.token)) {
          chunk.finishReason = 'stop';
          chunk.stopReason = choice.token;
        } else if (stops.length > 0) {
          const text = this.model.detokenize(generated as Token[], true);
          const hit = stops.find((stop) => text.includes(stop));
          if (hit !== undefined) {
            chunk.finishReason = 'stop';
            chunk.stopReason = hit;
          }
        }
        if (!chunk.finishReason && generated.length >= room) chunk.finishReason = 'length';
        yield chunk;
        if (chunk.finishReason) return;
        pending = [choice.token as Token];
      }
    } finally {
      this.release(slot);
    }
  }
}
