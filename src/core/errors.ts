/** One error tree for the project: callers branch on class and fields, never on message text. */
export class CirError extends Error {
  override readonly name: string = 'CirError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A user-supplied input (file, flag, record) is malformed. */
export class InputError extends CirError {
  override readonly name: string = 'InputError';
  constructor(
    message: string,
    readonly input: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The caller stopped the work (an AbortSignal fired, e.g. Ctrl-C): not a fault of the input. */
export class AbortedError extends CirError {
  override readonly name: string = 'AbortedError';
}

/**
 * A remote policy's session is gone (a training server restarted, or expired it): no request of it can succeed
 * until the backend's `recover()` opens a new one. Not a failure of one trajectory: rollouts stop and rethrow it.
 */
export class SessionLostError extends CirError {
  override readonly name: string = 'SessionLostError';
}

/** The requested operation is not available in this implementation or environment. */
export class UnsupportedError extends CirError {
  override readonly name: string = 'UnsupportedError';
}

/**
 * A remote service (a model hub, a dataset host) failed a request: the URL asked, and the HTTP status
 * when the server answered (null when it never did: refused, reset, cut off).
 */
export class RemoteError extends CirError {
  override readonly name: string = 'RemoteError';
  constructor(
    message: string,
    readonly url: string,
    readonly status: number | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
