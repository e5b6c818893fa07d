/**
 * A SamplingEngine over the OpenAI-compatible `/v1/completions` endpoint of vLLM and SGLang. Token mode
 * sends the prompt as an id array and reads the sampled ids back (`return_token_ids`, or vLLM's
 * `"token_id:N"` logprob strings under `return_tokens_as_token_ids`); text mode, for servers without
 * ids, sends decoded text and re-encodes the answer (not token-exact: documented in docs/rollout.md).
 * Every request states the sampling distribution in full (neutral penalties and min_p included): a
 * field left out takes the server's default, which vLLM reads from the model's generation config, and
 * a repetition penalty there would make the sampled distribution differ from the returned log-probs.
 * Several endpoints are balanced by in-flight count; one retry policy covers HTTP 408/409/429/5xx,
 * connection resets, timeouts and truncated streams. A stream that breaks after some tokens is
 * resumed from them, which is the same distribution as an unbroken stream.
 */
import { InputError, UnsupportedError } from '../core/errors.js';
import type { FinishReason, SampleChunk, SampledSequence, SampleRequest, SamplingEngine, SamplingParams, StreamRequest } from '../core/sampling.js';
import type { Tokenizer } from '../core/tokenizer.js';
import { isRetryableResponse, isRetryableStatus, retryAfterMs, retryDelayMs, type BackoffOptions } from '../core/retry.js';
import { EngineRequestError } from './http-retry.js';
import { SseParser } from './sse.js';

export interface OpenAICompatibleOptions {
  /** Base URLs such as `http://gpu1:8000` (a trailing `/v1` is accepted). */
  endpoints: string | readonly string[];
  model: string;
  apiKey?: string;
  /** `tokens` (default): exact ids in and out. `text`: for servers that cannot return ids. */
  mode?: 'tokens' | 'text';
  /** Needed in text mode (to decode prompts and re-encode answers). */
  tokenizer?: Tokenizer;
  contextWindow?: number;
  /** Limit for a non-streaming request, or for a stream's first event. Default 10 min. */
  timeoutMs?: number;
  /** Longest silence inside a stream before it counts as broken. Default 60 s. */
  idleTimeoutMs?: number;
  /** Retries after the first attempt. Default 4. */
  maxRetries?: number;
  backoff?: BackoffOptions;
  /** Extra fields merged into every request body (server-specific options). */
  extraBody?: Record<string, unknown>;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

interface EndpointState {
  url: string;
  inFlight: number;
  failures: number;
  coolUntil: number;
}

/** Wire shape of one completion choice (only the fields we read). */
interface WireChoice {
  index?: number;
  text?: string;
  token_ids?: number[] | null;
  logprobs?: { tokens?: string[]; token_logprobs?: (number | null)[] } | null;
  finish_reason?: string | null;
  /** vLLM: the stop string or token id that ended the choice. */
  stop_reason?: string | number | null;
  /** SGLang's name for the same. */
  matched_stop?: string | number | null;
}

/** The stop string or id that ended a choice, under vLLM's or SGLang's field name. */
export function choiceStopReason(choice: WireChoice): string | number | null {
  return choice.stop_reason ?? choice.matched_stop ?? null;
}

/** vLLM and SGLang report "stop", "length", "abort"; anything else is unexpected and treated as an abort. */
export function mapFinishReason(reason: string | null | undefined): FinishReason | null {
  if (reason === null || reason === undefined) return null;
  if (reason === 'stop' || reason === 'eos') return 'stop';
  if (reason === 'length') return 'length';
  return 'abort';
}

/** Token ids of a choice: `token_ids`, else `"token_id:N"` logprob strings; null if neither. */
export function choiceTokenIds(choice: WireChoice): number[] | null {
  if (Array.isArray(choice.token_ids)) return choice.token_ids;
  const strings = choice.logprobs?.tokens;
  if (Array.isArray(strings) && strings.every((s) => typeof s === 'string' && s.startsWith('token_id:'))) {
    return strings.map((s) => Number(s.slice('token_id:'.length)));
  }
  return null;
}

function choiceLogprobs(choice: WireChoice, count: number): number[] | null {
  const values = choice.logprobs?.token_logprobs;
  if (!Array.isArray(values) || values.length !== count || values.some((v) => typeof v !== 'number')) return null;
  return values as number[];
}

function normaliseUrl(base: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new InputError('not a URL (expected e.g. http://localhost:8000)', base);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InputError('only http and https endpoints are supported', base);
  const path = url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
  return `${url.origin}${path}/v1/completions`;
}

/**
 * Sampling fields sent with their neutral values on every request, so no server default changes the
 * distribution: vLLM fills unset `repetition_penalty` / `min_p` from the model's generation config
 * (vllm-project/vllm vllm/entrypoints/openai/completion/protocol.py @ d5dba2d, `to_sampling_params`);
 * SGLang's defaults are these values (sgl-project/sglang python/sglang/srt/entrypoints/openai/protocol.py
 * @ 004c82e, `CompletionRequest`).
 */
export const NEUTRAL_SAMPLING = { repetition_penalty: 1, min_p: 0, presence_penalty: 0, frequency_penalty: 0 } as const;

export class OpenAICompatibleEngine implements SamplingEngine {
  readonly name: string;
  readonly contextWindow: number;
  readonly tokenExact: boolean;
  private readonly endpoints: EndpointState[];
  private readonly options: OpenAICompatibleOptions;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private roundRobin = 0;
  /** Counters for reports: requests sent, retries, resumed streams. */
  readonly counters = { requests: 0, retries: 0, resumes: 0 };

