/**
 * The Tinker REST client: JSON over HTTP with one retry policy, futures polled to completion, and
 * errors that carry data (status, request id, retryability, the server's own words). `fetch` and
 * the clock are injectable so faults (slow futures, 5xx, dropped connections) are testable.
 *
 * Retry policy (one place): 408, 409, 429 and 5xx and connection errors are retried with
 * exponential backoff 0.5 s → 8 s plus up to 25 % jitter; `x-should-retry` overrides; `retry-after-ms`
 * and `retry-after` are honoured up to 60 s. Every non-GET carries an `X-Idempotency-Key` reused
 * across retries of one logical request. Futures: 408 and `{"type":"try_again"}` mean "poll again";
 * 410 means the promise expired (the caller resubmits); failures are 200 `{"error","category"}`
 * (hosted) or 400 `{"detail"}` (SkyRL, cir serve).
 */
import { randomUUID } from 'node:crypto';
import { CirError } from '../core/errors.js';
import { isRecord } from './tinker-wire.js';

export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/** The service answered with an error status. */
export class TinkerApiError extends CirError {
  override readonly name: string = 'TinkerApiError';
  constructor(
    message: string,
    readonly status: number,
    readonly endpoint: string,
    /** The server's own explanation (`detail`, `error` or `error.message`). */
    readonly detail: string,
    readonly isRetryable: boolean,
    readonly requestId: string | null = null,
  ) {
    super(message);
  }
}

/** The server never answered (refused, reset, timed out) after every retry. */
export class TinkerConnectionError extends CirError {
  override readonly name: string = 'TinkerConnectionError';
  readonly isRetryable = true;
  constructor(
    message: string,
    readonly endpoint: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A future finished with an error: the service ran the request and refused or failed it. */
export class TinkerFutureError extends CirError {
  override readonly name: string = 'TinkerFutureError';
  constructor(
    message: string,
    readonly requestId: string,
    /** `user` (bad request), `server`, or `unknown`. */
    readonly category: string,
    readonly detail: string,
  ) {
    super(message);
  }
}

/** The future's promise expired on the server (HTTP 410): resubmit the original request. */
export class TinkerFutureExpiredError extends CirError {
  override readonly name: string = 'TinkerFutureExpiredError';
  constructor(readonly requestId: string) {
    super(`Tinker future ${requestId} expired on the server (410); the request must be resubmitted`);
  }
}

/** The session (and with it the model) is gone: heartbeats stopped for too long, or the server restarted. */
export class TinkerSessionExpiredError extends CirError {
  override readonly name: string = 'TinkerSessionExpiredError';
  constructor(
    message: string,
    readonly sessionId: string,
  ) {
    super(message);
  }
}

export interface TinkerClientOptions {
  /** e.g. `http://127.0.0.1:8000` (SkyRL, cir serve) or the hosted service URL. */
  baseUrl: string;
  apiKey?: string;
  fetch?: FetchFunction;
  clock?: Clock;
  /** Retries after the first attempt; default 8. */
  maxRetries?: number;
  /** Per-call HTTP timeout; default 60 s. */
  timeoutMs?: number;
  /** HTTP timeout of one retrieve_future long-poll; on expiry the client simply polls again. Default 320 s (above SkyRL's 300 s hold). */
  pollTimeoutMs?: number;
  /** Gives up waiting on one future after this long; default: never. */
  futureDeadlineMs?: number;
  /** Source of jitter in [0, 1). */
  random?: () => number;
}

/** Which statuses are worth retrying, `x-should-retry` first. */
export function shouldRetry(status: number, headers: Headers): boolean {
  const header = headers.get('x-should-retry');
  if (header === 'true') return true;
  if (header === 'false') return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Delay before retry number `attempt` (0-based): the server's retry-after when given (≤ 60 s), else backoff with jitter. */
export function retryDelayMs(attempt: number, headers: Headers | null, random: () => number): number {
  const afterMs = Number(headers?.get('retry-after-ms'));
  if (Number.isFinite(afterMs) && afterMs >= 0 && afterMs <= 60_000 && headers?.get('retry-after-ms') !== null) return afterMs;
  const after = headers?.get('retry-after');
  if (after !== null && after !== undefined) {
    const seconds = Number(after);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(after) - Date.now();
    if (Number.isFinite(ms) && ms >= 0 && ms <= 60_000) return ms;
  }
  const base = Math.min(500 * 2 ** attempt, 8000);
  return base * (1 - 0.25 * random());
}

function detailOf(body: unknown, text: string): string {
  if (isRecord(body)) {
    if (typeof body['detail'] === 'string') return body['detail'];
    if (body['detail'] !== undefined) return JSON.stringify(body['detail']);
    if (typeof body['error'] === 'string') return body['error'];
    if (isRecord(body['error']) && typeof body['error']['message'] === 'string') return body['error']['message'];
  }
  return text.slice(0, 500);
}

function connectionCause(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  if (cause instanceof Error) return (cause as Error & { code?: string }).code ?? cause.message;
  return String(cause);
}

export class TinkerClient {
  readonly baseUrl: string;
  private readonly fetchFunction: FetchFunction;
  private readonly clock: Clock;
  private readonly maxRetries: number;
  private readonly timeoutMs: number;
  private readonly pollTimeoutMs: number;
  private readonly random: () => number;
  /** Counters for tests and logs. */
  readonly stats = { requests: 0, retries: 0, polls: 0 };

  constructor(private readonly options: TinkerClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchFunction = options.fetch ?? ((input, init) => fetch(input, init));
    this.clock = options.clock ?? systemClock;
    this.maxRetries = options.maxRetries ?? 8;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.pollTimeoutMs = options.pollTimeoutMs ?? 320_000;
    this.random = options.random ?? Math.random;
  }

  private headers(method: string, idempotencyKey: string): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (method !== 'GET') {
      headers['content-type'] = 'application/json';
      headers['x-idempotency-key'] = idempotencyKey;
    }
    if (this.options.apiKey) headers['x-api-key'] = this.options.apiKey;
    return headers;
  }

  /** One attempt: returns status, headers and parsed body, or throws on a connection failure. */
  private async attempt(method: string, path: string, body: unknown, idempotencyKey: string, timeoutMs: number, signal?: AbortSignal): Promise<{ status: number; headers: Headers; json: unknown; text: string }> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    this.stats.requests++;
    const init: RequestInit = { method, headers: this.headers(method, idempotencyKey), signal: combined };
    if (method !== 'GET') init.body = JSON.stringify(body ?? {});
    const response = await this.fetchFunction(`${this.baseUrl}/api/v1${path}`, init);
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text.length > 0 ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: response.status, headers: response.headers, json, text };
  }

