/**
 * A tiny but honest PolicyBackend: a character bigram model (one V×V logit table) with real
 * sampling (temperature, top-k, top-p, seed, stop strings and ids), real gradients through the
 * softmax, AdamW and JSON checkpoints. The servers are written against the PolicyBackend
 * contract; this backend lets their tests exercise every path (sampling, training, save/load) in
 * milliseconds, without the embedded transformer. (`cir bench serve` measures the real backend the
 * command line opens, the embedded model by default; it cannot use this test double.)
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InputError } from '../../core/errors.js';
import { seededRandom } from '../../core/rng.js';
import type { AdamParams, BuiltinLoss, ForwardBackwardResult, PolicyBackend, TargetLogprobs, TokenLossFunction, TrainingDatum } from '../../core/policy.js';
import type { SampleChunk, SampledSequence, SampleRequest, SamplingParams, StreamRequest } from '../../core/sampling.js';
import type { Tokenizer } from '../../core/tokenizer.js';
import { builtinLossFunction } from '../../core/builtin-losses.js';

/** The sampling distribution over the vocabulary after temperature, top-k and top-p (probabilities, 0 where cut). */
export function samplingDistribution(logits_V: ArrayLike<number>, params: Pick<SamplingParams, 'temperature' | 'topK' | 'topP'>): Float64Array {
  const size = logits_V.length;
  const probabilities_V = new Float64Array(size);
  if (params.temperature === 0) {
    let best = 0;
    for (let j = 1; j < size; j++) if ((logits_V[j] as number) > (logits_V[best] as number)) best = j;
    probabilities_V[best] = 1;
    return probabilities_V;
  }
  let max = -Infinity;
  for (let j = 0; j < size; j++) max = Math.max(max, logits_V[j] as number);
  let sum = 0;
  for (let j = 0; j < size; j++) sum += probabilities_V[j] = Math.exp(((logits_V[j] as number) - max) / params.temperature);
  for (let j = 0; j < size; j++) probabilities_V[j]! /= sum;
  const order = Array.from({ length: size }, (_, j) => j).sort((a, b) => probabilities_V[b]! - probabilities_V[a]!);
  const keep = new Set<number>();
  let mass = 0;
  for (const j of order) {
    if (params.topK > 0 && keep.size >= params.topK) break;
    if (keep.size > 0 && mass >= params.topP) break;
    keep.add(j);
    mass += probabilities_V[j]!;
  }
  for (let j = 0; j < size; j++) probabilities_V[j] = keep.has(j) ? probabilities_V[j]! / mass : 0;
  return probabilities_V;
}

interface BigramCheckpoint {
  magic: 'cir-bigram';
  version: 1;
  vocabSize: number;
  logits: number[];
  moment1: number[];
  moment2: number[];
  step: number;
}

export interface BigramPolicyOptions {
  contextWindow?: number;
  /** Seed of the initial logits. */
  seed?: number;
  /** Where `save(name)` writes the file `name`; default `runs/checkpoints`. */
  checkpointDir?: string;
}

export class BigramPolicy implements PolicyBackend {
  readonly name = 'bigram';
  readonly contextWindow: number;
  private readonly size: number;
  private logits_V_V: Float32Array;
  private gradients_V_V: Float32Array;
  private moment1_V_V: Float32Array;
  private moment2_V_V: Float32Array;
  private step = 0;
  private readonly checkpointDir: string;

  constructor(
    readonly tokenizer: Tokenizer,
    options: BigramPolicyOptions = {},
  ) {
    this.size = tokenizer.vocabSize;
    this.contextWindow = options.contextWindow ?? 512;
    this.checkpointDir = options.checkpointDir ?? join('runs', 'checkpoints');
    const next = seededRandom(options.seed ?? 1);
    this.logits_V_V = Float32Array.from({ length: this.size * this.size }, () => (next() - 0.5) * 0.1);
    this.gradients_V_V = new Float32Array(this.size * this.size);
    this.moment1_V_V = new Float32Array(this.size * this.size);
    this.moment2_V_V = new Float32Array(this.size * this.size);
  }

