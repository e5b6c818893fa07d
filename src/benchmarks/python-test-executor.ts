/**
 * TEST SUPPORT ONLY: a `CodeExecutor` that runs Debian's python3 in a plain child process, with a
 * wall-clock limit, an address-space limit (`ulimit -v`) and an output cap, but no isolation.
 * The benchmark tests use it to exercise the judge with real Python independently of the sandbox
 * (src/interpreter); the product always grades through the shared sandbox executor.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnsupportedError } from '../core/errors.js';
import type { CodeExecutor, ExecuteOptions, ExecutionOutcome } from '../core/execution.js';

const PYTHON = '/usr/bin/python3';

/** Parses the last traceback line `Type: message` of stderr. */
function lastTracebackLine(stderr: string): { errorType: string; message: string; lastLine: string } {
  const lines = stderr.trimEnd().split('\n');
  const lastLine = lines[lines.length - 1] ?? '';
  const match = /^([A-Za-z_][\w.]*)(?::\s?(.*))?$/.exec(lastLine);
  return { errorType: match?.[1] ?? 'Error', message: match?.[2] ?? '', lastLine };
}

export function createPythonTestExecutor(defaults: { timeoutMs?: number } = {}): CodeExecutor & { executions: number } {
  const executor = {
    name: 'python-test-executor',
    executions: 0,
    async execute(code: string, options: ExecuteOptions = {}): Promise<ExecutionOutcome> {
      executor.executions++;
      const limitMs = options.timeoutMs ?? defaults.timeoutMs ?? 5000;
      const limitBytes = options.maxOutputBytes ?? 1 << 20;
      const dir = await mkdtemp(join(tmpdir(), 'cir-bench-test-'));
      const file = join(dir, 'main.py');
      await writeFile(file, code);
      const started = Date.now();
      try {
        return await new Promise<ExecutionOutcome>((resolve) => {
          const memory = options.memoryMb ? `ulimit -v ${options.memoryMb * 1024}; ` : '';
          const child = spawn('/bin/sh', ['-c', `${memory}exec ${PYTHON} -I "$0"`, file], {
            stdio: ['pipe', 'pipe', 'pipe'],
            detached: true,
          });
          let stdout = '';
          let stderr = '';
          let bytes = 0;
          let ended: 'timeout' | 'output_limit' | undefined;
          const kill = (why: 'timeout' | 'output_limit') => {
            ended ??= why;
            try {
              process.kill(-(child.pid as number), 'SIGKILL');
            } catch {
              // already gone
            }
          };
          const timer = setTimeout(() => kill('timeout'), limitMs);
          const collect = (into: 'out' | 'err') => (chunk: Buffer) => {
            bytes += chunk.length;
            if (bytes > limitBytes) return kill('output_limit');
            if (into === 'out') stdout += chunk.toString('utf8');
            else stderr += chunk.toString('utf8');
          };
          child.stdout.on('data', collect('out'));
          child.stderr.on('data', collect('err'));
          child.stdin.on('error', () => undefined);
          child.stdin.end(options.stdin ?? '');
          child.on('close', (exitCode, signal) => {
            clearTimeout(timer);
            const durationMs = Date.now() - started;
            if (ended === 'timeout') resolve({ kind: 'timeout', stdout, stderr, durationMs, limitMs });
            else if (ended === 'output_limit') resolve({ kind: 'output_limit', stdout, stderr, durationMs, limitBytes });
            else if (signal) resolve({ kind: 'crash', signal, stdout, stderr, durationMs });
            else if (exitCode !== 0) {
              const parsed = lastTracebackLine(stderr);
              if (parsed.errorType === 'MemoryError') resolve({ kind: 'memory', stdout, stderr, durationMs, limitMb: options.memoryMb ?? 0 });
              else resolve({ kind: 'error', ...parsed, stdout, stderr, durationMs });
            } else resolve({ kind: 'ok', stdout, stderr, durationMs });
          });
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    async openSession(): Promise<never> {
      throw new UnsupportedError('the test executor has no sessions');
    },
    async close() {},
  };
  return executor;
}
