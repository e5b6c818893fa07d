/**
 * What the native-API engines (llama.cpp's `/completion`, Ollama's `/api/generate`) share: one JSON POST
 * under the project's retry policy, and a reader of the streamed events (SSE or one JSON object per
 * line) with a silence limit. Failures become EngineRequestErrors carrying the server's own message.
 */
import { InputError } from '../core/errors.js';
import { isRetryableResponse, retryAfterMs, retryDelayMs, type BackoffOptions } from '../core/retry.js';
import type { SampleChunk } from '../core/sampling.js';
import { EngineRequestError } from './http-retry.js';
import { SseParser } from './sse.js';

export interface NativeHttpOptions {
  /** Limit for the answer's headers (and a non-streaming body). Default 10 min. */
  timeoutMs?: number;
  /** Longest silence inside a stream. Default 60 s. */
  idleTimeoutMs?: number;
  /** Retries after the first attempt. Default 4. */
  maxRetries?: number;
  backoff?: BackoffOptions;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** The `error` of a JSON error body: `{error: {message}}` (llama.cpp) or `{error: "…"}` (Ollama). */
export function serverErrorMessage(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const error = (body as { error?: unknown }).error;
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') return (error as { message: string }).message;
  return null;
}

/** Classifies anything fetch or a body read threw. */
export function toEngineError(error: unknown, url: string, caller: AbortSignal | undefined, timedOut: boolean): EngineRequestError {
  if (error instanceof EngineRequestError) return error;
  if (caller?.aborted) return new EngineRequestError('request aborted', 'aborted', url, null, false, null, { cause: error });
  if (timedOut) return new EngineRequestError(`${url} did not answer in time`, 'timeout', url, null, true, null, { cause: error });
  const message = error instanceof Error ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ''}` : String(error);
  return new EngineRequestError(`${url} connection failed: ${message}`, 'connection', url, null, true, null, { cause: error });
}

/** POSTs JSON; resolves with the response once its headers say 2xx, else throws with the server's message. */
export async function postJson(url: string, body: unknown, options: NativeHttpOptions, signal: AbortSignal, caller: AbortSignal | undefined): Promise<Response> {
  let timedOut = false;
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error('timeout'));
  }, options.timeoutMs ?? 600_000);
  try {
    const response = await (options.fetch ?? fetch)(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: controller.signal });
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      let message: string | null = null;
      try {
        message = serverErrorMessage(JSON.parse(text));
      } catch {
        message = text.slice(0, 300) || null;
      }
      throw new EngineRequestError(`${url} answered ${response.status}: ${message ?? 'no message'}`, 'http', url, response.status, isRetryableResponse(response.status, response.headers), retryAfterMs(response.headers));
    }
    return response;
  } catch (error) {
    throw toEngineError(error, url, caller, timedOut);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

/** Parsed JSON events of a streamed body; `[DONE]` and blank lines are skipped. */
export async function* readEvents(response: Response, framing: 'sse' | 'ndjson', url: string, idleMs: number): AsyncGenerator<unknown> {
  if (!response.body) throw new EngineRequestError(`${url} sent no body`, 'protocol', url, response.status, false);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const sse = new SseParser();
  let pending = '';
  try {
    while (true) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new EngineRequestError(`${url} stream silent for ${idleMs} ms`, 'timeout', url, null, true)), idleMs);
      });
      let read: Awaited<ReturnType<typeof reader.read>>;
      try {
        read = await Promise.race([reader.read(), idle]);
      } finally {
        clearTimeout(timer);
      }
      if (read.done) return;
      const text = decoder.decode(read.value, { stream: true });
      let payloads: string[];
      if (framing === 'sse') payloads = sse.push(text);
      else {
        pending += text;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        payloads = lines;
      }
      for (const payload of payloads) {
        if (payload.trim() === '' || payload.trim() === '[DONE]') continue;
        try {
          yield JSON.parse(payload) as unknown;
        } catch (error) {
          throw new EngineRequestError(`${url} sent a malformed stream event`, 'truncated', url, null, true, null, { cause: error });
        }
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** One attempt's abort signal, tied to the caller's; `release` ends the attempt and unties it. */
function attemptSignal(url: string, caller: AbortSignal | undefined): { signal: AbortSignal; release(): void } {
  if (caller?.aborted) throw new EngineRequestError('request aborted', 'aborted', url, null, false);
  const controller = new AbortController();
  const onAbort = () => controller.abort(new Error('aborted'));
  caller?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    release() {
      controller.abort(new Error('attempt over'));
      caller?.removeEventListener('abort', onAbort);
    },
  };
}

/** After attempt `retry` failed: waits out the backoff when another attempt is due, else throws the failure. */
async function afterFailure(error: unknown, retry: number, url: string, options: NativeHttpOptions, caller: AbortSignal | undefined): Promise<void> {
  const maxRetries = options.maxRetries ?? 4;
  const failure = toEngineError(error, url, caller, false);
  if (!failure.isRetryable || retry >= maxRetries) {
    if (retry > 0 && failure.isRetryable) throw new EngineRequestError(`${failure.message} (after ${retry + 1} attempts)`, failure.kind, url, failure.status, false, null, { cause: failure });
    throw failure;
  }
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  await sleep(retryDelayMs(retry, { serverDelayMs: failure.retryAfterMs, backoff: options.backoff, random: options.random ?? Math.random }));
}

/** Runs `attempt` until it succeeds, a failure is not retryable, or the retries are spent. */
export async function withRetries<T>(url: string, options: NativeHttpOptions, caller: AbortSignal | undefined, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
  for (let retry = 0; ; retry += 1) {
    const current = attemptSignal(url, caller);
    try {
      return await attempt(current.signal);
    } catch (error) {
      await afterFailure(error, retry, url, options, caller);
    } finally {
      current.release();
    }
  }
}

/** Streams `attempt`'s chunks; a broken attempt is retried (the attempt resumes from what it delivered). */
export async function* withStreamRetries(url: string, options: NativeHttpOptions, caller: AbortSignal | undefined, attempt: (signal: AbortSignal) => AsyncGenerator<SampleChunk>): AsyncGenerator<SampleChunk> {
  for (let retry = 0; ; retry += 1) {
    const current = attemptSignal(url, caller);
    try {
      for await (const chunk of attempt(current.signal)) {
        yield chunk;
        if (chunk.finishReason) return;
      }
      throw new EngineRequestError(`${url} ended the stream without finishing`, 'truncated', url, null, true);
    } catch (error) {
      await afterFailure(error, retry, url, options, caller);
    } finally {
      current.release();
    }
  }
}

/** The base URL without a trailing slash; refuses anything but http(s). */
export function baseUrl(text: string, input: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(`${JSON.stringify(text)} is not a URL (expected e.g. http://127.0.0.1:8080)`, input);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InputError(`${JSON.stringify(text)}: only http and https are supported`, input);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
