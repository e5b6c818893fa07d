/** `cir judge`: runs one program against one LiveCodeBench problem's tests and prints the verdict. */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { InputError } from '../../core/errors.js';
import {
  DEFAULT_JUDGE_OPTIONS,
  judgeProgram,
  loadLcbFromHub,
  loadLcbProblems,
  PUBLIC_TESTS_ONLY_NOTE,
  type JudgeResult,
  type LcbProblem,
  type LcbRelease,
} from '../../benchmarks/index.js';
import { createSandboxExecutor } from '../../interpreter/index.js';
import { numberFlag, parseCommandLine, UsageError, type Command } from '../command.js';

const help = `Usage: cir judge --benchmark PATH|livecodebench --problem ID PROGRAM.py [options]

Runs PROGRAM.py ("-" reads it from standard input) in the sandbox against every test of one
LiveCodeBench problem, judged as LiveCodeBench judges (stripped lines, Decimal comparison of
numeric lines; functional problems called with JSON arguments and compared with Python ==),
and prints the verdict and the outcome of each test.

Options:
  --benchmark PATH     a LiveCodeBench JSONL file, or "livecodebench" for the copy in the data
                       directory (--data-dir, else $CIR_DATA_DIR, else ../shared/datasets)
  --problem ID         the problem's id, e.g. abc301_a, 1873_A, 2777
  --hub                load the complete tests (hidden ones too) from the Hugging Face copy
                       livecodebench/code_generation_lite instead of --benchmark (needs network)
  --release R          with --hub: release_v1 … release_v6 (default release_v5)
  --cache-dir DIR      with --hub: where downloads are kept (default ~/.cache/cir/hub)
  --timeout MS         wall-clock limit per test (default ${DEFAULT_JUDGE_OPTIONS.timeoutMs}, LiveCodeBench's)
  --memory MB          address-space limit per test (default ${DEFAULT_JUDGE_OPTIONS.memoryMb})
  --stop-at-first-failure  stop at the first failing test as LiveCodeBench does (default: run all)
  --unsafe             run without the sandbox's isolation (only for code you trust)
  --json               print {"problem","passed","failed_test_index","tests_complete","tests":[...]}

Exit code: 0 when every test passed, 1 when a test failed, 2 on bad input.
Problems that carry only their public tests are marked: a pass there is not a LiveCodeBench pass.`;

function defaultDataDir(): string {
  const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
  return join(repoRoot, '..', 'shared', 'datasets');
}

async function findProblem(values: { benchmark?: string; problem: string; hub?: boolean; release?: string; 'cache-dir'?: string; 'data-dir'?: string }): Promise<LcbProblem> {
  let problems: LcbProblem[];
  if (values.hub) {
    const cacheDir = values['cache-dir'] ?? join(process.env['HOME'] ?? '.', '.cache', 'cir', 'hub');
    problems = await loadLcbFromHub({ release: (values.release ?? 'release_v5') as LcbRelease, cacheDir });
  } else {
    if (!values.benchmark) throw new UsageError('--benchmark PATH (or --hub) is required');
    let path = values.benchmark;
    if (path === 'livecodebench' && !existsSync(path)) {
      path = join(values['data-dir'] ?? process.env['CIR_DATA_DIR'] ?? defaultDataDir(), 'livecodebench.jsonl');
    }
    problems = await loadLcbProblems(path);
  }
  const problem = problems.find((p) => p.id === values.problem);
  if (!problem) {
    const near = problems.filter((p) => p.id.toLowerCase().includes(values.problem.toLowerCase())).slice(0, 5).map((p) => p.id);
    throw new InputError(`no such problem${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}`, values.problem);
  }
  return problem;
}

async function readProgram(path: string): Promise<string> {
  try {
    if (path === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    }
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read the program (${error instanceof Error ? error.message : String(error)})`, path);
  }
}

export function formatVerdict(problem: LcbProblem, result: JudgeResult): string {
  const total = result.tests.length;
  const head = result.passed
    ? `${problem.id}: PASSED (${total} of ${total} tests)`
    : `${problem.id}: FAILED at test ${result.failedTestIndex ?? 0} (${result.tests[result.failedTestIndex ?? 0]?.outcome ?? 'failed'})`;
  const lines = [head];
  if (!result.testsComplete) lines.push(`note: ${PUBLIC_TESTS_ONLY_NOTE}`);
  for (const t of result.tests) {
    const time = t.outcome === 'skipped' ? '' : `${Math.round(t.durationMs)} ms`;
    lines.push(`  test ${String(t.index).padEnd(3)} ${(t.public ? 'public' : 'hidden').padEnd(7)} ${t.outcome.padEnd(14)} ${time.padStart(8)}  ${t.outcome === 'passed' ? '' : t.detail}`.trimEnd());
  }
  return `${lines.join('\n')}\n`;
}

export const judgeCommand: Command = {
  name: 'judge',
  summary: 'run one program against one LiveCodeBench problem and print the verdict',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, {
      benchmark: { type: 'string' },
      problem: { type: 'string' },
      hub: { type: 'boolean' },
      release: { type: 'string' },
      'cache-dir': { type: 'string' },
      'data-dir': { type: 'string' },
      timeout: { type: 'string' },
      memory: { type: 'string' },
      'stop-at-first-failure': { type: 'boolean' },
      unsafe: { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (!values.problem) throw new UsageError('--problem ID is required');
    if (positionals.length !== 1) throw new UsageError('give exactly one PROGRAM.py (or "-" for standard input)');
    const timeoutMs = numberFlag(values.timeout, 'timeout', DEFAULT_JUDGE_OPTIONS.timeoutMs, 1, 600_000);
    const memoryMb = numberFlag(values.memory, 'memory', DEFAULT_JUDGE_OPTIONS.memoryMb, 16, 1 << 20);
    const problem = await findProblem({ ...values, problem: values.problem });
    const program = await readProgram(positionals[0] as string);
    const executor = await createSandboxExecutor({ concurrency: 1, unsafe: values.unsafe ?? false });
    let result: JudgeResult;
    try {
      result = await judgeProgram(problem, program, executor, {
        timeoutMs,
        memoryMb,
        stopAtFirstFailure: values['stop-at-first-failure'] ?? false,
      });
    } finally {
      await executor.close();
    }
    if (values.json) {
      const record = {
        problem: problem.id,
        passed: result.passed,
        failed_test_index: result.failedTestIndex,
        tests_complete: result.testsComplete,
        ...(result.testsComplete ? {} : { note: PUBLIC_TESTS_ONLY_NOTE }),
        infra_error: result.infraError,
        tests: result.tests.map((t) => ({ index: t.index, public: t.public, outcome: t.outcome, duration_ms: Math.round(t.durationMs * 10) / 10, detail: t.detail })),
      };
      process.stdout.write(`${JSON.stringify(record)}\n`);
    } else {
      process.stdout.write(formatVerdict(problem, result));
    }
    return result.passed ? 0 : 1;
  },
};
