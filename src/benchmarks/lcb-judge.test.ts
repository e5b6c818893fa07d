/**
 * Verdicts on real LiveCodeBench problems with hand-written programs (correct and deliberately
 * wrong), run in the project's sandbox (the same executor the harness uses). The dataset is read
 * from ../shared/datasets beside the repository.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { judgeProgram, judgeExecution } from './lcb-judge.js';
import { lcbItem, loadLcbProblems, type LcbProblem } from './livecodebench.js';
import type { CodeExecutor, ExecuteOptions } from '../core/execution.js';
import { createSandboxExecutor } from '../interpreter/index.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const datasetPath = join(repoRoot, '..', 'shared', 'datasets', 'livecodebench.jsonl');
const problems = new Map<string, LcbProblem>();
let sandbox: CodeExecutor;
let executions = 0;
/** The sandbox, counting executions. */
const executor: CodeExecutor = {
  name: 'counting-sandbox',
  execute(code: string, options?: ExecuteOptions) {
    executions++;
    return sandbox.execute(code, options);
  },
  openSession: () => sandbox.openSession(),
  close: () => sandbox.close(),
};

before(async () => {
  sandbox = await createSandboxExecutor({ concurrency: 2 });
  for (const p of await loadLcbProblems(datasetPath)) problems.set(p.id, p);
});
after(() => executor.close());

function problem(id: string): LcbProblem {
  const p = problems.get(id);
  assert.ok(p, `problem ${id} is in the dataset`);
  return p;
}

const judge = (id: string, program: string, options = {}) => judgeProgram(problem(id), program, executor, { stopAtFirstFailure: false, ...options });

const SHORT_SORT = `t = int(input())
for _ in range(t):
    s = input().strip()
    print("YES" if sum(a != b for a, b in zip(s, "abc")) <= 2 else "NO")
`;

test('1873_A: a correct program passes the public and all hidden tests', async () => {
  const p = problem('1873_A');
  assert.equal(p.testsComplete, true);
  const result = await judge('1873_A', SHORT_SORT);
  assert.equal(result.passed, true);
  assert.deepEqual(result.tests.map((t) => t.outcome), ['passed', 'passed', 'passed', 'passed', 'passed']);
  assert.deepEqual(result.tests.map((t) => t.public), [true, false, false, false, false]);
});

test('1873_A: a program right on the public example but wrong on hidden tests fails', async () => {
  // Prints the sample's answers whatever the input: passes test 0, fails the hidden ones.
  const result = await judge('1873_A', 'print("YES\\nYES\\nYES\\nNO\\nNO\\nYES")');
  assert.equal(result.passed, false);
  assert.equal(result.tests[0]?.outcome, 'passed');
  assert.equal(result.failedTestIndex, 1);
  assert.equal(result.tests[1]?.public, false);
  assert.equal(result.tests[1]?.outcome, 'wrong_answer');
});

test('LCB stops at the first failing test by default', async () => {
  const result = await judgeProgram(problem('1873_A'), 'print("NO")', executor);
  assert.equal(result.failedTestIndex, 0);
  assert.deepEqual(result.tests.map((t) => t.outcome), ['wrong_answer', 'skipped', 'skipped', 'skipped', 'skipped']);
});

test('abc301_a: extra whitespace and blank lines at the ends are accepted, as LCB accepts them', async () => {
  const program = `n = int(input()); s = input()
t, a = s.count("T"), s.count("A")
w = "T" if t > a else "A" if a > t else ("A" if s[-1] == "T" else "T")
print()
print("  " + w + "   ")
print("\\n\\n")
`;
  const result = await judge('abc301_a', program);
  assert.equal(result.passed, true, JSON.stringify(result.tests));
});

test('abc301_a: the right letter in lower case is wrong (LCB compares case-sensitively)', async () => {
  const program = `n = int(input()); s = input()
t, a = s.count("T"), s.count("A")
print(("T" if t > a else "A" if a > t else ("A" if s[-1] == "T" else "T")).lower())
`;
  const result = await judge('abc301_a', program);
  assert.equal(result.passed, false);
  assert.match(result.tests[0]?.detail ?? '', /expected "T", got "t"/);
});

