/**
 * A CodeExecutor over SandboxFusion's HTTP API (POST /run_code), for code execution scaled out
 * to a cluster. Stateless only: SandboxFusion starts a fresh process (or kernel) per request.
 */
import { performance } from 'node:perf_hooks';
import { InputError, UnsupportedError } from '../core/errors.js';
import type { CodeExecutor, ExecuteOptions, ExecutionOutcome, ExecutionSession } from '../core/execution.js';
import { readBodyCapped, ResponseTooLargeError } from '../core/http-body.js';
import { isRetryableStatus, retryAfterMs, retryDelayMs, sleep, type BackoffOptions } from '../core/retry.js';
import { Semaphore } from '../core/semaphore.js';
import { parseErrorRecord } from './outcome.js';

/**
 * Largest response body read from the service: both streams at the output limit, each JSON-escaped
 * (up to 6 bytes per byte), plus room for the envelope. A bigger answer is an infra_error.
 */
export function responseCapBytes(maxOutputBytes: number): number {
  return 12 * maxOutputBytes + (1 << 20);
}

export interface SandboxFusionOptions {
  /** Base URL of the service, e.g. `http://127.0.0.1:8080` (a trailing `/run_code` is accepted too). */
  url: string;
  /** Requests in flight at once; SandboxFusion itself does not throttle (verl uses 10). */
  concurrency?: number;
  timeoutMs?: number;
  memoryMb?: number;
  maxOutputBytes?: number;
  /** Extra time allowed for the HTTP round trip beyond the run timeout. */
  httpSlackMs?: number;
  /** Wait before the one retry of an infrastructure failure (the project's retry policy, `core/retry.ts`). */
  backoff?: BackoffOptions;
  /** Injectable for tests. */
  fetch?: typeof fetch;
}

interface CommandRunResult {
  status?: string;
  execution_time?: number | null;
  return_code?: number | null;
  stdout?: string | null;
  stderr?: string | null;
}

export interface RunCodeResponse {
  status?: string;
  message?: string;
  run_result?: CommandRunResult | null;
}

const SIGNALS: Record<number, string> = { 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 7: 'SIGBUS', 8: 'SIGFPE', 4: 'SIGILL' };

/** Maps a /run_code response to an outcome. Pure; exported for table tests. */
export function fusionOutcome(
  response: RunCodeResponse,
  limits: { timeoutMs: number; memoryMb: number; maxOutputBytes: number },
  durationMs: number,
): ExecutionOutcome {
  if (response.status === 'SandboxError' || !response.run_result) {
    return { kind: 'infra_error', reason: `SandboxFusion: ${response.status ?? 'no status'}${response.message ? `: ${response.message}` : ''}`, durationMs };
  }
  const run = response.run_result;
  let stdout = run.stdout ?? '';
  const stderr = run.stderr ?? '';
  const duration = run.execution_time != null ? run.execution_time * 1000 : durationMs;
  if (run.status === 'TimeLimitExceeded') return { kind: 'timeout', stdout, stderr, durationMs: duration, limitMs: limits.timeoutMs };
  if (run.status === 'Error') return { kind: 'infra_error', reason: `SandboxFusion run error: ${stderr.slice(-300)}`, durationMs: duration };
  if (Buffer.byteLength(stdout) + Buffer.byteLength(stderr) > limits.maxOutputBytes) {
    stdout = Buffer.from(stdout).subarray(0, limits.maxOutputBytes).toString('utf8');
    return { kind: 'output_limit', stdout, stderr, durationMs: duration, limitBytes: limits.maxOutputBytes };
  }
  const code = run.return_code;
  if (code === 0) return { kind: 'ok', stdout, stderr, durationMs: duration };
  if (code == null) return { kind: 'infra_error', reason: 'SandboxFusion: finished without a return code', durationMs: duration };
  if (code < 0 || code > 128) {
    const number = code < 0 ? -code : code - 128;
    if (number === 9 && /MemoryError/.test(stderr)) return { kind: 'memory', stdout, stderr, durationMs: duration, limitMb: limits.memoryMb };
    return { kind: 'crash', signal: SIGNALS[number] ?? `signal ${number}`, stdout, stderr, durationMs: duration };
  }
  const record = parseErrorRecord('', stderr);
  if (record.errorType === 'MemoryError') return { kind: 'memory', stdout, stderr, durationMs: duration, limitMb: limits.memoryMb };
  return { kind: 'error', ...record, stdout, stderr, durationMs: duration };
}

