/**
 * A token-exact SamplingEngine over llama.cpp's native server API (`POST /completion`): the prompt goes
 * as token ids, `return_tokens` brings the sampled ids back and `n_probs` their log-probabilities (the
 * model's own distribution at temperature 1, as vLLM's default raw log-probs). Every sampler llama.cpp
 * would otherwise apply by default (min_p 0.05, top_k 40, DRY, XTC, penalties, …) is set neutral.
 *
 * Two properties of the server shape this engine (ggml-org/llama.cpp tools/server/server-context.cpp,
 * `process_token` / `send_partial_response`): a token that ends inside a UTF-8 character is never
 * streamed on its own (its id is lost from the stream, and no probability is kept for it), and a
 * non-streaming answer trims the log-probabilities of a stop word. So the stream is checked against
 * the server's `tokens_predicted` count: when an id went missing, the engine asks again without
 * streaming from the last delivered token (a fresh sample from the same distribution, as a resumed
 * stream), and log-probabilities are reported only when every sampled token has one.
 */
import { InputError } from '../core/errors.js';
import type { FinishReason, SampleChunk, SampledSequence, SampleRequest, SamplingEngine, SamplingParams, StreamRequest } from '../core/sampling.js';
import { EngineRequestError } from './http-retry.js';
import { baseUrl, postJson, readEvents, withRetries, withStreamRetries, type NativeHttpOptions } from './native-http.js';

export interface LlamaCppServerOptions extends NativeHttpOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Prompt + completion limit; `verify()` reads the server's own (`/props`). Default 4096. */
  contextWindow?: number;
}

/** One entry of `completion_probabilities` (server-task.cpp `probs_vector_to_json`). */
interface WireProbability {
  id?: number;
  logprob?: number;
}

interface WireCompletion {
  content?: string;
  tokens?: number[];
  stop?: boolean;
  stop_type?: string;
  stopping_word?: string;
  tokens_predicted?: number;
  completion_probabilities?: WireProbability[];
}

/**
 * Samplers set to their "off" values, so the distribution is temperature + top-k + top-p alone
 * (ggml-org/llama.cpp tools/server/server-task.cpp @ 00efb3e1, `params_from_json_cmpl`, reads each of
 * these and otherwise falls back to the server's command-line defaults).
 */
export const LLAMACPP_NEUTRAL_SAMPLING = {
  min_p: 0,
  typical_p: 1,
  repeat_penalty: 1,
  repeat_last_n: 0,
  presence_penalty: 0,
  frequency_penalty: 0,
  dry_multiplier: 0,
  xtc_probability: 0,
  mirostat: 0,
  top_n_sigma: -1,
  dynatemp_range: 0,
} as const;

/** `stop_type` → our finish reason and stop cause. */
export function llamaCppFinish(completion: WireCompletion): { finishReason: FinishReason; stopReason: string | null } {
  switch (completion.stop_type) {
    case 'eos':
      return { finishReason: 'stop', stopReason: null };
    case 'word':
      return { finishReason: 'stop', stopReason: completion.stopping_word ?? null };
    case 'limit':
      return { finishReason: 'length', stopReason: null };
    default:
      return { finishReason: 'abort', stopReason: null };
  }
}

/** Log-probabilities aligned with `tokens` by id; null unless every token has one. */
export function alignLogprobs(tokens: readonly number[], probabilities: readonly WireProbability[] | undefined): number[] | null {
  if (!probabilities || probabilities.length !== tokens.length) return null;
  const values: number[] = [];
  for (const [i, token] of tokens.entries()) {
    const entry = probabilities[i];
    if (entry?.id !== token || typeof entry.logprob !== 'number') return null;
    values.push(entry.logprob);
  }
  return values;
}

/** Cuts a sequence after the first of `stopTokenIds` (llama.cpp stops only at end-of-generation tokens). */
function cutAtStopToken(tokens: number[], stopTokenIds: readonly number[] | undefined): { tokens: number[]; stopId: number | null } {
  if (!stopTokenIds || stopTokenIds.length === 0) return { tokens, stopId: null };
  const at = tokens.findIndex((token) => stopTokenIds.includes(token));
  return at === -1 ? { tokens, stopId: null } : { tokens: tokens.slice(0, at + 1), stopId: tokens[at] as number };
}