test('abc302_a: exact integer arithmetic passes, float ceil fails on 10^18 inputs', async () => {
  assert.equal((await judge('abc302_a', 'a, b = map(int, input().split())\nprint((a + b - 1) // b)')).passed, true);
  const floats = await judge('abc302_a', 'import math\na, b = map(int, input().split())\nprint(math.ceil(a / b))');
  assert.equal(floats.passed, false);
  assert.equal(floats.tests[0]?.outcome, 'passed');
  assert.ok(floats.tests.some((t) => t.outcome === 'wrong_answer'));
});

test('abc301_b: numbers separated by several spaces still match (Decimal comparison); sys.stdin.buffer works', async () => {
  const program = `import sys
data = sys.stdin.buffer.read().split()
a = list(map(int, data[1:]))
out = [a[0]]
for x in a[1:]:
    step = 1 if x > out[-1] else -1
    out.extend(range(out[-1] + step, x + step, step))
print("  ".join(map(str, out)))
`;
  const result = await judge('abc301_b', program);
  assert.equal(result.passed, true, JSON.stringify(result.tests));
});

test('abc303_a: "YES" where the statement says "Yes" is wrong', async () => {
  const body = `n = int(input()); s = input(); t = input()
ok = all(x == y or {x, y} in ({"1", "l"}, {"0", "o"}) for x, y in zip(s, t))
`;
  assert.equal((await judge('abc303_a', `${body}print("Yes" if ok else "No")`)).passed, true);
  assert.equal((await judge('abc303_a', `${body}print("YES" if ok else "NO")`)).passed, false);
});

test('abc304_a: open(0) input, main guard and exit() behave as in LCB; a blank line inside the output is wrong', async () => {
  const program = `def main():
    lines = open(0).read().split("\\n")
    n = int(lines[0])
    people = [l.split() for l in lines[1:n + 1]]
    k = min(range(n), key=lambda i: int(people[i][1]))
    print(SEP.join(people[(k + i) % n][0] for i in range(n)))
    exit(0)
    print("never")

if __name__ == "__main__":
    main()
`;
  assert.equal((await judge('abc304_a', program.replace('SEP', '"\\n"'))).passed, true);
  const blank = await judge('abc304_a', program.replace('SEP', '"\\n\\n"'));
  assert.equal(blank.passed, false);
  assert.match(blank.tests[0]?.detail ?? '', /line/);
});

test('abc304_b: a program that never ends times out on every test and nothing else breaks', async () => {
  const result = await judge('abc304_b', 'while True:\n    pass', { timeoutMs: 800, stopAtFirstFailure: true });
  assert.equal(result.passed, false);
  assert.deepEqual(result.tests.map((t) => t.outcome), ['timeout', 'skipped', 'skipped', 'skipped']);
  const good = await judge('abc304_b', 'n = input().strip()\nprint(n if len(n) <= 3 else n[:3] + "0" * (len(n) - 3))');
  assert.equal(good.passed, true, JSON.stringify(good.tests));
});

test('abc304_b: a program flooding its output fails with output_limit', async () => {
  const result = await judge('abc304_b', 'while True:\n    print("x" * 1000)', { stopAtFirstFailure: true });
  assert.equal(result.tests[0]?.outcome, 'output_limit');
});

test('abc304_b: a program over the per-test memory limit fails with memory_limit', async () => {
  const result = await judge('abc304_b', 'x = [0] * (10**9)\nprint(len(x))', { memoryMb: 512, stopAtFirstFailure: true });
  assert.equal(result.tests[0]?.outcome, 'memory_limit');
  assert.match(result.tests[0]?.detail ?? '', /512 MiB/);
});

test('abc303_b: a syntax error is a compile error, an exception a runtime error', async () => {
  assert.equal((await judge('abc303_b', 'print(', { stopAtFirstFailure: true })).tests[0]?.outcome, 'compile_error');
  const crash = await judge('abc303_b', 'raise ValueError("boom")', { stopAtFirstFailure: true });
  assert.equal(crash.tests[0]?.outcome, 'runtime_error');
  assert.equal(crash.tests[0]?.detail, 'ValueError: boom');
});

