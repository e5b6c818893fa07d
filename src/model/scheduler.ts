/**
 * Continuous batching for sampling. Every sample/stream call becomes a request; one decode loop
 * serves them all: each tick admits waiting requests into free KV-cache slots, feeds prompt tokens
 * (prefill) and the last sampled token of running requests (decode) as one batch of rows, samples,
 * and hands each request its token. Requests join and leave between ticks, so a trajectory that
 * stops at a code fence frees its slot at once and its continuation (after the tool ran) joins the
 * running batch. Identical prompts admitted together are prefilled once and their cache copied.
 */
import type { FinishReason, SampleChunk, SamplingParams } from '../core/sampling.js';
import type { Decoder } from './decode.js';
import { Rng } from '../core/rng.js';
import { chooseToken } from '../core/token-choice.js';
import type { StreamingTokenizer } from './tokenizer.js';

interface Request {
  prompt: readonly number[];
  params: SamplingParams;
  rng: Rng;
  signal: AbortSignal | undefined;
  slot: number;
  /** Prompt tokens scheduled into a step. */
  fed: number;
  /** Prompt tokens whose keys and values are in the cache (fed in a finished step). */
  cached: number;
  /** Waiting for this request to prefill the shared prefix, then copies its cache. */
  leader: Request | undefined;
  generated: number[];
  text: string;
  finished: boolean;
  cancelled: boolean;
  queue: SampleChunk[];
  wake: (() => void) | undefined;
}

export interface RequestHandle {
  /** The next chunk, or undefined once the last chunk has been taken. */
  next(): Promise<SampleChunk | undefined>;
  /** Stops generation and frees the slot (idempotent). */
  cancel(): void;
}

export interface SchedulerStats {
  steps: number;
  rows: number;
  sampledTokens: number;
}

export class Scheduler {
  private readonly waiting: Request[] = [];
  private readonly active: (Request | undefined)[];
  private running = false;
  private seedCounter = 0;
  readonly stats: SchedulerStats = { steps: 0, rows: 0, sampledTokens: 0 };
  private readonly rowSlots: Int32Array;
  private readonly rowTokens: Int32Array;
  private readonly rowPositions: Int32Array;
  private readonly probs: Float64Array;
  private readonly order: Int32Array;

  constructor(
    private readonly decoder: Decoder,
    private readonly tokenizer: StreamingTokenizer,
    private readonly contextLength: number,
    private readonly baseSeed: number,
  ) {
    this.active = new Array<Request | undefined>(decoder.slots).fill(undefined);
    this.rowSlots = new Int32Array(decoder.maxRows);
    this.rowTokens = new Int32Array(decoder.maxRows);
    this.rowPositions = new Int32Array(decoder.maxRows);
    this.probs = new Float64Array(tokenizer.vocabSize);
    this.order = new Int32Array(tokenizer.vocabSize);
  }

  submit(prompt: readonly number[], params: SamplingParams, signal: AbortSignal | undefined, seedOffset = 0): RequestHandle {
    const seed = params.seed !== undefined ? params.seed + seedOffset * 7919 : this.baseSeed + 104729 * ++this.seedCounter;
    const request: Request = {
      prompt,
      params,
      rng: new Rng(seed),
      signal,
      slot: -1,
      fed: 0,
      cached: 0,
      leader: undefined,
      generated: [],
      text: '',
      finished: false,
      cancelled: false,
      queue: [],
      wake: undefined,
    };
    if (prompt.length === 0 || prompt.length >= this.contextLength || params.maxTokens <= 0) {
      // Nothing can be generated: the prompt fills the context (or is empty, or no tokens were asked for).
      this.finish(request, 'length', null);
    } else if (signal?.aborted) {
      this.finish(request, 'abort', null);
    } else {
      signal?.addEventListener('abort', () => this.cancel(request, 'abort'), { once: true });
      this.waiting.push(request);
      this.kick();
    }
    return {
      next: () => this.take(request),
      cancel: () => this.cancel(request, 'abort'),
    };
  }