export class LlamaCppServerEngine implements SamplingEngine {
  readonly name: string;
  readonly tokenExact = true;
  contextWindow: number;
  private readonly base: string;
  /** Requests sent and id gaps bridged, for reports and tests. */
  readonly counters = { requests: 0, bridges: 0 };

  constructor(private readonly options: LlamaCppServerOptions) {
    this.base = baseUrl(options.url, 'llamacpp-server');
    this.name = `llamacpp-server:${this.base}`;
    this.contextWindow = options.contextWindow ?? 4096;
  }

  private body(prompt: readonly number[], params: SamplingParams, stream: boolean, maxTokens = params.maxTokens): Record<string, unknown> {
    return {
      prompt: [...prompt],
      n_predict: maxTokens,
      temperature: params.temperature,
      top_k: params.topK > 0 ? params.topK : 0,
      top_p: params.topP,
      ...LLAMACPP_NEUTRAL_SAMPLING,
      ...(params.seed !== undefined ? { seed: params.seed } : {}),
      stop: params.stop ? [...params.stop] : [],
      n_probs: 1,
      post_sampling_probs: false,
      return_tokens: true,
      cache_prompt: true,
      stream,
    };
  }

  /** One non-streaming completion: every sampled id (`tokens`), whatever ended it. */
  private async complete(prompt: readonly number[], params: SamplingParams, signal: AbortSignal | undefined, maxTokens?: number): Promise<SampledSequence> {
    const url = `${this.base}/completion`;
    return withRetries(url, this.options, signal, async (attemptSignal) => {
      this.counters.requests += 1;
      const response = await postJson(url, this.body(prompt, params, false, maxTokens), this.options, attemptSignal, signal);
      let completion: WireCompletion;
      try {
        completion = (await response.json()) as WireCompletion;
      } catch (error) {
        throw new EngineRequestError(`${url} sent an unreadable body: ${(error as Error).message}`, 'truncated', url, response.status, true, null, { cause: error });
      }
      const predicted = completion.tokens_predicted ?? 0;
      if (!Array.isArray(completion.tokens) || (completion.tokens.length === 0 && predicted > 0)) {
        throw new EngineRequestError(`${url} returned no token ids for ${predicted} predicted tokens: this llama.cpp server is too old for return_tokens; update it`, 'protocol', url, response.status, false);
      }
      const finish = llamaCppFinish(completion);
      const cut = cutAtStopToken(completion.tokens, params.stopTokenIds);
      if (cut.stopId !== null) return { tokens: cut.tokens, logprobs: alignLogprobs(cut.tokens, completion.completion_probabilities?.slice(0, cut.tokens.length)), finishReason: 'stop', stopReason: cut.stopId };
      return { tokens: cut.tokens, logprobs: alignLogprobs(cut.tokens, completion.completion_probabilities), ...finish };
    });
  }

  async sample(request: SampleRequest): Promise<SampledSequence[]> {
    const n = request.n ?? 1;
    // n independent requests; with a seed, sequence i uses seed + i so they differ.
    return Promise.all(
      Array.from({ length: n }, (_, i) => {
        const params = request.params.seed !== undefined && i > 0 ? { ...request.params, seed: request.params.seed + i } : request.params;
        return this.complete(request.promptTokens, params, request.signal);
      }),
    );
  }

  /** Streams one continuation; a broken stream resumes from the delivered ids, a lost id is bridged. */
  stream(request: StreamRequest): AsyncIterable<SampleChunk> {
    const delivered: number[] = [];
    return withStreamRetries(`${this.base}/completion`, this.options, request.signal, (signal) => this.streamAttempt(request, delivered, signal));
  }

