/**
 * LiveCodeBench: records, prompts in both modes, and the benchmark spec. Problems are graded by
 * running the final program against every test (see lcb-judge.ts); a problem that carries only its
 * public tests makes the result "public tests only", never comparable with published LCB numbers.
 */
import { InputError } from '../core/errors.js';
import { readJsonl, RecordReader, type JsonObject } from './jsonl.js';
import { parsePythonJson } from './lcb-compare.js';
import { judgeProgram, type JudgeOptions } from './lcb-judge.js';
import { extractFinalCodeBlock, extractFinalProgram } from './lcb-program.js';
import type { ReasoningMode } from '../prompts/index.js';
import type { BenchmarkItem, BenchmarkSpec } from './types.js';

export type LcbTestType = 'stdin' | 'functional';
export type LcbDifficulty = 'easy' | 'medium' | 'hard';

export interface LcbTest {
  input: string;
  output: string;
  type: LcbTestType;
  public: boolean;
}

export interface LcbProblem {
  id: string;
  title: string;
  problem: string;
  tests: LcbTest[];
  /** LeetCode problems: the `class Solution` stub and the method to call. */
  starterCode?: string;
  fnName?: string;
  difficulty: LcbDifficulty;
  /** ISO date-time as LCB stores it, e.g. `2024-08-03T00:00:00`. */
  contestDate: string;
  platform: string;
  contestId: string;
  release?: string;
  /** True only when the private (hidden) tests are present too. */
  testsComplete: boolean;
  /** LCB ERRATA.md category, when the problem is listed there. */
  errata?: string;
}

export const PUBLIC_TESTS_ONLY_NOTE =
  'LiveCodeBench graded on public tests only: not comparable with published LiveCodeBench numbers';

const DIFFICULTIES = new Set(['easy', 'medium', 'hard']);

function parseTests(value: unknown, where: string): LcbTest[] {
  if (!Array.isArray(value) || value.length === 0) throw new InputError('field "tests" must be a non-empty array', where);
  return value.map((raw: unknown, index) => {
    const at = `${where} tests[${index}]`;
    if (typeof raw !== 'object' || raw === null) throw new InputError('test must be an object', at);
    const test = new RecordReader(raw as JsonObject, at);
    const type = test.string('type');
    if (type !== 'stdin' && type !== 'functional') throw new InputError(`field "type" must be stdin or functional, got ${JSON.stringify(type)}`, at);
    const output = test.string('output');
    if (type === 'functional') {
      // The host compares functional results with this value (lcb-compare.ts): it must be JSON as Python reads it.
      try {
        parsePythonJson(output);
      } catch (error) {
        throw new InputError(`field "output" of a functional test is not JSON: ${(error as Error).message}`, at);
      }
    }
    return { input: test.string('input'), output, type, public: test.boolean('public', true) };
  });
}

/** Validates one record of `livecodebench.jsonl` (schema in the datasets README). */
export function parseLcbRecord(value: JsonObject, where: string): LcbProblem {
  const r = new RecordReader(value, where);
  const tests = parseTests(r.raw('tests'), where);
  const types = new Set(tests.map((t) => t.type));
  if (types.size > 1) throw new InputError('field "tests" mixes stdin and functional tests', where);
  const difficulty = r.string('difficulty');
  if (!DIFFICULTIES.has(difficulty)) throw new InputError(`field "difficulty" must be easy, medium or hard, got ${JSON.stringify(difficulty)}`, where);
  const contestDate = r.string('contest_date');
  if (Number.isNaN(Date.parse(contestDate))) throw new InputError(`field "contest_date" is not a date: ${JSON.stringify(contestDate)}`, where);
  const fnName = r.optionalString('fn_name');
  if (types.has('functional') && !fnName) throw new InputError('functional tests need field "fn_name"', where);
  const problem: LcbProblem = {
    id: r.string('id'),
    title: r.optionalString('title') ?? '',
    problem: r.string('problem'),
    tests,
    difficulty: difficulty as LcbDifficulty,
    contestDate,
    platform: r.optionalString('platform') ?? '',
    contestId: r.optionalString('contest_id') ?? '',
    testsComplete: r.boolean('tests_complete', false),
  };
  const starterCode = r.optionalString('starter_code');
  if (starterCode) problem.starterCode = starterCode;
  if (fnName) problem.fnName = fnName;
  const release = r.optionalString('release');
  if (release) problem.release = release;
  const errata = r.optionalString('lcb_errata');
  if (errata) problem.errata = errata;
  return problem;
}

export async function loadLcbProblems(path: string): Promise<LcbProblem[]> {
  const rows = await readJsonl(path);
  const seen = new Set<string>();
  return rows.map(({ line, value }) => {
    const problem = parseLcbRecord(value, `${path}:${line}`);
    if (seen.has(problem.id)) throw new InputError(`duplicate id ${JSON.stringify(problem.id)}`, `${path}:${line}`);
    seen.add(problem.id);
    return problem;
  });
}

/**
 * LCB's date window: start ≤ contest_date ≤ end, the bounds read as midnight (so a contest later
 * on the end day is left out, as in LCB). Dates are `YYYY-MM-DD`.
 */
export function filterByContestDate(problems: readonly LcbProblem[], window: { start?: string; end?: string }): LcbProblem[] {
  const bound = (date: string | undefined, name: string) => {
    if (date === undefined) return undefined;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new InputError(`must be YYYY-MM-DD, got ${JSON.stringify(date)}`, name);
    return Date.parse(`${date}T00:00:00Z`);
  };
  const start = bound(window.start, 'start date');
  const end = bound(window.end, 'end date');
  return problems.filter((p) => {
    const at = Date.parse(p.contestDate.endsWith('Z') ? p.contestDate : `${p.contestDate}Z`);
    return (start === undefined || at >= start) && (end === undefined || at <= end);
  });
}

