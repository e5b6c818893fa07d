/**
 * `--sandbox local` and `--sandbox fusion:URL` give the same outcomes, timeouts and feedback texts: the
 * same snippets through the local bubblewrap sandbox and through the SandboxFusion client against a
 * local service that runs Python as SandboxFusion's runner does.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { formatFeedback } from '../interpreter/index.js';
import { startFakeSandboxFusion } from '../interpreter/testing/fake-sandbox-fusion.js';
import { openExecutor } from './factory.js';
import { parseSandboxSpec } from './spec.js';

const service = await startFakeSandboxFusion();
const local = await openExecutor(parseSandboxSpec('local'), { concurrency: 2 });
const fusion = await openExecutor(parseSandboxSpec(`fusion:${service.url}`), { concurrency: 2 });
after(async () => {
  await Promise.all([local.close(), fusion.close(), service.close()]);
});

const SNIPPETS: Record<string, string> = {
  prints: 'print(sum(range(10)))',
  sympy: 'import sympy as sp\nx = sp.symbols("x")\nprint(sp.solve(x**2 - 2, x))',
  raises: 'print("before")\nraise ValueError("bad value")',
  'divides by zero': 'x = 1 / 0',
  'syntax error': 'def f(:\n  pass',
  'name error': 'print(undefined_name)',
  'reads stdin': 'import sys\nprint(sys.stdin.read().upper())',
  'runs too long': 'while True:\n  pass',
  'prints nothing': 'x = 2',
};

test('the same outcome kind, error and feedback text either way', async () => {
  for (const [label, code] of Object.entries(SNIPPETS)) {
    // A fresh process imports sympy in seconds on a loaded machine (the local sandbox has it preloaded):
    // a generous limit everywhere but for the snippet that must hit it.
    const options = { timeoutMs: label === 'runs too long' ? 1000 : 30_000, ...(label === 'reads stdin' ? { stdin: 'abc' } : {}) };
    const [mine, theirs] = await Promise.all([local.execute(code, options), fusion.execute(code, options)]);
    assert.equal(theirs.kind, mine.kind, `${label}: ${JSON.stringify(mine)} vs ${JSON.stringify(theirs)}`);
    assert.equal(formatFeedback(theirs), formatFeedback(mine), label);
    assert.equal(formatFeedback(theirs, { stdoutOnError: true }), formatFeedback(mine, { stdoutOnError: true }), label);
    if (mine.kind === 'error' && theirs.kind === 'error') {
      assert.equal(theirs.errorType, mine.errorType, label);
      assert.equal(theirs.lastLine, mine.lastLine, label);
    }
    if (mine.kind === 'timeout' && theirs.kind === 'timeout') assert.equal(theirs.limitMs, mine.limitMs, label);
  }
  assert.equal(service.requests, Object.keys(SNIPPETS).length);
});

test('sessions need the local sandbox, and say so', async () => {
  await assert.rejects(fusion.openSession(), /sessions need the local sandbox/);
});
