/**
 * A scripted SamplingEngine: a stand-in model whose continuation is a function of the prompt text
 * (e.g. "how many output blocks has it seen so far"). Tokens are real (the given tokenizer), EOS is
 * appended when a script turn ends, stop strings behave as vLLM's, and an optional latency model
 * turns it into the simulated model server of `cir bench rollout`, a continuous-batching server
 * like vLLM: one decode loop serves every running sequence (at most `slots`; the rest queue); each
 * tick gives every running sequence `chunkTokens` tokens and lasts
 *
 *   chunkTokens · (decodeMsPerToken + batchMsPerSequence · running) + prefillMsPerToken · uncached
 *   prompt tokens of the requests admitted in that tick,
 *
 * so a lone straggler decodes fast but uses the server poorly, as on a GPU. "Uncached" counts prompt
 * tokens beyond the longest 64-token-block prefix seen before (vLLM's prefix caching).
 */
import { AbortedError } from '../core/errors.js';
import type { SampleChunk, SampledSequence, SampleRequest, SamplingEngine, StreamRequest } from '../core/sampling.js';
import type { Tokenizer } from '../core/tokenizer.js';
import { overlap } from '../core/token-overlap.js';

export interface LatencyModel {
  prefillMsPerToken: number;
  /** Time of one decode step with a single running sequence. */
  decodeMsPerToken: number;
  /** Extra step time per running sequence (batching is not free). */
  batchMsPerSequence: number;
  /** Sequences decoded at once; the rest queue. */
  slots: number;
}

interface Job {
  tokens: number[];
  position: number;
  promptTokens: readonly number[];
  admitted: boolean;
  deliver: (piece: number[], last: boolean) => void;
  cancelled: boolean;
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
  private readonly seenPrefixes = new Set<string>();
  private readonly running: Job[] = [];
  private readonly waiting: Job[] = [];
  private ticking = false;

  constructor(private readonly options: ScriptedEngineOptions) {
    this.contextWindow = options.contextWindow ?? 32768;
  }

  /** Queues a job on the simulated batch loop. */
  private submit(job: Job): void {
    this.waiting.push(job);
    if (!this.ticking) {
      this.ticking = true;
      void this.loop();
    }
  }

  private async loop(): Promise<void> {
    const latency = this.options.latency as LatencyModel;
    const chunk = this.options.chunkTokens ?? 4;
    while (this.running.length > 0 || this.waiting.length > 0) {
      let prefill = 0;
      while (this.running.length < latency.slots && this.waiting.length > 0) {
        const job = this.waiting.shift() as Job;
        if (job.cancelled) continue;
        prefill += this.prefillMs(job.promptTokens);
        this.running.push(job);
      }
      const batch = this.running.length;
      await sleep(chunk * (latency.decodeMsPerToken + latency.batchMsPerSequence * batch) + prefill);
      for (const job of [...this.running]) {
        if (!job.cancelled) {
          const piece = job.tokens.slice(job.position, job.position + chunk);
          job.position += piece.length;
          this.generatedTokens += piece.length;
          job.deliver(piece, job.position >= job.tokens.length);
        }
        if (job.cancelled || job.position >= job.tokens.length) this.running.splice(this.running.indexOf(job), 1);
      }
    }
    this.ticking = false;
  }

  /** Runs `tokens` through the simulated server, calling `deliver` per tick. */
  private simulate(promptTokens: readonly number[], tokens: number[], deliver: (piece: number[], last: boolean) => void, signal?: AbortSignal): Job {
    const job: Job = { tokens, position: 0, promptTokens, admitted: false, deliver, cancelled: false };
    signal?.addEventListener('abort', () => (job.cancelled = true), { once: true });
    this.submit(job);
    return job;
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
    this.requests += 1;
    const results: SampledSequence[] = [];
    for (let i = 0; i < (request.n ?? 1); i += 1) {
      const seed = request.params.seed === undefined ? undefined : request.params.seed + i;
      const { tokens: planned, truncated } = this.plan(request.promptTokens, request.params.maxTokens, seed);
      const { tokens, stopReason } = applyStops(this.options.tokenizer, planned, request.params.stop ?? []);
      if (this.options.latency && tokens.length > 0) {
        await new Promise<void>((resolve) => this.simulate(request.promptTokens, tokens, (_, last) => last && resolve(), request.signal));
      } else this.generatedTokens += tokens.length;
      const finishedByStop = stopReason !== null || !truncated || tokens.length < planned.length;
      results.push({ tokens, logprobs: this.logprobsFor(tokens), finishReason: finishedByStop ? 'stop' : 'length', stopReason });
    }
    return results;
  }

  async *stream(request: StreamRequest): AsyncIterable<SampleChunk> {
    this.requests += 1;
    const { tokens, truncated } = this.plan(request.promptTokens, request.params.maxTokens, request.params.seed);
    const finish = (chunk: SampleChunk, last: boolean): SampleChunk => {
      if (last) {
        chunk.finishReason = truncated ? 'length' : 'stop';
        chunk.stopReason = null;
      }
      return chunk;
    };
    if (!this.options.latency) {
      const size = this.options.chunkTokens ?? 4;
      for (let start = 0; start < tokens.length; start += size) {
        const piece = tokens.slice(start, start + size);
        this.generatedTokens += piece.length;
        yield finish({ tokens: piece, logprobs: this.logprobsFor(piece) }, start + size >= tokens.length);
      }
      return;
    }
    const queue: Array<{ piece: number[]; last: boolean }> = [];
    let wake: (() => void) | null = null;
    const job = this.simulate(request.promptTokens, tokens, (piece, last) => {
      queue.push({ piece, last });
      wake?.();
    }, request.signal);
    request.signal?.addEventListener('abort', () => wake?.(), { once: true });
    try {
      while (true) {
        if (request.signal?.aborted) throw new AbortedError('aborted');
        const next = queue.shift();
        if (!next) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
          continue;
        }
        yield finish({ tokens: next.piece, logprobs: this.logprobsFor(next.piece) }, next.last);
        if (next.last) return;
      }
    } finally {
      // Leaving early frees the sequence's place in the batch, as an aborted request does on vLLM.
      job.cancelled = true;
    }
  }
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
        reject(new AbortedError('aborted'));
      },
      { once: true },
    );
  });
}