export class SandboxFusionExecutor implements CodeExecutor {
  readonly name = 'sandbox-fusion';
  private readonly endpoint: string;
  private readonly fetcher: typeof fetch;
  private readonly slots: Semaphore;
  private readonly controllers = new Set<AbortController>();
  private closed = false;

  constructor(private readonly options: SandboxFusionOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new InputError(`is not a URL: ${JSON.stringify(options.url)}`, 'url');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InputError(`must be http(s), got ${url.protocol}`, 'url');
    this.endpoint = url.pathname.endsWith('/run_code') ? url.href : new URL('run_code', url.href.endsWith('/') ? url.href : `${url.href}/`).href;
    this.fetcher = options.fetch ?? fetch;
    this.slots = new Semaphore(options.concurrency ?? 10);
  }

  private async once(code: string, options: ExecuteOptions | undefined, limits: { timeoutMs: number; memoryMb: number; maxOutputBytes: number }): Promise<{ outcome: ExecutionOutcome; retry: boolean; serverDelayMs?: number | null }> {
    const started = performance.now();
    const controller = new AbortController();
    this.controllers.add(controller);
    const onAbort = () => controller.abort();
    options?.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => controller.abort(), limits.timeoutMs + (this.options.httpSlackMs ?? 10_000));
    try {
      const response = await this.fetcher(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          code,
          language: 'python',
          run_timeout: limits.timeoutMs / 1000,
          compile_timeout: limits.timeoutMs / 1000,
          memory_limit_MB: limits.memoryMb,
          stdin: options?.stdin ?? null,
          files: {},
          fetch_files: [],
        }),
        signal: controller.signal,
      });
      const elapsed = performance.now() - started;
      if (!response.ok) {
        const retry = isRetryableStatus(response.status);
        return { outcome: { kind: 'infra_error', reason: `SandboxFusion HTTP ${response.status}`, durationMs: elapsed }, retry, serverDelayMs: retryAfterMs(response.headers) };
      }
      // The service's answer is read with a cap: room for both streams at the output limit, JSON-escaped.
      const raw = await readBodyCapped(response, responseCapBytes(limits.maxOutputBytes), this.endpoint);
      const body = JSON.parse(raw.toString('utf8')) as RunCodeResponse;
      const outcome = fusionOutcome(body, limits, elapsed);
      return { outcome, retry: outcome.kind === 'infra_error' };
    } catch (error) {
      const reason = options?.signal?.aborted ? 'aborted' : `SandboxFusion request failed: ${error instanceof Error ? error.message : String(error)}`;
      const retry = reason !== 'aborted' && !this.closed && !(error instanceof ResponseTooLargeError);
      return { outcome: { kind: 'infra_error', reason, durationMs: performance.now() - started }, retry };
    } finally {
      clearTimeout(timer);
      options?.signal?.removeEventListener('abort', onAbort);
      this.controllers.delete(controller);
    }
  }

  async execute(code: string, options?: ExecuteOptions): Promise<ExecutionOutcome> {
    const limits = {
      timeoutMs: options?.timeoutMs ?? this.options.timeoutMs ?? 5000,
      memoryMb: options?.memoryMb ?? this.options.memoryMb ?? 2048,
      maxOutputBytes: options?.maxOutputBytes ?? this.options.maxOutputBytes ?? 1 << 20,
    };
    if (options?.signal?.aborted) return { kind: 'infra_error', reason: 'aborted', durationMs: 0 };
    return this.slots.run(async () => {
      const first = await this.once(code, options, limits);
      if (!first.retry) return first.outcome;
      // Infrastructure failures get one retry, after the policy's wait.
      try {
        await sleep(retryDelayMs(0, { serverDelayMs: first.serverDelayMs, backoff: this.options.backoff, random: Math.random }), options?.signal);
      } catch {
        return { kind: 'infra_error', reason: 'aborted', durationMs: first.outcome.durationMs } satisfies ExecutionOutcome;
      }
      return (await this.once(code, options, limits)).outcome;
    });
  }

  openSession(): Promise<ExecutionSession> {
    return Promise.reject(new UnsupportedError('SandboxFusion runs every request in a fresh process: sessions need the local sandbox'));
  }

  close(): Promise<void> {
    this.closed = true;
    for (const controller of this.controllers) controller.abort();
    return Promise.resolve();
  }
}
