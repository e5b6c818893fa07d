/**
 * The HTTP engines' error: the data callers branch on (kind, endpoint, status, retryability, the
 * server's requested delay). Which failures are retried and how long to wait is the project's one
 * retry policy in `core/retry.ts`.
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
