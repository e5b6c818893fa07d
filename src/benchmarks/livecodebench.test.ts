import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { CodeExecutor } from '../core/execution.js';
import { createSandboxExecutor } from '../interpreter/index.js';
import { benchmarkForPath, getBenchmark, resolveBenchmark } from './index.js';
import { filterByContestDate, lcbCaveats, lcbItem, loadLcbProblems, parseLcbRecord, type LcbProblem } from './livecodebench.js';

const datasets = join(fileURLToPath(new URL('../../', import.meta.url)), '..', 'shared', 'datasets');
let problems: LcbProblem[] = [];
let executor: CodeExecutor;

before(async () => {
  problems = await loadLcbProblems(join(datasets, 'livecodebench.jsonl'));
  executor = await createSandboxExecutor({ concurrency: 2 });
});
after(() => executor.close());

test('the whole file loads: 879 problems, functional ones with fn_name and starter code', () => {
  assert.equal(problems.length, 879);
  assert.equal(problems.filter((p) => p.testsComplete).length, 1);
  const functional = problems.filter((p) => p.tests[0]?.type === 'functional');
  assert.equal(functional.length, 381);
  assert.ok(functional.every((p) => p.fnName && p.starterCode?.includes(`def ${p.fnName}(`)));
});

test("LCB's date window: the 2024-08 … 2025-01 slice has 279 problems (67 easy, 89 medium, 123 hard)", () => {
  const window = filterByContestDate(problems, { start: '2024-08-01', end: '2025-02-01' });
  assert.equal(window.length, 279);
  const count = (d: string) => window.filter((p) => p.difficulty === d).length;
  assert.deepEqual([count('easy'), count('medium'), count('hard')], [67, 89, 123]);
  // Bounds are read as midnight: a contest at 00:00 on the end day is kept.
  const oneDay = filterByContestDate(problems, { start: '2023-08-21', end: '2023-08-21' });
  assert.ok(oneDay.some((p) => p.id === '1873_A'));
  assert.throws(() => filterByContestDate(problems, { start: '21/08/2023' }), /must be YYYY-MM-DD/);
});

test('malformed records are named by file:line and field', () => {
  const good = { id: 'x', problem: 'p', difficulty: 'easy', contest_date: '2024-01-01T00:00:00', tests: [{ input: '1', output: '1', type: 'stdin', public: true }] };
  assert.equal(parseLcbRecord(good, 'f:1').id, 'x');
  assert.throws(() => parseLcbRecord({ ...good, difficulty: 'trivial' }, 'f:2'), /field "difficulty" must be easy, medium or hard/);
  assert.throws(() => parseLcbRecord({ ...good, tests: [] }, 'f:3'), /non-empty array/);
  assert.throws(() => parseLcbRecord({ ...good, tests: [{ input: '1', output: '1', type: 'functional' }] }, 'f:4'), /need field "fn_name"/);
  assert.throws(() => parseLcbRecord({ ...good, tests: [{ input: 1, output: '1', type: 'stdin' }] }, 'f:5'), (e: Error) => {
    assert.equal((e as { input?: string }).input, 'f:5 tests[0]');
    return /field "input" must be a string/.test(e.message);
  });
});

test('caveats and groups mark public-tests-only problems', async () => {
  assert.match(lcbCaveats(problems)[0] ?? '', /public tests only: not comparable with published LiveCodeBench numbers \(878 of 879/);
  const complete = problems.filter((p) => p.testsComplete);
  assert.deepEqual(lcbCaveats(complete), []);
  const spec = getBenchmark('livecodebench');
  const items = await spec.load(join(datasets, 'livecodebench.jsonl'));
  assert.equal(items.find((i) => i.id === '1873_A')?.groups['tests'], 'complete');
  assert.equal(items.find((i) => i.id === 'abc301_a')?.groups['month'], '2023-05');
  assert.equal(spec.caveats(items.filter((i) => i.id === '1873_A')).length, 0);
  assert.equal(spec.caveats(items).length, 1);
});

test('code-integrated grading takes the final python block, never an output block', async () => {
  const problem = problems.find((p) => p.id === 'abc302_a') as LcbProblem;
  const item = lcbItem(problem, { maxToolCalls: 3 });
  assert.match(item.prompt('code'), /at most 3 times[\s\S]*sys\.stdin = io\.StringIO/);
  const trajectory = [
    'Let me check the example.',
    '```python',
    'import io, sys',
    'sys.stdin = io.StringIO("7 3\\n")',
    'a, b = map(int, input().split())',
    'print((a + b - 1) // b)',
    '```',
    '```output',
    '3',
    '```',
    'Final program:',
    '```python',
    'a, b = map(int, input().split())',
    'print((a + b - 1) // b)',
    '```',
    '```output',
    "ValueError: not enough values to unpack (expected 2, got 0)",
    '```',
  ].join('\n');
  const grade = await item.grade(trajectory, { mode: 'code', executor });
  assert.equal(grade.correct, true, JSON.stringify(grade));
  assert.equal(grade.extracted, 'a, b = map(int, input().split())\nprint((a + b - 1) // b)');
  // In direct mode LCB's rule would take the output block and fail.
  assert.equal((await item.grade(trajectory, { mode: 'text', executor })).correct, false);
});

test('the registry resolves names and paths, and names what it cannot resolve', () => {
  const named = resolveBenchmark('gpqa', { dataDir: datasets });
  assert.equal(named.spec.name, 'gpqa');
  assert.equal(named.path, join(datasets, 'gpqa_diamond.jsonl'));
  assert.equal(resolveBenchmark(join(datasets, 'olympiadbench.jsonl'), { dataDir: '/nowhere' }).spec.name, 'olympiadbench');
  assert.equal(benchmarkForPath('/x/minerva_math.jsonl')?.name, 'minerva');
  assert.throws(() => resolveBenchmark('/no/such/file.jsonl', { dataDir: datasets }), /no such benchmark name or file/);
  assert.throws(() => resolveBenchmark(join(datasets, 'aime24.jsonl'), { dataDir: datasets }), /cannot tell which benchmark/);
  assert.equal(resolveBenchmark(join(datasets, 'aime24.jsonl'), { dataDir: datasets, as: 'minerva' }).spec.name, 'minerva');
  assert.throws(() => getBenchmark('mmlu'), /unknown benchmark; known: minerva, olympiadbench, gpqa, livecodebench/);
});
