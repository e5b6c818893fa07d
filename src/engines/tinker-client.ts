/**
 * The Tinker REST client: JSON (and protobuf for forward_backward) over HTTP with one retry policy,
 * futures polled to completion, and errors that carry data (status, request id, retryability, the
 * server's own words). `fetch` and the clock are injectable so faults are testable.
 *
 * Retry policy: the project's one (src/core/retry.ts: 408, 409, 429, 5xx and connection errors,
 * backoff with jitter, `x-should-retry`, `retry-after`), with the Tinker-specific classification
 * on top: two 409s are permanent, never retried — SkyRL's "sequence number was reused" and "already
 * exists" (a save name taken; skyrl/tinker/api.py @ a956457, create_future and create_checkpoint). 402 (billing pause) is waited out in 5 s steps for up to an
 * hour, as the SDK does (internal_client_holder.py `_should_pause_on_billing` @ d595dc2). Every
 * non-GET carries an `X-Idempotency-Key` reused across retries of one logical request.
 *
 * Futures (api_future_impl.py @ d595dc2): 408 and `{"type":"try_again"}` mean "poll again"; 410 means
 * the promise expired (the caller resubmits); failures are 200 `{"error","category"}` (hosted) or
 * 400 `{"detail"}` (SkyRL); a bare 400 without a detail (a proxy's) is re-polled 3 times.
 */
import { randomUUID } from 'node:crypto';
import { CirError, SessionLostError } from '../core/errors.js';
import { isRetryableResponse, retryAfterMs, retryDelayMs, sleep } from '../core/retry.js';
import { isRecord } from './tinker-wire.js';

export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now(), sleep };

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
    /**
     * True when an earlier attempt of this same request may have reached the server (it ended in a
     * 5xx, a timeout or a dropped connection): a 409 "already exists" then most likely names this
     * client's own work.
     */
    readonly afterUncertainAttempt = false,
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
export class TinkerSessionExpiredError extends SessionLostError {
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
  /** How long 402 (billing pause) answers are waited out; default 1 h, the SDK's default. */
  billingPauseMaxMs?: number;
  /** Source of jitter in [0, 1). */
  random?: () => number;
}

/** A 409 that no retry can resolve: the id or name is taken for good. */
export function isPermanentConflict(detail: string): boolean {
  return /sequence number was reused|already exists/i.test(detail);
}

/** Which answers are worth retrying: the project's rule, except that permanent 409s never are and 425 (too early) is (unless the server says otherwise). */
export function shouldRetry(status: number, headers: Headers, detail = ''): boolean {
  if (headers.get('x-should-retry') === null) {
    if (status === 409 && isPermanentConflict(detail)) return false;
    // SkyRL's "Checkpoint is still being created" (validate_checkpoint, api.py @ a956457).
    if (status === 425) return true;
  }
  return isRetryableResponse(status, headers);
}

/** Delay before retry number `attempt` (0-based): the server's retry-after when given, else backoff with jitter. */
function backoffMs(attempt: number, headers: Headers | null, random: () => number): number {
  return retryDelayMs(attempt, { serverDelayMs: headers ? retryAfterMs(headers) : null, random });
}

/** The SDK's billing-pause step (api_future_impl.py @ d595dc2: `asyncio.sleep(5)`). */
export const BILLING_PAUSE_STEP_MS = 5000;
/** Bare 400s re-polled before giving up (`_MAX_BAD_REQUEST_RETRIES` in api_future_impl.py @ d595dc2). */
export const BARE_400_REPOLLS = 3;

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

/** A request body: JSON, or bytes with their content type (protobuf forward_backward). */
export type RequestBody = { json: unknown } | { bytes: Uint8Array; contentType: string; contentEncoding?: string };

export interface CallOptions {
  signal?: AbortSignal;
  /** Statuses returned to the caller instead of being retried or thrown. */
  accept?: readonly number[];
  timeoutMs?: number;
  /** `Accept` header; default JSON. */
  acceptType?: string;
}

