/**
 * A text-mode SamplingEngine over Ollama's native `POST /api/generate`. Ollama takes no token ids and
 * returns none, so this engine is never token-exact: the prompt goes as text (the caller's tokens
 * decoded, already templated) with `raw: true` so Ollama does not wrap it in the model's template a
 * second time, and the answer's text is re-encoded by the tokenizer; no log-probabilities. Stop strings
 * are watched here, not by the server (which would drop them from the text, and our contract keeps
 * them): the request is closed the moment one appears, which stops generation.
 */
import { InputError } from '../core/errors.js';
import type { SampleChunk, SampledSequence, SampleRequest, SamplingEngine, SamplingParams, StreamRequest } from '../core/sampling.js';
import type { Tokenizer } from '../core/tokenizer.js';
import { stopEnd } from '../core/stop-strings.js';
import { EngineRequestError } from './http-retry.js';
import { baseUrl, postJson, readEvents, serverErrorMessage, withStreamRetries, type NativeHttpOptions } from './native-http.js';

export interface OllamaOptions extends NativeHttpOptions {
  /** Base URL, e.g. `http://127.0.0.1:11434`. */
  url: string;
  /** The model's name in Ollama (`ollama list`). */
  model: string;
  /** Decodes prompts and re-encodes answers. */
  tokenizer: Tokenizer;
  /** Sent as `num_ctx` when given (Ollama's own default otherwise). Default 4096 for our limits. */
  contextWindow?: number;
}

/** One NDJSON line of `/api/generate` (ollama/ollama api/types.go `GenerateResponse`). */
interface WireGenerate {
  response?: string;
  done?: boolean;
  done_reason?: string;
  error?: unknown;
}

/**
 * Options sent on every request so no Modelfile or server default changes the distribution (ollama/ollama
 * api/types.go @ fb307609 `DefaultOptions`: top_k 40, top_p 0.9, temperature 0.8, and a model's
 * Modelfile may set penalties).
 */
export const OLLAMA_NEUTRAL_OPTIONS = { min_p: 0, typical_p: 1, repeat_penalty: 1, presence_penalty: 0, frequency_penalty: 0 } as const;

export class OllamaEngine implements SamplingEngine {
  readonly name: string;
  readonly tokenExact = false;
  readonly contextWindow: number;
  private readonly base: string;
  readonly counters = { requests: 0 };

  constructor(private readonly options: OllamaOptions) {
    if (!options.model) throw new InputError('Ollama needs the model name (as `ollama list` shows it)', '--model');
    this.base = baseUrl(options.url, 'ollama');
    this.name = `ollama:${options.model}`;
    this.contextWindow = options.contextWindow ?? 4096;
  }

  private body(prompt: string, params: SamplingParams, maxTokens: number): Record<string, unknown> {
    return {
      model: this.options.model,
      prompt,
      raw: true,
      stream: true,
      options: {
        temperature: params.temperature,
        top_k: params.topK > 0 ? params.topK : 0,
        top_p: params.topP,
        ...OLLAMA_NEUTRAL_OPTIONS,
        num_predict: maxTokens,
        ...(params.seed !== undefined ? { seed: params.seed } : {}),
        ...(this.options.contextWindow !== undefined ? { num_ctx: this.options.contextWindow } : {}),
      },
    };
  }

  /** Streams one continuation as text (ids are the tokenizer's re-encoding); resumes a broken stream from its text. */
  stream(request: StreamRequest): AsyncIterable<SampleChunk> {
    const delivered = { text: '', tokens: 0 };
    return withStreamRetries(`${this.base}/api/generate`, this.options, request.signal, (signal) => this.attempt(request, delivered, signal));
  }

  private async *attempt(request: StreamRequest, delivered: { text: string; tokens: number }, signal: AbortSignal): AsyncGenerator<SampleChunk> {
    const url = `${this.base}/api/generate`;
    const { tokenizer } = this.options;
    const remaining = request.params.maxTokens - delivered.tokens;
    if (remaining <= 0) {
      yield { tokens: [], logprobs: null, text: '', finishReason: 'length', stopReason: null };
      return;
    }
    this.counters.requests += 1;
    const response = await postJson(url, this.body(tokenizer.decode(request.promptTokens) + delivered.text, request.params, remaining), this.options, signal, request.signal);
    for await (const event of readEvents(response, 'ndjson', url, this.options.idleTimeoutMs ?? 60_000)) {
      const line = event as WireGenerate;
      if (line.error !== undefined) {
        throw new EngineRequestError(`${url} stream error: ${serverErrorMessage(line) ?? 'unknown'}`, 'http', url, 500, true);
      }
      let piece = line.response ?? '';
      const before = delivered.text.length;
      const found = stopEnd(delivered.text + piece, request.params.stop, before);
      if (found.end !== -1) piece = piece.slice(0, found.end - before);
      delivered.text += piece;
      const tokens = piece.length > 0 ? tokenizer.encode(piece) : [];
      delivered.tokens += tokens.length;
      const chunk: SampleChunk = { tokens, logprobs: null, text: piece };
      if (found.end !== -1) {
        yield { ...chunk, finishReason: 'stop', stopReason: found.stop };
        return;
      }
      if (line.done === true) {
        const finishReason = line.done_reason === 'length' ? 'length' : line.done_reason === 'stop' ? 'stop' : 'abort';
        yield { ...chunk, finishReason, stopReason: null };
        return;
      }
      if (piece.length > 0) yield chunk;
    }
  }

  async sample(request: SampleRequest): Promise<SampledSequence[]> {
    const n = request.n ?? 1;
    // n independent requests; with a seed, sequence i uses seed + i so they differ.
    return Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const params = request.params.seed !== undefined && i > 0 ? { ...request.params, seed: request.params.seed + i } : request.params;
        let text = '';
        let last: SampleChunk | undefined;
        for await (const chunk of this.stream({ promptTokens: request.promptTokens, params, ...(request.signal ? { signal: request.signal } : {}) })) {
          text += chunk.text ?? '';
          last = chunk;
        }
        return { tokens: this.options.tokenizer.encode(text), logprobs: null, text, finishReason: last?.finishReason ?? 'abort', stopReason: last?.stopReason ?? null };
      }),
    );
  }

  /** One short request: names a missing model or an unreachable server before any rollout. */
  async verify(signal?: AbortSignal): Promise<void> {
    await this.sample({ promptTokens: this.options.tokenizer.encode('1'), params: { temperature: 0, topP: 1, topK: 0, maxTokens: 1 }, ...(signal ? { signal } : {}) });
  }
}