test('2777 (functional): class Solution is called with JSON arguments; a wrong result fails', async () => {
  const correct = `class Solution:
    def distinctDifferenceArray(self, nums: List[int]) -> List[int]:
        return [len(set(nums[:i + 1])) - len(set(nums[i + 1:])) for i in range(len(nums))]
`;
  assert.equal((await judge('2777', correct)).passed, true);
  const wrong = correct.replace('nums[i + 1:]', 'nums[i:]');
  const result = await judge('2777', wrong);
  assert.equal(result.passed, false);
  assert.match(result.tests[0]?.detail ?? '', /expected \[-3, -1, 1, 3, 5\], got \[/);
});

test('2791 (functional, two arguments): a returned tuple is compared as a list', async () => {
  const program = `class Solution:
    def circularGameLosers(self, n: int, k: int):
        seen, pos, step = {0}, 0, 1
        while True:
            pos = (pos + step * k) % n
            if pos in seen:
                break
            seen.add(pos)
            step += 1
        return tuple(i + 1 for i in range(n) if i not in seen)
`;
  assert.equal((await judge('2791', program)).passed, true);
});

test('2727 (functional): Python equality, so 2.0 == 2; prints inside the method do not matter', async () => {
  const program = `class Solution:
    def countSeniors(self, details):
        print("debugging", details)
        return float(sum(int(d[11:13]) > 60 for d in details))
`;
  assert.equal((await judge('2727', program)).passed, true);
});

test('2800 (functional): a top-level function of that name is called when there is no class Solution', async () => {
  const program = `def minLength(s):
    stack = []
    for c in s:
        if stack and stack[-1] + c in ("AB", "CD"):
            stack.pop()
        else:
            stack.append(c)
    return len(stack)

if __name__ == "__main__":
    print(minLength("ABFCACDB"))
    raise SystemExit("the self-test block must not run")
`;
  assert.equal((await judge('2800', program)).passed, true);
});

test('2816 (functional): returning the wrong string fails; an exception is a runtime error', async () => {
  const correct = `class Solution:
    def makeSmallestPalindrome(self, s: str) -> str:
        return "".join(min(a, b) for a, b in zip(s, reversed(s)))
`;
  assert.equal((await judge('2816', correct)).passed, true);
  assert.equal((await judge('2816', correct.replace('min(a, b)', 'max(a, b)'))).passed, false);
  const raising = await judge('2819', 'class Solution:\n    def removeTrailingZeros(self, num):\n        return int(num) // 0', { stopAtFirstFailure: true });
  assert.equal(raising.tests[0]?.outcome, 'runtime_error');
  assert.match(raising.tests[0]?.detail ?? '', /ZeroDivisionError/);
});

test('a response without a program fails without running anything', async () => {
  const before = executions;
  const result = await judgeProgram(problem('abc301_a'), '   ', executor);
  assert.equal(result.programFound, false);
  assert.equal(result.passed, false);
  assert.equal(executions, before);
});

test('an infrastructure failure is retried, then reported as such (not as the program failing)', async () => {
  let calls = 0;
  const broken = {
    name: 'broken',
    async execute() {
      calls++;
      return { kind: 'infra_error' as const, reason: 'sandbox died', durationMs: 1 };
    },
    async openSession(): Promise<never> {
      throw new Error('no sessions');
    },
    async close() {},
  };
  const result = await judgeProgram(problem('abc301_a'), 'print(1)', broken, { infraAttempts: 3 });
  assert.equal(calls, 3);
  assert.equal(result.infraError, true);
  assert.equal(result.tests[0]?.outcome, 'infra_error');
});

test('judgeExecution maps every execution outcome kind', () => {
  const t = { input: '', output: '1', type: 'stdin' as const, public: true };
  const base = { stdout: '', stderr: '', durationMs: 5 };
  assert.equal(judgeExecution(t, { kind: 'ok', ...base, stdout: '1\n' }, 0).outcome, 'passed');
  assert.equal(judgeExecution(t, { kind: 'memory', ...base, limitMb: 64 }, 0).outcome, 'memory_limit');
  assert.equal(judgeExecution(t, { kind: 'crash', ...base, signal: 'SIGSEGV' }, 0).outcome, 'crash');
  assert.equal(judgeExecution(t, { kind: 'error', ...base, errorType: 'IndentationError', message: '', lastLine: 'IndentationError: x' }, 0).outcome, 'compile_error');
});

test('the item grades the final block of a direct response and flags public-tests-only results', async () => {
  const item = lcbItem(problem('abc302_a'));
  assert.match(item.prompt('text'), /^### Question:\n/);
  assert.match(item.prompt('code'), /at most 8 times/);
  const grade = await item.grade('Plan.\n```python\nprint(0)\n```\nFixed:\n```python\na, b = map(int, input().split())\nprint(-(-a // b))\n```\n', {
    mode: 'text',
    executor,
  });
  assert.equal(grade.correct, true);
  assert.equal(grade.detail?.['testsComplete'], false);
  assert.match(String(grade.detail?.['note']), /public tests only/);
  await assert.rejects(item.grade('x', { mode: 'text' }), /needs a code executor/);
});

// Attacks on the verdict: a judged program tries to make every functional test pass without solving
// the problem. 2777's tests all expect different lists, so no constant answer passes them all.
const ATTACKS: Record<string, string> = {
  'an object equal to everything': `class Solution:
    def distinctDifferenceArray(self, nums):
        class Anything(list):
            def __eq__(self, other):
                return True
            __hash__ = None
        return Anything()
`,
  'reading the expected value from the driver': `import sys, gc, json
class Solution:
    def distinctDifferenceArray(self, nums):
        frame = sys._getframe(1)
        while frame is not None:
            names = frame.f_globals
            if "_cir_expected" in names:
                return names["_cir_expected"]
            if "_cir_test" in names:
                return json.loads(names["_cir_test"]["output"])
            frame = frame.f_back
        for thing in gc.get_objects():
            if isinstance(thing, dict) and isinstance(thing.get("output"), str):
                try:
                    return json.loads(thing["output"])
                except Exception:
                    pass
        return []
`,
  'printing the verdict line itself and exiting': `import os, sys
class Solution:
    def distinctDifferenceArray(self, nums):
        for marker in ("\\x01cir-functional-verdict\\x01", "\\x01cir-functional-result\\x01"):
            sys.__stdout__.write("\\n" + marker + '{"passed": true, "got": "[]"}\\n')
        sys.__stdout__.flush()
        os._exit(0)
`,
  'patching what the driver uses': `import builtins, json
builtins.bool = lambda *args: True
json.dumps = lambda *args, **kwargs: '{"passed": true, "got": "[]"}'
class Solution:
    def distinctDifferenceArray(self, nums):
        return []
`,
};

for (const [attack, program] of Object.entries(ATTACKS)) {
  test(`2777 (functional): ${attack} passes no test`, async () => {
    const result = await judge('2777', program);
    assert.equal(result.tests.length, problem('2777').tests.length);
    assert.deepEqual(
      result.tests.filter((t) => t.outcome === 'passed').map((t) => t.index),
      [],
      JSON.stringify(result.tests),
    );
    assert.equal(result.passed, false);
  });
}

test('the expected output of a test never enters the sandbox', async () => {
  const seen: string[] = [];
  const spy: CodeExecutor = {
    name: 'stdin-spy',
    execute(code: string, options?: ExecuteOptions) {
      seen.push(code, options?.stdin ?? '');
      return sandbox.execute(code, options);
    },
    openSession: () => sandbox.openSession(),
    close: async () => {},
  };
  const p = problem('2777');
  await judgeProgram(p, 'class Solution:\n    def distinctDifferenceArray(self, nums):\n        return [0] * len(nums)', spy, { stopAtFirstFailure: false });
  assert.equal(seen.length, 2 * p.tests.length);
  for (const test of p.tests) assert.ok(!seen.some((text) => text.includes(test.output)), `output ${test.output} was sent`);
});