export interface CallAnswer {
  status: number;
  json: unknown;
  /** The raw body when the server answered with protobuf. */
  bytes: Uint8Array | null;
  contentType: string;
}

/** What a server's `/client/config` says (ClientConfigResponse @ d595dc2; SkyRL answers only `pjwt_auth_enabled`). */
export interface ServerConfig {
  pjwtAuthEnabled: boolean;
  credentialDefaultSource: string;
  /** The SDK ≤ 0.24 flag: the server takes forward_backward as protobuf (0.25 assumes it always does). */
  protoWriteFwdbwd: boolean | null;
  protoCompressFwdbwd: boolean;
  fwdbwdMaxChunkLen: number;
  fwdbwdMaxChunkBytes: number;
  billingPauseMaxSec: number;
  /** The answer as given, for logs. */
  raw: Record<string, unknown>;
}

export function serverConfigFromWire(value: unknown): ServerConfig {
  const raw = isRecord(value) ? value : {};
  const bool = (key: string, fallback: boolean) => (typeof raw[key] === 'boolean' ? (raw[key] as boolean) : fallback);
  const count = (key: string, fallback: number) => (typeof raw[key] === 'number' && Number.isInteger(raw[key]) && (raw[key] as number) > 0 ? (raw[key] as number) : fallback);
  return {
    pjwtAuthEnabled: bool('pjwt_auth_enabled', false),
    credentialDefaultSource: typeof raw['credential_default_source'] === 'string' ? raw['credential_default_source'] : 'api_key',
    protoWriteFwdbwd: typeof raw['proto_write_fwdbwd'] === 'boolean' ? raw['proto_write_fwdbwd'] : null,
    protoCompressFwdbwd: bool('proto_compress_fwdbwd', false),
    fwdbwdMaxChunkLen: count('fwdbwd_max_chunk_len', 1024),
    fwdbwdMaxChunkBytes: count('fwdbwd_max_chunk_bytes_count', 5_000_000),
    billingPauseMaxSec: count('billing_exception_max_pause_duration_sec', 3600),
    raw,
  };
}

export class TinkerClient {
  readonly baseUrl: string;
  private readonly fetchFunction: FetchFunction;
  private readonly clock: Clock;
  private readonly maxRetries: number;
  private readonly timeoutMs: number;
  private readonly pollTimeoutMs: number;
  private readonly random: () => number;
  billingPauseMaxMs: number;
  /** Counters for tests and logs. */
  readonly stats = { requests: 0, retries: 0, polls: 0, billingPauses: 0 };

  constructor(private readonly options: TinkerClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchFunction = options.fetch ?? ((input, init) => fetch(input, init));
    this.clock = options.clock ?? systemClock;
    this.maxRetries = options.maxRetries ?? 8;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.pollTimeoutMs = options.pollTimeoutMs ?? 320_000;
    this.billingPauseMaxMs = options.billingPauseMaxMs ?? 3_600_000;
    this.random = options.random ?? Math.random;
  }

  private headers(method: string, idempotencyKey: string, body: RequestBody | undefined, acceptType: string): Record<string, string> {
    const headers: Record<string, string> = { accept: acceptType };
    if (method !== 'GET') {
      headers['content-type'] = body && 'bytes' in body ? body.contentType : 'application/json';
      if (body && 'bytes' in body && body.contentEncoding) headers['content-encoding'] = body.contentEncoding;
      headers['x-idempotency-key'] = idempotencyKey;
    }
    if (this.options.apiKey) headers['x-api-key'] = this.options.apiKey;
    return headers;
  }