export const LCB_SYSTEM_PROMPT =
  'You are an expert Python programmer. You will be given a question (problem specification) and will generate a correct Python program that matches the specification and passes all tests.';

function formatSection(problem: LcbProblem): string {
  if (problem.starterCode) {
    return `### Format: You will use the following starter code to write the solution to the problem and enclose your code within delimiters.\n\`\`\`python\n${problem.starterCode}\n\`\`\`\n\n`;
  }
  return '### Format: Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test on the sample inputs). Enclose your code within delimiters as follows. Ensure that when the python program runs, it reads the inputs, runs the algorithm and writes output to STDOUT.\n```python\n# YOUR CODE HERE\n```\n\n';
}

/** LCB's direct-answer prompt layout (question, format, answer cue). */
export function lcbDirectPrompt(problem: LcbProblem): string {
  return `### Question:\n${problem.problem}\n\n${formatSection(problem)}### Answer: (use the provided format with backticks)\n\n`;
}

/**
 * The code-integrated prompt: the same question and format, plus how to use the interpreter on
 * the public examples (code run while reasoning has no standard input) and which block is graded.
 */
export function lcbCodeIntegratedPrompt(problem: LcbProblem, maxToolCalls: number): string {
  const how = problem.starterCode
    ? 'call your method on the example arguments and print the result'
    : 'set `sys.stdin = io.StringIO(example_input)` before running your solution code and print its output';
  return (
    `### Question:\n${problem.problem}\n\n` +
    `### Tools: While you reason you may run Python code: write it in a \`\`\`python block and its output will be shown to you in an \`\`\`output block. ` +
    `You may run code at most ${maxToolCalls} times. Code you run has no standard input; to try your program on the examples from the question, ${how}, and compare with the expected output.\n\n` +
    formatSection(problem) +
    '### Answer: when you are done, give your complete final program as the last ```python block of your answer; only that block is graded, on the examples and on further hidden tests.\n\n'
  );
}

export interface LiveCodeBenchOptions {
  judge?: JudgeOptions;
  /** Tool budget stated in the code-integrated prompt (the rollout engine enforces it). */
  maxToolCalls?: number;
  window?: { start?: string; end?: string };
}

function month(contestDate: string): string {
  return contestDate.slice(0, 7);
}

/** Wraps a problem as a benchmark item. */
export function lcbItem(problem: LcbProblem, options: LiveCodeBenchOptions = {}): BenchmarkItem {
  const maxToolCalls = options.maxToolCalls ?? 8;
  const groups: Record<string, string> = {
    difficulty: problem.difficulty,
    month: month(problem.contestDate),
    platform: problem.platform,
    tests: problem.testsComplete ? 'complete' : 'public_only',
  };
  if (problem.release) groups['release'] = problem.release;
  return {
    id: problem.id,
    groups,
    system: () => LCB_SYSTEM_PROMPT,
    prompt: (mode: ReasoningMode) => (mode === 'text' ? lcbDirectPrompt(problem) : lcbCodeIntegratedPrompt(problem, maxToolCalls)),
    async grade(responseText, context) {
      if (!context.executor) throw new InputError('LiveCodeBench grading needs a code executor', `problem ${problem.id}`);
      const program = context.mode === 'text' ? extractFinalCodeBlock(responseText) : extractFinalProgram(responseText);
      const result = await judgeProgram(problem, program, context.executor, {
        ...options.judge,
        ...(context.signal ? { signal: context.signal } : {}),
      });
      const firstFailure = result.failedTestIndex === null ? undefined : result.tests[result.failedTestIndex];
      return {
        correct: result.passed,
        extracted: program,
        reason: result.passed ? 'passed' : result.programFound ? (firstFailure?.outcome ?? 'failed') : 'no-program',
        infraError: result.infraError,
        detail: {
          failedTestIndex: result.failedTestIndex,
          tests: result.tests,
          testsComplete: result.testsComplete,
          ...(result.testsComplete ? {} : { note: PUBLIC_TESTS_ONLY_NOTE }),
        },
      };
    },
  };
}

/** The caveats a run on these problems must carry. */
export function lcbCaveats(problems: readonly LcbProblem[]): string[] {
  const incomplete = problems.filter((p) => !p.testsComplete).length;
  if (incomplete === 0) return [];
  return [`${PUBLIC_TESTS_ONLY_NOTE} (${incomplete} of ${problems.length} problems have only their public tests).`];
}

export function livecodebench(options: LiveCodeBenchOptions = {}): BenchmarkSpec {
  return {
    name: 'livecodebench',
    description: 'LiveCodeBench code generation (release_v5), graded by running programs against tests',
    defaultFile: 'livecodebench.jsonl',
    needsExecutor: true,
    async load(path) {
      let problems = await loadLcbProblems(path);
      if (options.window) problems = filterByContestDate(problems, options.window);
      return problems.map((p) => lcbItem(p, options));
    },
    caveats(items) {
      const incomplete = items.filter((item) => item.groups['tests'] === 'public_only').length;
      if (incomplete === 0) return [];
      return [`${PUBLIC_TESTS_ONLY_NOTE} (${incomplete} of ${items.length} problems have only their public tests).`];
    },
  };
}