  private async *streamAttempt(request: StreamRequest, delivered: number[], signal: AbortSignal): AsyncGenerator<SampleChunk> {
    const url = `${this.base}/completion`;
    while (true) {
      const remaining = request.params.maxTokens - delivered.length;
      if (remaining <= 0) {
        yield { tokens: [], logprobs: [], finishReason: 'length', stopReason: null };
        return;
      }
      this.counters.requests += 1;
      const streamAbort = new AbortController();
      const linked = AbortSignal.any([signal, streamAbort.signal]);
      const response = await postJson(url, this.body([...request.promptTokens, ...delivered], request.params, true, remaining), this.options, linked, request.signal);
      let received = 0;
      let gap = 0;
      try {
        for await (const event of readEvents(response, 'sse', url, this.options.idleTimeoutMs ?? 60_000)) {
          const completion = event as WireCompletion & { error?: unknown };
          if (completion.error !== undefined) throw new EngineRequestError(`${url} stream error: ${JSON.stringify(completion.error).slice(0, 300)}`, 'http', url, 500, true);
          const tokens = Array.isArray(completion.tokens) ? completion.tokens : [];
          if (completion.stop === true) {
            yield { tokens: [], logprobs: [], ...llamaCppFinish(completion) };
            return;
          }
          if (tokens.length === 0 && (completion.tokens_predicted ?? 0) > 0) {
            throw new EngineRequestError(`${url} streamed no token ids: this llama.cpp server is too old for return_tokens; update it`, 'protocol', url, 200, false);
          }
          const predicted = completion.tokens_predicted ?? received + tokens.length;
          if (predicted > received + tokens.length) {
            gap = predicted - received; // this event's id and the ones the server never sent
            break;
          }
          received += tokens.length;
          const cut = cutAtStopToken(tokens, request.params.stopTokenIds);
          delivered.push(...cut.tokens);
          const chunk: SampleChunk = { tokens: cut.tokens, logprobs: alignLogprobs(cut.tokens, completion.completion_probabilities) };
          if (cut.stopId !== null) Object.assign(chunk, { finishReason: 'stop' as const, stopReason: cut.stopId });
          yield chunk;
          if (cut.stopId !== null) return;
        }
      } finally {
        streamAbort.abort(new Error('stream over'));
      }
      if (gap === 0) throw new EngineRequestError(`${url} stream ended early (${delivered.length} tokens)`, 'truncated', url, null, true);
      // Bridge the lost ids without streaming, then stream on from there.
      this.counters.bridges += 1;
      const bridge = await this.complete([...request.promptTokens, ...delivered], request.params, request.signal, Math.min(gap, request.params.maxTokens - delivered.length));
      delivered.push(...bridge.tokens);
      const ended = bridge.finishReason !== 'length' || delivered.length >= request.params.maxTokens;
      yield { tokens: bridge.tokens, logprobs: bridge.logprobs, ...(ended ? { finishReason: bridge.finishReason, stopReason: bridge.stopReason ?? null } : {}) };
      if (ended) return;
    }
  }

  /**
   * Reads the server's context size (`GET /props`) and checks, with a one-token request, that it returns
   * token ids; an old server without `return_tokens` is refused here rather than inside a rollout.
   */
  async verify(probeToken: number, signal?: AbortSignal): Promise<void> {
    const props = `${this.base}/props`;
    try {
      const response = await (this.options.fetch ?? fetch)(props, { ...(signal ? { signal } : {}) });
      if (response.ok) {
        const body = (await response.json()) as { default_generation_settings?: { n_ctx?: unknown }; n_ctx?: unknown };
        const nCtx = body.default_generation_settings?.n_ctx ?? body.n_ctx;
        if (this.options.contextWindow === undefined && typeof nCtx === 'number' && nCtx > 0) this.contextWindow = nCtx;
      }
    } catch {
      // /props is informational; the probe below names an unreachable server.
    }
    const [probe] = await this.sample({ promptTokens: [probeToken], params: { temperature: 0, topP: 1, topK: 0, maxTokens: 1 }, ...(signal ? { signal } : {}) });
    if (!probe || probe.tokens.length === 0) throw new InputError(`${this.base}/completion answered a one-token request with no token ids`, 'llamacpp-server');
  }
}
