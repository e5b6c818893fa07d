/**
 * The contract between code executors (the local sandbox, SandboxFusion) and their users
 * (rollout engine, graders, benchmarks). An executor knows nothing of trajectories: it runs
 * code and returns a typed outcome, never a bare string.
 */

/** What became of one snippet. `infra_error` means the sandbox failed, not the program. */
export type ExecutionOutcome =
  | { kind: 'ok'; stdout: string; stderr: string; durationMs: number }
  | {
      kind: 'error';
      /** Exception class name, e.g. `ZeroDivisionError`. */
      errorType: string;
      message: string;
      /** Last line of the traceback, e.g. `ZeroDivisionError: division by zero`. */
      lastLine: string;
      /** What the program printed before it failed. */
      stdout: string;
      stderr: string;
      durationMs: number;
    }
  | { kind: 'timeout'; stdout: string; stderr: string; durationMs: number; limitMs: number }
  | { kind: 'memory'; stdout: string; stderr: string; durationMs: number; limitMb: number }
  | { kind: 'output_limit'; stdout: string; stderr: string; durationMs: number; limitBytes: number }
  | { kind: 'crash'; signal: string; stdout: string; stderr: string; durationMs: number }
  | { kind: 'infra_error'; reason: string; durationMs: number };

export type ExecutionOutcomeKind = ExecutionOutcome['kind'];

export const EXECUTION_OUTCOME_KINDS: readonly ExecutionOutcomeKind[] = [
  'ok',
  'error',
  'timeout',
  'memory',
  'output_limit',
  'crash',
  'infra_error',
];

export interface ExecuteOptions {
  /** Wall-clock limit for the snippet; the executor's default when absent. */
  timeoutMs?: number;
  /** Address-space limit in MiB. */
  memoryMb?: number;
  /** Bytes of stdout+stderr kept before the snippet is stopped with `output_limit`. */
  maxOutputBytes?: number;
  /** Text fed to the snippet's standard input (programs graded by tests). */
  stdin?: string;
  /** Aborts a queued or running execution; the outcome is then `infra_error` with reason `aborted`. */
  signal?: AbortSignal;
}

/** A namespace that lives across the code blocks of one trajectory, like a notebook kernel. */
export interface ExecutionSession {
  readonly id: string;
  /** Runs code in the session; a snippet that times out or crashes leaves the session as it was before it. */
  execute(code: string, options?: ExecuteOptions): Promise<ExecutionOutcome>;
  /** Copies the session's state into `count` independent sessions (cheap: copy-on-write). */
  fork(count: number): Promise<ExecutionSession[]>;
  close(): Promise<void>;
}

export interface CodeExecutor {
  readonly name: string;
  /** Runs code in a fresh namespace (the paper's stateless semantics). */
  execute(code: string, options?: ExecuteOptions): Promise<ExecutionOutcome>;
  /** Opens a stateful session; executors without sessions throw `UnsupportedError`. */
  openSession(): Promise<ExecutionSession>;
  /** Stops every process the executor started. Idempotent. */
  close(): Promise<void>;
}