  private take(request: Request): Promise<SampleChunk | undefined> {
    const chunk = request.queue.shift();
    if (chunk) return Promise.resolve(chunk);
    if (request.finished) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      request.wake = () => {
        request.wake = undefined;
        resolve(request.queue.shift());
      };
    });
  }

  private push(request: Request, chunk: SampleChunk): void {
    request.queue.push(chunk);
    request.wake?.();
  }

  private finish(request: Request, reason: FinishReason, stopReason: string | number | null, lastChunk?: SampleChunk): void {
    if (request.finished) return;
    request.finished = true;
    if (request.slot >= 0) this.active[request.slot] = undefined;
    request.slot = -1;
    const chunk = lastChunk ?? { tokens: [], logprobs: [], text: '' };
    chunk.finishReason = reason;
    chunk.stopReason = stopReason;
    this.push(request, chunk);
    // A consumer waiting on an already-empty queue after finish gets undefined.
    request.wake?.();
  }

  private cancel(request: Request, reason: FinishReason): void {
    request.cancelled = true;
    const waitingIndex = this.waiting.indexOf(request);
    if (waitingIndex >= 0) this.waiting.splice(waitingIndex, 1);
    this.finish(request, reason, null);
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    setImmediate(() => this.tick());
  }

  private admit(): void {
    for (let slot = 0; slot < this.active.length && this.waiting.length > 0; slot++) {
      if (this.active[slot]) continue;
      const request = this.waiting.shift()!;
      request.slot = slot;
      this.active[slot] = request;
    }
    // Requests with the same prompt that are all still unfed share one prefill.
    const leaders = new Map<string, Request>();
    for (const request of this.active) {
      if (!request || request.fed > 0 || request.leader || request.prompt.length < 16) continue;
      const key = request.prompt.join(',');
      const leader = leaders.get(key);
      if (leader) request.leader = leader;
      else leaders.set(key, request);
    }
  }

  private tick(): void {
    try {
      this.admit();
      const R = this.decoder.maxRows;
      let rows = 0;
      const logitRows: number[] = [];
      const logitOwners: Request[] = [];
      for (const request of this.active) {
        if (!request || rows >= R) continue;
        if (request.leader) {
          const leader = request.leader;
          const shared = request.prompt.length - 1;
          if (leader.finished) request.leader = undefined; // its slot may be reused: prefill alone
          else if (leader.cached >= shared) {
            this.decoder.copyPrefix(leader.slot, request.slot, shared);
            request.fed = request.cached = shared;
            request.leader = undefined;
          } else continue;
        }
        if (request.fed < request.prompt.length) {
          // Prefill: as many prompt tokens as fit; logits only once the whole prompt is in.
          const count = Math.min(request.prompt.length - request.fed, R - rows);
          for (let i = 0; i < count; i++) {
            this.rowSlots[rows] = request.slot;
            this.rowTokens[rows] = request.prompt[request.fed + i]!;
            this.rowPositions[rows] = request.fed + i;
            rows++;
          }
          request.fed += count;
          if (request.fed === request.prompt.length) {
            logitRows.push(rows - 1);
            logitOwners.push(request);
          }
        } else {
          const position = request.prompt.length + request.generated.length - 1;
          this.rowSlots[rows] = request.slot;
          this.rowTokens[rows] = request.generated[request.generated.length - 1]!;
          this.rowPositions[rows] = position;
          logitRows.push(rows);
          logitOwners.push(request);
          rows++;
        }
      }
      if (rows > 0) {
        const logits = this.decoder.step(this.rowSlots, this.rowTokens, this.rowPositions, rows, logitRows);
        for (const request of this.active) if (request) request.cached = request.fed;
        this.stats.steps++;
        this.stats.rows += rows;
        // Rows are the model's vocabulary wide; only the tokenizer's ids are ever drawn (the model's
        // may be padded to a multiple of 8, and those logits are -∞ in training too).
        const V = this.decoder.vocabSize;
        const drawable = this.tokenizer.vocabSize;
        for (let i = 0; i < logitOwners.length; i++) {
          const request = logitOwners[i]!;
          const { temperature, topK, topP } = request.params;
          const choice = chooseToken(logits.subarray(i * V, i * V + drawable), temperature, topK, topP, request.rng, this.probs, this.order);
          this.accept(request, choice.token, choice.logprob);
        }
      }
    } catch (error) {
      // A kernel failure ends every running request rather than hanging its consumer.
      for (const request of [...this.active, ...this.waiting.splice(0)]) {
        if (request) this.finish(request, 'abort', error instanceof Error ? error.message : String(error));
      }
    }
    const busy = this.waiting.length > 0 || this.active.some((request) => request !== undefined);
    if (busy) setImmediate(() => this.tick());
    else this.running = false;
  }

  private accept(request: Request, token: number, logprob: number): void {
    this.stats.sampledTokens++;
    request.generated.push(token);
    const piece = this.tokenizer.tokenText(token);
    const before = request.text.length;
    request.text += piece;
    const chunk: SampleChunk = { tokens: [token], logprobs: [logprob], text: piece };
    const { stopTokenIds, stop, maxTokens } = request.params;
    if (token === this.tokenizer.eosTokenId || stopTokenIds?.includes(token)) {
      this.finish(request, 'stop', token, chunk);
      return;
    }
    if (stop) {
      for (const text of stop) {
        // Only matches that end in the new piece: earlier text was checked before.
        const from = Math.max(0, before - text.length + 1);
        if (text.length > 0 && request.text.indexOf(text, from) >= 0) {
          this.finish(request, 'stop', text, chunk);
          return;
        }
      }
    }
    if (request.generated.length >= maxTokens || request.prompt.length + request.generated.length >= this.contextLength) {
      this.finish(request, 'length', null, chunk);
      return;
    }
    this.push(request, chunk);
  }
}
