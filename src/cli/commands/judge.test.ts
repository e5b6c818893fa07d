/** `cir judge` end to end: the real CLI, the real sandbox, a real LiveCodeBench problem. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const fromSource = import.meta.url.endsWith('.ts');
const mainPath = fileURLToPath(new URL(fromSource ? '../main.ts' : '../main.js', import.meta.url));
const runCli = (args: string[], input?: string) =>
  spawnSync(process.execPath, [...(fromSource ? ['--import', 'tsx'] : []), mainPath, 'judge', ...args], { encoding: 'utf8', input, timeout: 60_000 });

const dir = mkdtempSync(join(tmpdir(), 'cir-judge-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('a correct program passes every test, hidden ones included; exit code 0', () => {
  const program = join(dir, 'short_sort.py');
  writeFileSync(program, 't = int(input())\nfor _ in range(t):\n    s = input()\n    print("YES" if sum(a != b for a, b in zip(s, "abc")) <= 2 else "NO")\n');
  const result = runCli(['--benchmark', 'livecodebench', '--problem', '1873_A', program]);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^1873_A: PASSED \(5 of 5 tests\)/);
  assert.equal((result.stdout.match(/hidden +passed/g) ?? []).length, 4);
});

test('--json gives the failed test index and every outcome; public-only problems carry the note', () => {
  const result = runCli(['--benchmark', 'livecodebench', '--problem', 'abc301_a', '--json', '-'], 'print("T")\n');
  assert.equal(result.status, 1, result.stderr);
  const verdict = JSON.parse(result.stdout) as { passed: boolean; failed_test_index: number; tests_complete: boolean; note: string; tests: { outcome: string }[] };
  assert.equal(verdict.passed, false);
  assert.equal(verdict.tests_complete, false);
  assert.match(verdict.note, /public tests only/);
  assert.equal(verdict.tests.length, 3);
  assert.equal(verdict.failed_test_index, verdict.tests.findIndex((t) => t.outcome !== 'passed'));
  assert.ok(verdict.tests.some((t) => t.outcome === 'passed') && verdict.tests.some((t) => t.outcome === 'wrong_answer'));
});

test('bad input: an unknown problem and a missing program are named, exit code 2', () => {
  const unknown = runCli(['--benchmark', 'livecodebench', '--problem', 'abc301', '-'], '');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /abc301: no such problem \(did you mean abc301_a/);
  const missing = runCli(['--benchmark', 'livecodebench', '--problem', 'abc301_a', join(dir, 'nope.py')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /nope\.py: cannot read the program/);
  const usage = runCli(['--problem', 'abc301_a', 'x.py']);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--benchmark PATH \(or --hub\) is required/);
});
