import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchGrader, buildBenchMix, loadHeldOut, loadLabelledCases, measureHeldOut, parseLabelledCases } from './bench.js';

const dir = mkdtempSync(join(tmpdir(), 'grader-bench-'));

test('labelled files: sections, comments, line breaks; a missing file is reported absent, a malformed line is an error naming it', () => {
  const path = join(dir, 'free-text-cases.txt');
  writeFileSync(path, '## comment\n# numbers\nY 1000 ≡ it is 1,000\nN 5 ≡ first 5,⏎then \\boxed{6}\n');
  const { cases, absent } = loadLabelledCases([path, join(dir, 'missing.txt')]);
  assert.deepEqual(absent, [join(dir, 'missing.txt')]);
  assert.deepEqual(cases[1], { section: 'numbers', gold: '5', predicted: 'first 5,\nthen \\boxed{6}', expected: false, freeText: true });
  assert.throws(() => parseLabelledCases('# s\nmaybe 1 ≡ 1\n', 'x.txt'), (error: Error & { input?: string }) => /line 2 is not/.test(error.message) && error.input === 'x.txt');
});

test('the mix holds bare answers and free-text responses up to the length asked, then the labelled cases', () => {
  const labelled = parseLabelledCases('# t\nY 3 ≡ so \\boxed{3}\n', 'free-text-cases.txt');
  const { cases, labelled: count } = buildBenchMix('../shared/datasets', { maxResponseChars: 1500, labelled });
  assert.equal(count, 1);
  const responses = cases.filter((c) => c.kind === 'response');
  assert.ok(responses.length > 1000);
  assert.ok(responses.every((c) => c.predicted.length < 1500 + 400));
  assert.ok(Math.max(...responses.map((c) => c.predicted.length)) > 1000);
  assert.equal(cases[cases.length - 1]?.kind, 'free-text');
  const report = benchGrader(cases.slice(-40), 1, undefined, 1);
  assert.equal(report.comparisons, 40);
  assert.equal(report.labelled_self_check, 1);
});

test('held-out agreement is measured from the file, per source, with bad lines named', () => {
  const path = join(dir, 'held-out.jsonl');
  const rows = [
    { gold: '1000.99', pred: 'it is 1,000.99€', expected: true, source: 'a.py::t1' },
    { gold: '$9$', pred: 'Answer \\[ 9 \\]', expected: true, source: 'a.py::t2' },
    { gold: '5', pred: 'so \\boxed{5}', expected: false, source: 'b.py::t3' },
  ];
  writeFileSync(path, rows.map((row) => JSON.stringify(row)).join('\n'));
  const report = measureHeldOut(loadHeldOut(path), path);
  assert.equal(report.cases, 3);
  assert.equal(report.agreement, 0.6667);
  assert.deepEqual(report.by_source, { 'a.py': { cases: 2, agreement: 1 }, 'b.py': { cases: 1, agreement: 0 } });
  assert.equal(report.misses.length, 1);
  writeFileSync(path, '{"gold":"1"}\n');
  assert.throws(() => loadHeldOut(path), /line 1 needs/);
  assert.throws(() => loadHeldOut(join(dir, 'none.jsonl')), /not found/);
});
