/**
 * Turns the fork server's metadata reply and the output files Node read itself into a typed
 * ExecutionOutcome. Pure, so every mapping is table-tested without a sandbox.
 */
import type { ExecutionOutcome } from '../core/execution.js';

/** A reply line of fork-server.py (metadata only: the server never sees code or output). */
export interface ServerReply {
  id?: number;
  status: string;
  signal?: string;
  exit_code?: number;
  wall_ms?: number;
  reason?: string;
  uid?: number;
}

export interface SnippetFiles {
  stdout: Buffer;
  stderr: Buffer;
  /** Sizes on disk: larger than the buffers when Node read only a prefix. */
  stdoutBytes: number;
  stderrBytes: number;
  /** The child's own record of an exception: `{"type","message","last"}`, or empty. */
  meta: string;
}

export interface SnippetLimits {
  timeoutMs: number;
  memoryMb: number;
  maxOutputBytes: number;
}

/** Reasons an outcome is `infra_error` that a retry on a fresh server may fix. */
export const RETRYABLE_STATUSES = new Set(['setup_failed', 'refused', 'server_died']);

export function lastNonEmptyLine(text: string): string {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]?.trim();
    if (line) return line;
  }
  return '';
}

interface ErrorRecord {
  errorType: string;
  message: string;
  lastLine: string;
}

/** Reads the child's exception record; falls back to the last traceback line of stderr. */
export function parseErrorRecord(meta: string, stderr: string): ErrorRecord {
  try {
    const parsed: unknown = JSON.parse(meta);
    if (parsed && typeof parsed === 'object') {
      const record = parsed as Record<string, unknown>;
      if (typeof record.type === 'string' && typeof record.last === 'string') {
        return {
          errorType: record.type,
          message: typeof record.message === 'string' ? record.message : '',
          lastLine: record.last,
        };
      }
    }
  } catch {
    // no record: the snippet died before writing it, or wrote garbage over it
  }
  const lastLine = lastNonEmptyLine(stderr);
  const match = /^([A-Za-z_][\w.]*)(?::\s?(.*))?$/.exec(lastLine);
  return { errorType: match?.[1] ?? 'Error', message: match?.[2] ?? lastLine, lastLine: lastLine || 'Error' };
}

/** Maps one server reply plus the output files to the outcome callers see. */
export function toOutcome(reply: ServerReply, files: SnippetFiles, limits: SnippetLimits, durationMs: number): ExecutionOutcome {
  const stdout = files.stdout.toString('utf8');
  const stderr = files.stderr.toString('utf8');
  const rounded = Math.round(durationMs * 100) / 100;
  const outputTooBig = files.stdoutBytes + files.stderrBytes > limits.maxOutputBytes;
  switch (reply.status) {
    case 'ok':
      if (outputTooBig) return { kind: 'output_limit', stdout, stderr, durationMs: rounded, limitBytes: limits.maxOutputBytes };
      return { kind: 'ok', stdout, stderr, durationMs: rounded };
    case 'output_limit':
      return { kind: 'output_limit', stdout, stderr, durationMs: rounded, limitBytes: limits.maxOutputBytes };
    case 'error':
    case 'exit': {
      if (outputTooBig) return { kind: 'output_limit', stdout, stderr, durationMs: rounded, limitBytes: limits.maxOutputBytes };
      const record =
        reply.status === 'exit'
          ? { errorType: 'SystemExit', message: `exit code ${reply.exit_code ?? '?'}`, lastLine: `SystemExit: ${reply.exit_code ?? '?'}` }
          : parseErrorRecord(files.meta, stderr);
      return { kind: 'error', ...record, stdout, stderr, durationMs: rounded };
    }
    case 'memory':
      return { kind: 'memory', stdout, stderr, durationMs: rounded, limitMb: limits.memoryMb };
    case 'timeout':
      return { kind: 'timeout', stdout, stderr, durationMs: rounded, limitMs: limits.timeoutMs };
    case 'crash':
      return { kind: 'crash', signal: reply.signal ?? 'unknown', stdout, stderr, durationMs: rounded };
    case 'session_dead':
      return { kind: 'infra_error', reason: 'session lost: its process is gone', durationMs: rounded };
    case 'setup_failed':
      return { kind: 'infra_error', reason: `sandbox setup failed: ${lastNonEmptyLine(stderr) || 'unknown'}`, durationMs: rounded };
    default:
      return { kind: 'infra_error', reason: `sandbox replied ${reply.status}${reply.reason ? `: ${reply.reason}` : ''}`, durationMs: rounded };
  }
}