  /**
   * A call with the retry policy. Statuses in `accept` are returned to the caller instead of
   * being retried or thrown (retrieve_future treats 408/410 itself).
   */
  async call(method: 'GET' | 'POST', path: string, body?: unknown, options: { signal?: AbortSignal; accept?: readonly number[]; timeoutMs?: number } = {}): Promise<{ status: number; json: unknown }> {
    const idempotencyKey = randomUUID();
    const endpoint = `${method} ${path}`;
    for (let attempt = 0; ; attempt++) {
      let result: Awaited<ReturnType<TinkerClient['attempt']>>;
      try {
        result = await this.attempt(method, path, body, idempotencyKey, options.timeoutMs ?? this.timeoutMs, options.signal);
      } catch (error) {
        if (options.signal?.aborted) throw error;
        if (attempt >= this.maxRetries) {
          throw new TinkerConnectionError(`Tinker ${endpoint} at ${this.baseUrl} failed after ${attempt + 1} attempts: ${connectionCause(error)}`, endpoint, { cause: error });
        }
        this.stats.retries++;
        await this.clock.sleep(retryDelayMs(attempt, null, this.random), options.signal);
        continue;
      }
      const { status, headers, json, text } = result;
      if ((status >= 200 && status < 300) || options.accept?.includes(status)) return { status, json };
      const retryable = shouldRetry(status, headers);
      if (retryable && attempt < this.maxRetries) {
        this.stats.retries++;
        await this.clock.sleep(retryDelayMs(attempt, headers, this.random), options.signal);
        continue;
      }
      const detail = detailOf(json, text);
      const verb = status === 401 || status === 403 ? 'refused access to' : status < 500 ? 'refused' : 'failed';
      throw new TinkerApiError(`Tinker ${verb} ${endpoint} (HTTP ${status}): ${detail}`, status, endpoint, detail, retryable, headers.get('x-request-id'));
    }
  }

  async post(path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    return (await this.call('POST', path, body, signal ? { signal } : {})).json;
  }

  async get(path: string, signal?: AbortSignal): Promise<unknown> {
    return (await this.call('GET', path, undefined, signal ? { signal } : {})).json;
  }

  /** Polls `retrieve_future` until the result is there; throws TinkerFutureError / TinkerFutureExpiredError. */
  async retrieve(requestId: string, signal?: AbortSignal): Promise<unknown> {
    const started = this.clock.now();
    for (;;) {
      if (this.options.futureDeadlineMs !== undefined && this.clock.now() - started > this.options.futureDeadlineMs) {
        throw new TinkerFutureError(`Tinker future ${requestId} did not finish within ${this.options.futureDeadlineMs} ms`, requestId, 'timeout', 'deadline exceeded');
      }
      this.stats.polls++;
      let answer: { status: number; json: unknown };
      try {
        answer = await this.call('POST', '/retrieve_future', { request_id: requestId, allow_metadata_only: false }, { accept: [400, 408, 410], timeoutMs: this.pollTimeoutMs, ...(signal ? { signal } : {}) });
      } catch (error) {
        // Our own long-poll timeout is not a failure: the request is still running.
        if (error instanceof TinkerConnectionError && error.cause instanceof DOMException && error.cause.name === 'TimeoutError') continue;
        throw error;
      }
      const { status, json } = answer;
      if (status === 408) continue;
      if (status === 410) throw new TinkerFutureExpiredError(requestId);
      if (status === 400) {
        const detail = detailOf(json, '');
        throw new TinkerFutureError(`Tinker request ${requestId} failed: ${detail}`, requestId, 'user', detail);
      }
      if (isRecord(json) && json['type'] === 'try_again') continue;
      if (isRecord(json) && json['status'] === 'complete_metadata') continue;
      if (isRecord(json) && typeof json['error'] === 'string' && json['type'] === undefined) {
        const category = typeof json['category'] === 'string' ? json['category'] : 'unknown';
        throw new TinkerFutureError(`Tinker request ${requestId} failed (${category}): ${json['error']}`, requestId, category, json['error']);
      }
      return json;
    }
  }

  /** Submits a call that answers with a future and waits for its result; resubmits once if the promise expired. */
  async submit(path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    for (let resubmissions = 0; ; resubmissions++) {
      const future = await this.post(path, body, signal);
      if (!isRecord(future) || typeof future['request_id'] !== 'string') {
        throw new TinkerApiError(`Tinker POST ${path} answered without a request_id: ${JSON.stringify(future).slice(0, 200)}`, 200, `POST ${path}`, 'no request_id', false);
      }
      try {
        return await this.retrieve(future['request_id'], signal);
      } catch (error) {
        if (error instanceof TinkerFutureExpiredError && resubmissions < 2) continue;
        throw error;
      }
    }
  }
}