  constructor(options: OpenAICompatibleOptions) {
    const urls = typeof options.endpoints === 'string' ? [options.endpoints] : [...options.endpoints];
    if (urls.length === 0) throw new InputError('at least one endpoint is required', 'endpoints');
    if (!options.model) throw new InputError('a model name is required', 'model');
    const mode = options.mode ?? 'tokens';
    if (mode !== 'tokens' && mode !== 'text') throw new InputError(`must be "tokens" or "text", got ${JSON.stringify(mode)}`, 'mode');
    if (mode === 'text' && !options.tokenizer) throw new InputError('text mode needs a tokenizer', 'tokenizer');
    this.options = options;
    this.endpoints = urls.map((url) => ({ url: normaliseUrl(url), inFlight: 0, failures: 0, coolUntil: 0 }));
    this.name = `openai:${options.model}`;
    this.contextWindow = options.contextWindow ?? 32768;
    this.tokenExact = mode === 'tokens';
    this.fetchImpl = options.fetch ?? fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  /**
   * Token mode: asks every endpoint for one greedy token from a one-token id prompt and checks that ids
   * come back, so a server that cannot be exact is named before any rollout starts. A refused id prompt
   * (Ollama answers 400) or an answer without ids becomes an UnsupportedError saying what to use instead;
   * an unreachable server stays an EngineRequestError naming it.
   */
  async verifyTokenIds(signal?: AbortSignal): Promise<void> {
    if (!this.tokenExact) return;
    for (const endpoint of this.endpoints) {
      const single = new OpenAICompatibleEngine({ ...this.options, endpoints: endpoint.url.replace(/\/v1\/completions$/, ''), maxRetries: Math.min(this.options.maxRetries ?? 4, 2) });
      const probe = { promptTokens: [this.options.tokenizer?.eosTokenId ?? 0], params: { temperature: 0, topP: 1, topK: 0, maxTokens: 1 }, ...(signal ? { signal } : {}) };
      try {
        await single.sample(probe);
      } catch (error) {
        if (error instanceof EngineRequestError && error.kind === 'protocol') throw new UnsupportedError(noTokenIdsAdvice(endpoint.url), { cause: error });
        if (error instanceof EngineRequestError && error.kind === 'http' && (error.status === 400 || error.status === 422)) {
          throw new UnsupportedError(`${noTokenIdsAdvice(endpoint.url)}. It refused a prompt of token ids: ${error.message}`, { cause: error });
        }
        throw error;
      }
    }
  }

  /** Least in-flight among endpoints not cooling down after failures; ties go round-robin. */
  private pickEndpoint(): EndpointState {
    const now = Date.now();
    const healthy = this.endpoints.filter((e) => e.coolUntil <= now);
    const pool = healthy.length > 0 ? healthy : this.endpoints;
    const least = Math.min(...pool.map((e) => e.inFlight));
    const candidates = pool.filter((e) => e.inFlight === least);
    this.roundRobin = (this.roundRobin + 1) % candidates.length;
    return candidates[this.roundRobin] as EndpointState;
  }

  private markFailure(endpoint: EndpointState, error: EngineRequestError): void {
    if (error.kind === 'connection' || error.kind === 'timeout' || (error.status !== null && error.status >= 500)) {
      endpoint.failures += 1;
      endpoint.coolUntil = Date.now() + Math.min(30_000, 500 * 2 ** (endpoint.failures - 1));
    }
  }

  private body(promptTokens: readonly number[], continuation: { tokens: number[]; text: string }, params: SamplingParams, n: number, stream: boolean) {
    const body: Record<string, unknown> = {
      model: this.options.model,
      max_tokens: params.maxTokens,
      temperature: params.temperature,
      top_p: params.topP,
      top_k: params.topK > 0 ? params.topK : -1,
      ...NEUTRAL_SAMPLING,
      n,
      stream,
      logprobs: 0,
      ...this.options.extraBody,
    };
    if (this.tokenExact) {
      body['prompt'] = [...promptTokens, ...continuation.tokens];
      body['return_token_ids'] = true;
      // Older vLLM without return_token_ids still names each sampled token "token_id:N" in the log-probs.
      body['return_tokens_as_token_ids'] = true;
    } else {
      body['prompt'] = (this.options.tokenizer as Tokenizer).decode(promptTokens) + continuation.text;
    }
    if (params.seed !== undefined) body['seed'] = params.seed;
    if (params.stop && params.stop.length > 0) {
      body['stop'] = params.stop;
      // Our contract keeps the stop string in the output (vLLM's field, then SGLang's).
      body['include_stop_str_in_output'] = true;
      body['no_stop_trim'] = true;
    }
    if (params.stopTokenIds && params.stopTokenIds.length > 0) body['stop_token_ids'] = params.stopTokenIds;
    return body;
  }

  /**
   * One HTTP attempt; returns once headers arrived. The time limit stays armed until `done()`, so a
   * non-streaming caller can cover the body read with it too.
   */
  private async post(
    endpoint: EndpointState,
    body: Record<string, unknown>,
    controller: AbortController,
    signal: AbortSignal | undefined,
  ): Promise<{ response: Response; done: () => void }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.apiKey) headers['authorization'] = `Bearer ${this.options.apiKey}`;
    const timer = setTimeout(() => controller.abort(new Error('timeout')), this.options.timeoutMs ?? 600_000);
    const done = () => clearTimeout(timer);
    this.counters.requests += 1;
    try {
      const response = await this.fetchImpl(endpoint.url, { method: 'POST', headers, body: JSON.stringify(body), signal: controller.signal });
      if (!response.ok) {
        const text = await response.text().catch(() => '');
        const message = extractErrorMessage(text) ?? `HTTP ${response.status}`;
        const retryable = isRetryableResponse(response.status, response.headers);
        throw new EngineRequestError(`${endpoint.url} answered ${response.status}: ${message}`, 'http', endpoint.url, response.status, retryable, retryAfterMs(response.headers));
      }
      return { response, done };
    } catch (error) {
      done();
      throw toEngineError(error, endpoint.url, signal, controller);
    }
  }

