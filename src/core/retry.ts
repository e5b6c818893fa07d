/**
 * The project's one retry policy for calls to remote services (the OpenAI-compatible engines, the
 * Tinker client, SandboxFusion): which answers are worth another try, how long to wait before it
 * (the server's `retry-after` when given, else exponential backoff with jitter), and an abortable
 * sleep. Callers own their loops (what to retry on, how many times); the rules live here.
 */

export interface BackoffOptions {
  /** Delay before the first retry, before jitter. */
  initialMs: number;
  /** Ceiling of the exponential growth. */
  maxMs: number;
  /** Fraction of the delay removed at random (0.25 = up to 25 % shorter), so clients do not retry in lockstep. */
  jitter: number;
}

/** 0.5 s, 1 s, 2 s, … capped at 8 s, each up to 25 % shorter. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 8000, jitter: 0.25 };

/** A server-requested delay longer than this is capped to it. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** 408 (timeout), 409 (lock conflict), 429 (rate limit) and 5xx are worth another try; other statuses are the caller's fault. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** A server's `x-should-retry: true|false` overrides the status rule (OpenAI and Tinker servers send it). */
export function isRetryableResponse(status: number, headers: Headers): boolean {
  const header = headers.get('x-should-retry');
  if (header === 'true') return true;
  if (header === 'false') return false;
  return isRetryableStatus(status);
}

/** Reads `retry-after-ms` or `retry-after` (seconds or an HTTP date), capped at 60 s; null when absent or unreadable. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | null {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Math.min(Number(ms), MAX_RETRY_AFTER_MS);
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.min(Math.max(0, date - now), MAX_RETRY_AFTER_MS);
}

/**
 * Delay before retry number `attempt` (0-based): the server's wish when it gave one, else
 * `initialMs · 2^attempt` capped at `maxMs`, shortened by up to `jitter` at random.
 */
export function retryDelayMs(attempt: number, options: { serverDelayMs?: number | null | undefined; backoff?: BackoffOptions | undefined; random: () => number }): number {
  if (options.serverDelayMs !== undefined && options.serverDelayMs !== null) return options.serverDelayMs;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** attempt);
  return base * (1 - backoff.jitter * options.random());
}

/** Waits `ms`; rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