  private row(token: number): Float32Array {
    if (!Number.isInteger(token) || token < 0 || token >= this.size) throw new InputError(`token id ${token} is outside the vocabulary of ${this.size}`, 'tokens');
    return this.logits_V_V.subarray(token * this.size, (token + 1) * this.size);
  }

  async sample(request: SampleRequest): Promise<SampledSequence[]> {
    const sequences: SampledSequence[] = [];
    for (let i = 0; i < (request.n ?? 1); i++) {
      const params = request.params.seed === undefined ? request.params : { ...request.params, seed: request.params.seed + i };
      const tokens: number[] = [];
      const logprobs: number[] = [];
      let last: SampleChunk | undefined;
      for await (const chunk of this.stream({ promptTokens: request.promptTokens, params, ...(request.signal ? { signal: request.signal } : {}) })) {
        tokens.push(...chunk.tokens);
        logprobs.push(...(chunk.logprobs ?? []));
        last = chunk;
      }
      sequences.push({ tokens, logprobs, finishReason: last?.finishReason ?? 'length', stopReason: last?.stopReason ?? null });
    }
    return sequences;
  }

  async *stream(request: StreamRequest): AsyncIterable<SampleChunk> {
    const { params } = request;
    const next = seededRandom(params.seed ?? Math.floor(Math.random() * 2 ** 32));
    const stopIds = new Set(params.stopTokenIds ?? []);
    const stops = params.stop ?? [];
    let previous = request.promptTokens[request.promptTokens.length - 1] ?? this.tokenizer.eosTokenId;
    const generated: number[] = [];
    const limit = Math.min(params.maxTokens, this.contextWindow - request.promptTokens.length);
    for (let count = 0; count < limit; count++) {
      if (request.signal?.aborted) {
        yield { tokens: [], logprobs: [], finishReason: 'abort' };
        return;
      }
      const probabilities_V = samplingDistribution(this.row(previous), params);
      let target = next();
      let token = 0;
      for (; token < this.size - 1; token++) {
        target -= probabilities_V[token]!;
        if (target < 0 && probabilities_V[token]! > 0) break;
      }
      while (probabilities_V[token] === 0) token--; // rounding at the top end
      generated.push(token);
      previous = token;
      const chunk: SampleChunk = { tokens: [token], logprobs: [Math.log(probabilities_V[token]!)] };
      if (stopIds.has(token)) {
        yield { ...chunk, finishReason: 'stop', stopReason: token };
        return;
      }
      if (stops.length > 0) {
        const text = this.tokenizer.decode(generated);
        const hit = stops.find((stop) => text.includes(stop));
        if (hit !== undefined) {
          yield { ...chunk, finishReason: 'stop', stopReason: hit };
          return;
        }
      }
      yield chunk;
      // Let concurrent requests and socket events run between tokens.
      if (count % 16 === 15) await new Promise((resolve) => setImmediate(resolve));
    }
    yield { tokens: [], logprobs: [], finishReason: 'length' };
  }

  async forward(data: readonly TrainingDatum[]): Promise<TargetLogprobs> {
    return data.map((datum) => {
      const logprobs_T = new Float32Array(Math.max(0, datum.tokens.length - 1));
      for (let t = 0; t + 1 < datum.tokens.length; t++) {
        const row_V = this.row(datum.tokens[t] as number);
        logprobs_T[t] = logSoftmaxAt(row_V, datum.tokens[t + 1] as number);
      }
      return logprobs_T;
    });
  }

  async forwardBackward(data: readonly TrainingDatum[], loss: TokenLossFunction | BuiltinLoss): Promise<ForwardBackwardResult> {
    const logprobs = await this.forward(data);
    const lossFunction = typeof loss === 'function' ? loss : builtinAsFunction(loss, data);
    const result = lossFunction(logprobs);
    data.forEach((datum, d) => {
      const gradient_T = result.gradients[d] as Float32Array;
      for (let t = 0; t + 1 < datum.tokens.length; t++) {
        const weight = (gradient_T[t] as number) * (datum.lossMask[t] as number);
        if (weight === 0) continue;
        const from = datum.tokens[t] as number;
        const row_V = this.row(from);
        const probabilities_V = softmax(row_V);
        const offset = from * this.size;
        // d log p(target) / d logit_j = 1[j = target] − p_j
        for (let j = 0; j < this.size; j++) this.gradients_V_V[offset + j]! += weight * ((j === datum.tokens[t + 1] ? 1 : 0) - probabilities_V[j]!);
      }
    });
    return { loss: result.loss, logprobs, metrics: result.metrics };
  }