  /** Runs `attempt` under the retry policy, on a freshly picked endpoint each time. */
  private async withRetries<T>(signal: AbortSignal | undefined, attempt: (endpoint: EndpointState, controller: AbortController) => Promise<T>): Promise<T> {
    const maxRetries = this.options.maxRetries ?? 4;
    for (let retry = 0; ; retry += 1) {
      if (signal?.aborted) throw new EngineRequestError('request aborted', 'aborted', '', null, false);
      const endpoint = this.pickEndpoint();
      const controller = new AbortController();
      const onAbort = () => controller.abort(new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      endpoint.inFlight += 1;
      try {
        const result = await attempt(endpoint, controller);
        endpoint.failures = 0;
        return result;
      } catch (error) {
        const engineError = toEngineError(error, endpoint.url, signal, controller);
        this.markFailure(endpoint, engineError);
        if (!engineError.isRetryable || retry >= maxRetries) {
          if (retry > 0 && engineError.isRetryable) {
            throw new EngineRequestError(`${engineError.message} (after ${retry + 1} attempts)`, engineError.kind, engineError.endpoint, engineError.status, false, null, { cause: engineError });
          }
          throw engineError;
        }
        this.counters.retries += 1;
        await this.sleep(retryDelayMs(retry, { serverDelayMs: engineError.retryAfterMs, backoff: this.options.backoff, random: this.random }));
      } finally {
        endpoint.inFlight -= 1;
        signal?.removeEventListener('abort', onAbort);
      }
    }
  }

  async sample(request: SampleRequest): Promise<SampledSequence[]> {
    const n = request.n ?? 1;
    return this.withRetries(request.signal, async (endpoint, controller) => {
      const { response, done } = await this.post(endpoint, this.body(request.promptTokens, { tokens: [], text: '' }, request.params, n, false), controller, request.signal);
      let payload: { choices?: WireChoice[] };
      try {
        payload = (await response.json()) as { choices?: WireChoice[] };
      } catch (error) {
        if (controller.signal.aborted) throw toEngineError(error, endpoint.url, request.signal, controller);
        // A body cut short is a broken connection, not a bad answer.
        throw new EngineRequestError(`${endpoint.url} sent an unreadable body: ${(error as Error).message}`, 'truncated', endpoint.url, response.status, true, null, { cause: error });
      } finally {
        done();
      }
      const choices = [...(payload.choices ?? [])].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
      if (choices.length !== n) throw new EngineRequestError(`${endpoint.url} returned ${choices.length} choices, expected ${n}`, 'protocol', endpoint.url, response.status, false);
      return choices.map((choice) => this.toSequence(choice, endpoint.url));
    });
  }

  private toSequence(choice: WireChoice, url: string): SampledSequence {
    const text = choice.text ?? '';
    const finishReason = mapFinishReason(choice.finish_reason) ?? 'abort';
    let tokens: number[];
    let logprobs: number[] | null;
    if (this.tokenExact) {
      const ids = choiceTokenIds(choice);
      if (ids === null) {
        throw new EngineRequestError(noTokenIdsAdvice(url), 'protocol', url, 200, false);
      }
      tokens = ids;
      logprobs = choiceLogprobs(choice, ids.length);
    } else {
      tokens = (this.options.tokenizer as Tokenizer).encode(text);
      logprobs = null;
    }
    const sequence: SampledSequence = { tokens, logprobs, finishReason, stopReason: choiceStopReason(choice) };
    if (!this.tokenExact) sequence.text = text;
    return sequence;
  }

  /**
   * Streams one continuation. Ending the iteration early aborts the HTTP request, so the server stops
   * generating. A broken stream is retried from the tokens already delivered.
   */
  async *stream(request: StreamRequest): AsyncIterable<SampleChunk> {
    const delivered = { tokens: [] as number[], text: '' };
    const queue: SampleChunk[] = [];
    let finished = false;
    let wake: (() => void) | null = null;
    let failure: unknown = null;
    let active: AbortController | null = null;
    const consumerGone = new AbortController();
    const signal = request.signal ? AbortSignal.any([request.signal, consumerGone.signal]) : consumerGone.signal;

    const producer = this.withRetries(signal, async (endpoint, controller) => {
      active = controller;
      if (delivered.tokens.length > 0 || delivered.text.length > 0) this.counters.resumes += 1;
      const params = { ...request.params, maxTokens: request.params.maxTokens - delivered.tokens.length };
      const { response, done } = await this.post(endpoint, this.body(request.promptTokens, delivered, params, 1, true), controller, signal);
      done();
      if (!response.body) throw new EngineRequestError(`${endpoint.url} sent no stream body`, 'protocol', endpoint.url, response.status, false);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      const parser = new SseParser();
      let sawFinish = false;
      const idleMs = this.options.idleTimeoutMs ?? 60_000;
      try {
        while (true) {
          let idleTimer: NodeJS.Timeout | undefined;
          const idle = new Promise<never>((_, reject) => {
            idleTimer = setTimeout(() => reject(new EngineRequestError(`${endpoint.url} stream silent for ${idleMs} ms`, 'timeout', endpoint.url, null, true)), idleMs);
          });
          let read: Awaited<ReturnType<typeof reader.read>>;
          try {
            read = await Promise.race([reader.read(), idle]);
          } finally {
            clearTimeout(idleTimer);
          }
          if (read.done) break;
          for (const data of parser.push(decoder.decode(read.value, { stream: true }))) {
            if (data === '[DONE]') {
              if (!sawFinish) throw new EngineRequestError(`${endpoint.url} ended the stream without a finish reason`, 'truncated', endpoint.url, null, true);
              return;
            }
            const chunk = this.parseChunk(data, endpoint.url);
            if (chunk === null) continue;
            delivered.tokens.push(...chunk.tokens);
            delivered.text += chunk.text ?? '';
            if (chunk.finishReason) sawFinish = true;
            queue.push(chunk);
            wake?.();
          }
        }
        if (!sawFinish) throw new EngineRequestError(`${endpoint.url} stream ended early (${delivered.tokens.length} tokens)`, 'truncated', endpoint.url, null, true);
      } finally {
        reader.cancel().catch(() => {});
      }
    }).then(
      () => {
        finished = true;
        wake?.();
      },
      (error: unknown) => {
        failure = error;
        finished = true;
        wake?.();
      },
    );

    try {
      while (true) {
        const chunk = queue.shift();
        if (chunk) {
          yield chunk;
          continue;
        }
        if (finished) break;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
      if (failure !== null) throw failure;
    } finally {
      if (!finished) {
        consumerGone.abort(new Error('consumer stopped'));
        (active as AbortController | null)?.abort(new Error('consumer stopped'));
      }
      await producer;
    }
  }

  private parseChunk(data: string, url: string): SampleChunk | null {
    let payload: { choices?: WireChoice[]; error?: { message?: string; code?: number } | string };
    try {
      payload = JSON.parse(data) as typeof payload;
    } catch (error) {
      throw new EngineRequestError(`${url} sent a malformed stream event`, 'truncated', url, null, true, null, { cause: error });
    }
    if (payload.error !== undefined) {
      const detail = typeof payload.error === 'string' ? { message: payload.error } : payload.error;
      const code = typeof detail.code === 'number' ? detail.code : 500;
      throw new EngineRequestError(`${url} stream error: ${detail.message ?? 'unknown'}`, 'http', url, code, isRetryableStatus(code));
    }
    const choice = payload.choices?.[0];
    if (!choice) return null; // usage-only chunk
    const text = choice.text ?? '';
    let tokens: number[];
    let logprobs: number[] | null;
    if (this.tokenExact) {
      const ids = choiceTokenIds(choice);
      if (ids === null && text.length > 0) {
        throw new EngineRequestError(noTokenIdsAdvice(url), 'protocol', url, 200, false);
      }
      tokens = ids ?? [];
      logprobs = choiceLogprobs(choice, tokens.length);
    } else {
      tokens = text.length > 0 ? (this.options.tokenizer as Tokenizer).encode(text) : [];
      logprobs = null;
    }
    const chunk: SampleChunk = { tokens, logprobs };
    if (!this.tokenExact) chunk.text = text;
    const finish = mapFinishReason(choice.finish_reason);
    if (finish !== null) {
      chunk.finishReason = finish;
      chunk.stopReason = choiceStopReason(choice);
    }
    return chunk;
  }
}

/** What to do about a server that cannot be token-exact through this API. */
export function noTokenIdsAdvice(url: string): string {
  return (
    `${url} returned no token ids, so it cannot be token-exact through /v1/completions (vLLM and SGLang return them ` +
    `under return_token_ids). For llama.cpp's server use --engine llamacpp-server:URL (its native API returns ids); ` +
    `for Ollama --engine ollama:URL; or --wire text (ids re-encoded from the text: not token-exact, never for training)`
  );
}

function extractErrorMessage(text: string): string | null {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: string } | string; message?: string };
    if (typeof parsed.error === 'string') return parsed.error;
    return parsed.error?.message ?? parsed.message ?? null;
  } catch {
    return text ? text.slice(0, 200) : null;
  }
}

/** Classifies anything thrown by fetch or a stream read. */
function toEngineError(error: unknown, url: string, signal: AbortSignal | undefined, controller: AbortController): EngineRequestError {
  if (error instanceof EngineRequestError) return error;
  if (signal?.aborted) return new EngineRequestError('request aborted', 'aborted', url, null, false, null, { cause: error });
  const reason: unknown = controller.signal.reason;
  if (controller.signal.aborted && reason instanceof Error && reason.message === 'timeout') {
    return new EngineRequestError(`${url} did not answer in time`, 'timeout', url, null, true, null, { cause: error });
  }
  const message = error instanceof Error ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ''}` : String(error);
  return new EngineRequestError(`${url} connection failed: ${message}`, 'connection', url, null, true, null, { cause: error });
}
