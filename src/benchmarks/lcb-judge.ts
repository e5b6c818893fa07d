/**
 * Runs one program against a LiveCodeBench problem's tests through the shared `CodeExecutor`
 * (so test runs share the sandbox pool with rollouts) and judges each test as LCB does.
 */
import type { CodeExecutor, ExecutionOutcome } from '../core/execution.js';
import { compareStdout, describeMismatch, parsePythonJson, pythonEquals, pythonRepr } from './lcb-compare.js';
import { functionalDriver, parseFunctionalResult, stdinDriver } from './lcb-program.js';
import type { LcbProblem, LcbTest } from './livecodebench.js';

export type TestOutcome =
  | 'passed'
  | 'wrong_answer'
  | 'runtime_error'
  | 'compile_error'
  | 'timeout'
  | 'memory_limit'
  | 'output_limit'
  | 'crash'
  | 'infra_error'
  | 'skipped';

export interface TestVerdict {
  /** Position in the problem's test list (public tests first). */
  index: number;
  public: boolean;
  outcome: TestOutcome;
  durationMs: number;
  /** One line for humans: the first differing line, the exception, the limit hit. */
  detail: string;
}

export interface JudgeResult {
  /** Every test passed (the only way a sample counts as solved). */
  passed: boolean;
  /** Index of the first test that did not pass; null when all passed. */
  failedTestIndex: number | null;
  tests: TestVerdict[];
  /** False when the response held no program. */
  programFound: boolean;
  /** A sandbox failure (not the program's) decided the result: retry rather than count it. */
  infraError: boolean;
  /** False when the problem carries only its public tests. */
  testsComplete: boolean;
}

export interface JudgeOptions {
  /** Wall-clock limit per test; LCB's default is 6 s for every problem. */
  timeoutMs?: number;
  /** Address-space limit per test (LCB sets none; a sandbox needs one). */
  memoryMb?: number;
  /** Floor for the output cap; the cap also grows with the expected output's size. */
  maxOutputBytes?: number;
  /** LCB stops at the first failing test; `false` runs every test (for `cir judge`). */
  stopAtFirstFailure?: boolean;
  /** Attempts for a test whose execution failed for infrastructure reasons. */
  infraAttempts?: number;
  signal?: AbortSignal;
}

export const DEFAULT_JUDGE_OPTIONS = {
  timeoutMs: 6000,
  memoryMb: 2048,
  maxOutputBytes: 1 << 20,
  stopAtFirstFailure: true,
  infraAttempts: 2,
} as const;

const COMPILE_ERRORS = new Set(['SyntaxError', 'IndentationError', 'TabError']);

/** Maps an execution of one test to a verdict (pure; exported for tests). */
export function judgeExecution(test: LcbTest, outcome: ExecutionOutcome, index: number): TestVerdict {
  const base = { index, public: test.public, durationMs: outcome.durationMs };
  switch (outcome.kind) {
    case 'ok': {
      if (test.type === 'stdin') {
        const comparison = compareStdout(outcome.stdout, test.output);
        return { ...base, outcome: comparison.match ? 'passed' : 'wrong_answer', detail: describeMismatch(comparison) };
      }
      // The verdict is decided here, outside the program's process, from the result it printed.
      const result = parseFunctionalResult(outcome.stdout);
      if (!result) return { ...base, outcome: 'runtime_error', detail: 'the call returned no result (the program ended the process?)' };
      return pythonEquals(result, parsePythonJson(test.output))
        ? { ...base, outcome: 'passed', detail: 'match' }
        : { ...base, outcome: 'wrong_answer', detail: `expected ${cut(test.output)}, got ${pythonRepr(result)}` };
    }
    case 'error':
      return {
        ...base,
        outcome: COMPILE_ERRORS.has(outcome.errorType) ? 'compile_error' : 'runtime_error',
        detail: outcome.lastLine || outcome.errorType,
      };
    case 'timeout':
      return { ...base, outcome: 'timeout', detail: `time limit ${outcome.limitMs} ms exceeded` };
    case 'memory':
      return { ...base, outcome: 'memory_limit', detail: `memory limit ${outcome.limitMb} MiB exceeded` };
    case 'output_limit':
      return { ...base, outcome: 'output_limit', detail: `output over ${outcome.limitBytes} bytes` };
    case 'crash':
      return { ...base, outcome: 'crash', detail: `killed by ${outcome.signal}` };
    case 'infra_error':
      return { ...base, outcome: 'infra_error', detail: outcome.reason };
  }
}

function cut(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > 80 ? `${trimmed.slice(0, 77)}...` : trimmed;
}

/** Runs `program` on every test of `problem` (in order; by default stopping at the first failure). */
export async function judgeProgram(
  problem: LcbProblem,
  program: string,
  executor: CodeExecutor,
  options: JudgeOptions = {},
): Promise<JudgeResult> {
  const settings = { ...DEFAULT_JUDGE_OPTIONS, ...options };
  const tests: TestVerdict[] = [];
  const skipFrom = (from: number, detail: string) => {
    for (let i = from; i < problem.tests.length; i++) {
      const test = problem.tests[i] as LcbTest;
      tests.push({ index: i, public: test.public, outcome: 'skipped', durationMs: 0, detail });
    }
  };
  if (program.trim() === '') {
    skipFrom(0, 'no program in the response');
    return { passed: false, failedTestIndex: 0, tests, programFound: false, infraError: false, testsComplete: problem.testsComplete };
  }
  const functional = problem.tests.some((t) => t.type === 'functional');
  const code = functional ? functionalDriver(program, problem.fnName ?? '') : stdinDriver(program);
  let failedTestIndex: number | null = null;
  let infraError = false;
  for (let index = 0; index < problem.tests.length; index++) {
    const test = problem.tests[index] as LcbTest;
    // Only the input enters the sandbox: the program never sees an expected output.
    const stdin = test.input;
    // Room for the answer: a functional result's tagged serialisation can be a few times its JSON.
    const maxOutputBytes = Math.max(settings.maxOutputBytes, (test.type === 'functional' ? 4 : 2) * Buffer.byteLength(test.output) + 65536);
    let verdict: TestVerdict | undefined;
    for (let attempt = 0; attempt < Math.max(1, settings.infraAttempts); attempt++) {
      const outcome = await executor.execute(code, {
        stdin,
        timeoutMs: settings.timeoutMs,
        memoryMb: settings.memoryMb,
        maxOutputBytes,
        ...(settings.signal ? { signal: settings.signal } : {}),
      });
      verdict = judgeExecution(test, outcome, index);
      if (outcome.kind !== 'infra_error' || outcome.reason === 'aborted' || settings.signal?.aborted) break;
    }
    const final = verdict as TestVerdict;
    tests.push(final);
    if (final.outcome === 'infra_error') infraError = true;
    if (final.outcome !== 'passed') {
      failedTestIndex ??= index;
      if (settings.stopAtFirstFailure || final.outcome === 'infra_error') {
        skipFrom(index + 1, `not run: test ${index} failed`);
        break;
      }
    }
  }
  return {
    passed: failedTestIndex === null,
    failedTestIndex,
    tests,
    programFound: true,
    infraError,
    testsComplete: problem.testsComplete,
  };
}
