/**
 * The one retry policy of the HTTP engines (style habit 9): which failures are retried, how long to
 * wait, and the error class that carries the data callers branch on.
 */
import { CirError } from '../core/errors.js';

export type EngineErrorKind = 'http' | 'timeout' | 'connection' | 'truncated' | 'protocol' | 'aborted';

export class EngineRequestError extends CirError {
  override readonly name: string = 'EngineRequestError';
  constructor(
    message: string,
    readonly kind: EngineErrorKind,
    readonly endpoint: string,
    /** HTTP status, when the server answered. */
    readonly status: number | null,
    readonly isRetryable: boolean,
    /** Server-requested delay (retry-after), when given. */
    readonly retryAfterMs: number | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Fraction of the delay removed at random (0.25 = up to 25 % shorter). */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 8000, jitter: 0.25 };
const MAX_RETRY_AFTER_MS = 60_000;

/** 408, 409, 429 and 5xx are worth another try; other statuses are the caller's fault. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Reads `retry-after-ms` or `retry-after` (seconds or an HTTP date), capped at 60 s. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | null {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Math.min(Number(ms), MAX_RETRY_AFTER_MS);
  const value = headers.get('retry-after');
  if (value === null) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.min(Math.max(0, date - now), MAX_RETRY_AFTER_MS);
}

/** Delay before retry number `attempt` (0-based): server's wish, else exponential backoff with jitter. */
export function retryDelayMs(attempt: number, error: EngineRequestError, backoff: BackoffOptions, random: () => number): number {
  if (error.retryAfterMs !== null) return error.retryAfterMs;
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** attempt);
  return base * (1 - backoff.jitter * random());
}
