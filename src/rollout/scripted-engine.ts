/**
 * A scripted SamplingEngine: a stand-in model whose continuation is a function of the prompt text
 * (e.g. "how many output blocks has it seen so far"). Tokens are real (the given tokenizer), EOS is
 * appended when a script turn ends, stop strings behave as vLLM's, and an optional latency model
 * turns it into the simulated model server of `cir bench rollout`:
 *
 *   request time = queue wait for one of `slots` + prefillMsPerToken · uncached prompt tokens
 *                  + decodeMsPerToken · generated tokens  (streamed in chunks of `chunkTokens`)
 *
 * "Uncached" counts prompt tokens beyond the longest prefix seen before (vLLM's prefix caching).
 */
import type { SampleChunk, SampledSequence, SampleRequest, SamplingEngine, StreamRequest } from '../core/sampling.js';
import type { Tokenizer } from '../core/tokenizer.js';
import { Limiter } from './limiter.js';

export interface LatencyModel {
  prefillMsPerToken: number;
  decodeMsPerToken: number;
  /** Requests served at once; the rest queue. */
  slots: number;
}

export interface ScriptedEngineOptions {
  tokenizer: Tokenizer;
  /** Returns the model's next turn for this prompt text; `seed` lets scripts vary per sample. */
  script: (promptText: string, seed: number | undefined) => string;
  contextWindow?: number;
  chunkTokens?: number;
  latency?: LatencyModel;
  /** Deterministic fake log-probabilities (-0.01 · (1 + id mod 7)), or none. */
  logprobs?: boolean;
}

export class ScriptedEngine implements SamplingEngine {
  readonly name = 'scripted';
  readonly contextWindow: number;
  /** Tokens generated (decode work), for benchmarks. */
  generatedTokens = 0;
  requests = 0;
  private readonly slots: Limiter | null;
  private readonly seenPrefixes = new Set<string>();

  constructor(private readonly options: ScriptedEngineOptions) {
    this.contextWindow = options.contextWindow ?? 32768;
    this.slots = options.latency ? new Limiter(options.latency.slots) : null;
  }

  private plan(promptTokens: readonly number[], maxTokens: number, seed: number | undefined) {
    const text = this.options.script(this.options.tokenizer.decode(promptTokens), seed);
    const full = [...this.options.tokenizer.encode(text), this.options.tokenizer.eosTokenId];
    // A prompt that already ends with the start of this turn is a resumed request: continue it.
    const resumed = overlap(promptTokens, full);
    const tokens = full.slice(resumed);
    const truncated = tokens.length > maxTokens;
    return { tokens: truncated ? tokens.slice(0, maxTokens) : tokens, truncated };
  }

  private logprobsFor(tokens: readonly number[]): number[] | null {
    return this.options.logprobs === false ? null : tokens.map((id) => -0.01 * (1 + (id % 7)));
  }

  /** Prefill cost, with a coarse prefix cache keyed by 64-token blocks of the prompt. */
  private prefillMs(promptTokens: readonly number[]): number {
    const latency = this.options.latency;
    if (!latency) return 0;
    let cached = 0;
    for (let end = 64; end <= promptTokens.length; end += 64) {
      const key = promptTokens.slice(0, end).join(',');
      if (this.seenPrefixes.has(key)) cached = end;
      else this.seenPrefixes.add(key);
    }
    return (promptTokens.length - cached) * latency.prefillMsPerToken;
  }

  async sample(request: SampleRequest): Promise<SampledSequence[]> {
    const run = async (): Promise<SampledSequence[]> => {
      this.requests += 1;
      await sleep(this.prefillMs(request.promptTokens), request.signal);
      const results: SampledSequence[] = [];
      for (let i = 0; i < (request.n ?? 1); i += 1) {
        const seed = request.params.seed === undefined ? undefined : request.params.seed + i;
        const { tokens: planned, truncated } = this.plan(request.promptTokens, request.params.maxTokens, seed);
        const { tokens, stopReason } = applyStops(this.options.tokenizer, planned, request.params.stop ?? []);
        this.generatedTokens += tokens.length;
        await sleep(tokens.length * (this.options.latency?.decodeMsPerToken ?? 0), request.signal);
        const finishedByStop = stopReason !== null || !truncated || tokens.length < planned.length;
        results.push({
          tokens,
          logprobs: this.logprobsFor(tokens),
          finishReason: finishedByStop ? 'stop' : 'length',
          stopReason,
        });
      }
      return results;
    };
    return this.slots ? this.slots.run(run) : run();
  }

  async *stream(request: StreamRequest): AsyncIterable<SampleChunk> {
    if (this.slots) await this.slots.acquire();
    try {
      this.requests += 1;
      await sleep(this.prefillMs(request.promptTokens), request.signal);
      const { tokens, truncated } = this.plan(request.promptTokens, request.params.maxTokens, request.params.seed);
      const size = this.options.chunkTokens ?? 4;
      for (let start = 0; start < tokens.length; start += size) {
        const piece = tokens.slice(start, start + size);
        await sleep(piece.length * (this.options.latency?.decodeMsPerToken ?? 0), request.signal);
        this.generatedTokens += piece.length;
        const last = start + size >= tokens.length;
        const chunk: SampleChunk = { tokens: piece, logprobs: this.logprobsFor(piece) };
        if (last) {
          chunk.finishReason = truncated ? 'length' : 'stop';
          chunk.stopReason = null;
        }
        yield chunk;
      }
    } finally {
      if (this.slots) this.slots.release();
    }
  }
}

/** Longest j such that `prompt` ends with `turn[0..j)`. */
function overlap(prompt: readonly number[], turn: readonly number[]): number {
  for (let j = Math.min(prompt.length, turn.length - 1); j > 0; j -= 1) {
    let match = true;
    for (let i = 0; i < j && match; i += 1) match = prompt[prompt.length - j + i] === turn[i];
    if (match) return j;
  }
  return 0;
}

/** vLLM's stop-string rule on ids: stop after the token whose text completes a stop string. */
function applyStops(tokenizer: Tokenizer, tokens: number[], stops: readonly string[]): { tokens: number[]; stopReason: string | null } {
  if (stops.length === 0) return { tokens, stopReason: null };
  for (let i = 1; i <= tokens.length; i += 1) {
    const text = tokenizer.decode(tokens.slice(0, i));
    const previous = tokenizer.decode(tokens.slice(0, i - 1));
    for (const stop of stops) {
      const at = text.indexOf(stop, Math.max(0, previous.length - stop.length + 1));
      if (at !== -1) return { tokens: tokens.slice(0, i), stopReason: stop };
    }
  }
  return { tokens, stopReason: null };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new Error('aborted'));
      },
      { once: true },
    );
  });
}
