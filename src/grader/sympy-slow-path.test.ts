/**
 * The slow path, run against a minimal executor written here: it runs /usr/bin/python3 (Debian,
 * sympy installed) once per snippet, with the requested timeout. The project's sandbox executor
 * implements the same CodeExecutor contract.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { CodeExecutor, ExecuteOptions, ExecutionOutcome } from '../core/execution.js';
import { UnsupportedError } from '../core/errors.js';
import { isEquivalent } from './equivalence.js';
import { isEquivalentWithSympy, toSympy } from './sympy-slow-path.js';
import { parseLatex } from './latex-parser.js';

function python3Executor(): CodeExecutor & { calls: string[] } {
  const calls: string[] = [];
  return {
    name: 'python3-subprocess',
    calls,
    execute(code: string, options: ExecuteOptions = {}): Promise<ExecutionOutcome> {
      calls.push(code);
      const started = Date.now();
      const limitMs = options.timeoutMs ?? 5000;
      return new Promise((resolve) => {
        const child = spawn('/usr/bin/python3', ['-c', code], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
        child.on('close', (status) => {
          clearTimeout(timer);
          const durationMs = Date.now() - started;
          if (status === null) resolve({ kind: 'timeout', stdout, stderr, durationMs, limitMs });
          else if (status !== 0) {
            const lastLine = stderr.trim().split('\n').pop() ?? '';
            resolve({ kind: 'error', errorType: lastLine.split(':')[0] ?? '', message: lastLine, lastLine, stdout, stderr, durationMs });
          } else resolve({ kind: 'ok', stdout, stderr, durationMs });
        });
      });
    },
    openSession() {
      return Promise.reject(new UnsupportedError('no sessions in the test executor'));
    },
    close() {
      return Promise.resolve();
    },
  };
}

test('values beyond double range are undecided by the fast path, never guessed equal', () => {
  assert.equal(isEquivalent('3^{2023}\\sqrt{2}', '3^{2024}\\sqrt{2}').reason, 'undecided');
  assert.equal(isEquivalent('3^{2023}\\sqrt{2}', '3^{2024}\\sqrt{2}').correct, false);
});

test('sympy decides what the fast path left undecided', async () => {
  const executor = python3Executor();
  // A generous timeout: starting Python with sympy takes seconds on a loaded machine; the timeout has its own test.
  const patient = { sympyTimeoutMs: 60_000 };
  const same = await isEquivalentWithSympy('3^{2023}\\sqrt{2}', '\\sqrt{2}\\cdot 3^{2023}', executor, patient);
  assert.deepEqual(same, { correct: true, reason: 'sympy' });
  const different = await isEquivalentWithSympy('3^{2023}\\sqrt{2}', '3^{2024}\\sqrt{2}', executor, patient);
  assert.deepEqual(different, { correct: false, reason: 'sympy' });
  assert.equal(executor.calls.length, 2);
});

test('decided cases never reach sympy unless asked', async () => {
  const executor = python3Executor();
  assert.deepEqual(await isEquivalentWithSympy('\\frac12', '0.5', executor), { correct: true, reason: 'numeric' });
  assert.equal((await isEquivalentWithSympy('2', '3', executor)).reason, 'numeric');
  assert.equal(executor.calls.length, 0);
  assert.deepEqual(await isEquivalentWithSympy('x^2-1', '(x-1)(x+1)', executor, { always: true }), { correct: true, reason: 'symbolic' });
  assert.deepEqual(await isEquivalentWithSympy('x^2-1', '(x-1)(x+2)', executor, { always: true }), { correct: false, reason: 'sympy' });
  assert.equal(executor.calls.length, 1);
});

test('the slow path has its own timeout and reports it', async () => {
  const hanging: CodeExecutor = {
    name: 'never-answers',
    execute: () => new Promise(() => undefined),
    openSession: () => Promise.reject(new UnsupportedError('none')),
    close: () => Promise.resolve(),
  };
  const verdict = await isEquivalentWithSympy('3^{2023}\\sqrt{2}', '3^{2024}\\sqrt{2}', hanging, { sympyTimeoutMs: 50 });
  assert.equal(verdict.reason, 'timeout');
  assert.equal(verdict.correct, false);
});

test('answers are sent as code built from our parse, so model text cannot inject Python', () => {
  const parsed = parseLatex('x + 1');
  assert.ok(parsed.ok);
  if (parsed.ok) assert.equal(toSympy(parsed.node), "(Symbol(\"x\", positive=True) + Rational('1'))");
  const injected = parseLatex('\\text{__import__("os")}');
  assert.ok(!injected.ok || toSympy(injected.node) === null || !/import/.test(toSympy(injected.node) ?? ''));
});