  async optimStep(params: AdamParams): Promise<{ gradNorm: number }> {
    let squares = 0;
    for (const g of this.gradients_V_V) squares += g * g;
    const gradNorm = Math.sqrt(squares);
    const scale = params.gradClip > 0 && gradNorm > params.gradClip ? params.gradClip / gradNorm : 1;
    this.step++;
    const correction1 = 1 - params.beta1 ** this.step;
    const correction2 = 1 - params.beta2 ** this.step;
    for (let i = 0; i < this.logits_V_V.length; i++) {
      const g = this.gradients_V_V[i]! * scale;
      this.moment1_V_V[i] = params.beta1 * this.moment1_V_V[i]! + (1 - params.beta1) * g;
      this.moment2_V_V[i] = params.beta2 * this.moment2_V_V[i]! + (1 - params.beta2) * g * g;
      const update = this.moment1_V_V[i]! / correction1 / (Math.sqrt(this.moment2_V_V[i]! / correction2) + params.eps);
      this.logits_V_V[i] = this.logits_V_V[i]! * (1 - params.learningRate * params.weightDecay) - params.learningRate * update;
    }
    this.gradients_V_V.fill(0);
    return { gradNorm };
  }

  /** Writes the checkpoint file `checkpointDir/name` and returns its path. */
  async save(name: string): Promise<string> {
    if (!/^[\w.-]+$/.test(name)) throw new InputError('checkpoint names use letters, digits, _, - and . only', name);
    const path = join(this.checkpointDir, name);
    const checkpoint: BigramCheckpoint = {
      magic: 'cir-bigram',
      version: 1,
      vocabSize: this.size,
      logits: Array.from(this.logits_V_V),
      moment1: Array.from(this.moment1_V_V),
      moment2: Array.from(this.moment2_V_V),
      step: this.step,
    };
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, JSON.stringify(checkpoint));
    return path;
  }

  async load(path: string): Promise<void> {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<BigramCheckpoint>;
    if (parsed.magic !== 'cir-bigram' || parsed.version !== 1) throw new InputError('is not a version-1 cir-bigram checkpoint', path);
    if (parsed.vocabSize !== this.size) throw new InputError(`has vocabulary ${parsed.vocabSize}, this model ${this.size}`, path);
    this.logits_V_V = Float32Array.from(parsed.logits ?? []);
    this.moment1_V_V = Float32Array.from(parsed.moment1 ?? []);
    this.moment2_V_V = Float32Array.from(parsed.moment2 ?? []);
    this.gradients_V_V.fill(0);
    this.step = parsed.step ?? 0;
  }
}

function softmax(row_V: Float32Array): Float64Array {
  let max = -Infinity;
  for (const x of row_V) max = Math.max(max, x);
  const out_V = new Float64Array(row_V.length);
  let sum = 0;
  for (let j = 0; j < row_V.length; j++) sum += out_V[j] = Math.exp(row_V[j]! - max);
  for (let j = 0; j < row_V.length; j++) out_V[j]! /= sum;
  return out_V;
}

function logSoftmaxAt(row_V: Float32Array, index: number): number {
  let max = -Infinity;
  for (const x of row_V) max = Math.max(max, x);
  let sum = 0;
  for (const x of row_V) sum += Math.exp(x - max);
  return row_V[index]! - max - Math.log(sum);
}

/** The core BuiltinLoss as Tinker defines it, with each datum's mask applied. */
export function builtinAsFunction(loss: BuiltinLoss, data: readonly TrainingDatum[]): TokenLossFunction {
  return builtinLossFunction(loss, data.map((datum) => datum.lossMask));
}