  /** One attempt: returns status, headers and the parsed body, or throws on a connection failure. */
  private async attempt(method: string, path: string, body: RequestBody | undefined, idempotencyKey: string, timeoutMs: number, acceptType: string, signal?: AbortSignal): Promise<CallAnswer & { headers: Headers; text: string }> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    this.stats.requests++;
    const init: RequestInit = { method, headers: this.headers(method, idempotencyKey, body, acceptType), signal: combined };
    if (method !== 'GET') init.body = body && 'bytes' in body ? body.bytes : JSON.stringify(body?.json ?? {});
    const response = await this.fetchFunction(`${this.baseUrl}/api/v1${path}`, init);
    const contentType = response.headers.get('content-type') ?? '';
    if (contentType.includes('application/x-protobuf')) {
      const bytes = new Uint8Array(await response.arrayBuffer());
      return { status: response.status, headers: response.headers, json: null, bytes, contentType, text: '' };
    }
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text.length > 0 ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: response.status, headers: response.headers, json, bytes: null, contentType, text };
  }

  /** A call with the retry policy; 402 billing pauses are waited out. */
  async call(method: 'GET' | 'POST', path: string, body?: RequestBody, options: CallOptions = {}): Promise<CallAnswer> {
    const idempotencyKey = randomUUID();
    const endpoint = `${method} ${path}`;
    let uncertain = false;
    let billingSince: number | null = null;
    for (let attempt = 0; ; attempt++) {
      let result: Awaited<ReturnType<TinkerClient['attempt']>>;
      try {
        result = await this.attempt(method, path, body, idempotencyKey, options.timeoutMs ?? this.timeoutMs, options.acceptType ?? 'application/json', options.signal);
      } catch (error) {
        if (options.signal?.aborted) throw error;
        uncertain = true;
        if (attempt >= this.maxRetries) {
          throw new TinkerConnectionError(`Tinker ${endpoint} at ${this.baseUrl} failed after ${attempt + 1} attempts: ${connectionCause(error)}`, endpoint, { cause: error });
        }
        this.stats.retries++;
        await this.clock.sleep(backoffMs(attempt, null, this.random), options.signal);
        continue;
      }
      const { status, headers, json, text } = result;
      if ((status >= 200 && status < 300) || options.accept?.includes(status)) return { status, json, bytes: result.bytes, contentType: result.contentType };
      const detail = detailOf(json, text);
      if (status === 402 && (await this.billingPause((billingSince ??= this.clock.now()), options.signal))) {
        attempt--;
        continue;
      }
      const retryable = shouldRetry(status, headers, detail);
      if (retryable && attempt < this.maxRetries) {
        if (status >= 500 || status === 408) uncertain = true;
        this.stats.retries++;
        await this.clock.sleep(backoffMs(attempt, headers, this.random), options.signal);
        continue;
      }
      const verb = status === 401 || status === 403 ? 'refused access to' : status < 500 ? 'refused' : 'failed';
      throw new TinkerApiError(`Tinker ${verb} ${endpoint} (HTTP ${status}): ${detail}`, status, endpoint, detail, retryable, headers.get('x-request-id'), uncertain);
    }
  }

  /** Sleeps one billing-pause step unless the pause has lasted too long; true when the caller should try again. */
  private async billingPause(since: number, signal?: AbortSignal): Promise<boolean> {
    if (this.clock.now() - since > this.billingPauseMaxMs) return false;
    this.stats.billingPauses++;
    await this.clock.sleep(BILLING_PAUSE_STEP_MS, signal);
    return true;
  }

  async post(path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    return (await this.call('POST', path, { json: body }, signal ? { signal } : {})).json;
  }

  async get(path: string, signal?: AbortSignal): Promise<unknown> {
    return (await this.call('GET', path, undefined, signal ? { signal } : {})).json;
  }

  /** `POST /client/config` (the SDK's first call); a server without it (404) gets the SDK defaults. */
  async serverConfig(sdkVersion: string): Promise<ServerConfig> {
    const answer = await this.call('POST', '/client/config', { json: { sdk_version: sdkVersion } }, { accept: [404] });
    const config = serverConfigFromWire(answer.status === 404 ? {} : answer.json);
    this.billingPauseMaxMs = Math.min(this.billingPauseMaxMs, config.billingPauseMaxSec * 1000);
    return config;
  }

  /**
   * Polls `retrieve_future` until the result is there; throws TinkerFutureError / TinkerFutureExpiredError.
   * With `protobuf`, asks for the result as protobuf (as SDK 0.25 does for sampling and
   * forward_backward) and returns the bytes when the server sends them.
   */
  async retrieve(requestId: string, signal?: AbortSignal, protobuf = false): Promise<unknown> {
    const started = this.clock.now();
    let bare400s = 0;
    let billingSince: number | null = null;
    for (;;) {
      if (this.options.futureDeadlineMs !== undefined && this.clock.now() - started > this.options.futureDeadlineMs) {
        throw new TinkerFutureError(`Tinker future ${requestId} did not finish within ${this.options.futureDeadlineMs} ms`, requestId, 'timeout', 'deadline exceeded');
      }
      this.stats.polls++;
      let answer: CallAnswer;
      try {
        const options: CallOptions = { accept: [400, 402, 408, 410], timeoutMs: this.pollTimeoutMs, acceptType: protobuf ? 'application/x-protobuf, application/json' : 'application/json' };
        if (signal) options.signal = signal;
        answer = await this.call('POST', '/retrieve_future', { json: { request_id: requestId, allow_metadata_only: false } }, options);
      } catch (error) {
        // Our own long-poll timeout is not a failure: the request is still running.
        if (error instanceof TinkerConnectionError && error.cause instanceof DOMException && error.cause.name === 'TimeoutError') continue;
        throw error;
      }
      const { status, json } = answer;
      if (answer.bytes) return answer.bytes;
      if (status === 408) {
        bare400s = 0;
        continue;
      }
      if (status === 410) throw new TinkerFutureExpiredError(requestId);
      if (status === 402) {
        if (await this.billingPause((billingSince ??= this.clock.now()), signal)) continue;
        throw new TinkerApiError(`Tinker paused request ${requestId} for billing (HTTP 402) longer than ${this.billingPauseMaxMs / 1000} s: ${detailOf(json, '')}`, 402, 'POST /retrieve_future', detailOf(json, ''), false);
      }
      if (status === 400) {
        if (isRecord(json) && json['detail'] !== undefined) {
          // SkyRL's failed future: the request ran and failed.
          const detail = detailOf(json, '');
          throw new TinkerFutureError(`Tinker request ${requestId} failed: ${detail}`, requestId, 'user', detail);
        }
        if (++bare400s <= BARE_400_REPOLLS) continue;
        throw new TinkerApiError(`Tinker retrieve_future for ${requestId} answered HTTP 400 without a detail ${bare400s} times in a row`, 400, 'POST /retrieve_future', 'bare 400', false);
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

  /** Submits a call that answers with a future and waits for its result; resubmits if the promise expired. */
  async submit(path: string, body: unknown, signal?: AbortSignal, protobuf = false): Promise<unknown> {
    for (let resubmissions = 0; ; resubmissions++) {
      const future = await this.post(path, body, signal);
      const requestId = futureId(future, path);
      try {
        return await this.retrieve(requestId, signal, protobuf);
      } catch (error) {
        if (error instanceof TinkerFutureExpiredError && resubmissions < 2) continue;
        throw error;
      }
    }
  }
}

/** The request id of a future (hosted: `request_id`; SkyRL also sends `future_id`). */
export function futureId(future: unknown, path: string): string {
  if (isRecord(future) && typeof future['request_id'] === 'string') return future['request_id'];
  throw new TinkerApiError(`Tinker POST ${path} answered without a request_id: ${JSON.stringify(future).slice(0, 200)}`, 200, `POST ${path}`, 'no request_id', false);
}
