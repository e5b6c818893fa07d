import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { compareRuns, comparisonHtml, comparisonMarkdown } from './compare.js';
import { writeFixtureRun } from './testing/fixtures.js';

test('compare gives each run its pass@k curve, efficiency per correct answer, error feedback and per-subject paired differences', () => {
  // Problem p has p of its 4 samples right in run A (c = 0, 1, 2, 3); every sample is right in run B.
  const a = writeFixtureRun({ problems: 4, samples: 4, isCorrect: (p, s) => s < p });
  const b = writeFixtureRun({ problems: 4, samples: 4, isCorrect: () => true });
  try {
    const comparison = compareRuns([a, b], { labels: ['A', 'B'], resamples: 200 });
    const [runA, runB] = comparison.benchmarks[0]!.runs;
    // Unbiased pass@k = 1 - C(n-c, k)/C(n, k), averaged over problems, by hand:
    // k=1: (0 + 1/4 + 2/4 + 3/4)/4; k=2: (0 + 1/2 + 5/6 + 1)/4; k=4: 3/4 (three problems have a right sample).
    assert.deepEqual(Object.keys(runA!.passAtK), ['1', '2', '4']);
    assert.ok(Math.abs(runA!.passAtK['1']! - 0.375) < 1e-12);
    assert.ok(Math.abs(runA!.passAtK['2']! - (0 + 0.5 + 5 / 6 + 1) / 4) < 1e-12);
    assert.equal(runA!.passAtK['4'], 0.75);
    assert.deepEqual(runB!.passAtK, { '1': 1, '2': 1, '4': 1 });
    // 16 samples of 7 policy tokens and 1 tool call each, 6 right answers in A, 16 in B.
    assert.ok(Math.abs(runA!.perCorrect.policyTokens! - (16 * 7) / 6) < 1e-9);
    assert.ok(Math.abs(runA!.perCorrect.toolCalls! - 16 / 6) < 1e-9);
    assert.equal(runB!.perCorrect.policyTokens, 7);
    // Odd samples' code fails (the fixture), so half the samples saw a failure.
    assert.equal(runA!.errorFeedback.withFailure.count, 8);
    assert.equal(runA!.errorFeedback.noFailures.count, 8);
    // Even problems are Algebra: A solves 0/4 of p=0 and 2/4 of p=2 (mean 0.25); B solves all.
    const algebra = comparison.benchmarks[0]!.bySubject.find((s) => s.subject === 'Algebra')!;
    assert.deepEqual(algebra.accuracy, [0.25, 1]);
    assert.equal(algebra.differences[0], null);
    assert.equal(algebra.differences[1]?.pairs, 2);
    assert.ok(Math.abs(algebra.differences[1]!.estimate - 0.75) < 1e-12);
    const markdown = comparisonMarkdown(comparison);
    assert.match(markdown, /\| A \| 37\.5 \| 58\.3 \| 75\.0 \|/);
    // Subject names come from data files: escaped, never markup.
    assert.doesNotMatch(markdown, /<script>/);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});

test('the HTML comparison overlays every run\'s pass@k curve and escapes names from the data', () => {
  const a = writeFixtureRun({ problems: 2, samples: 4, isCorrect: (p, s) => s <= p });
  const b = writeFixtureRun({ problems: 2, samples: 4, isCorrect: () => true });
  try {
    const html = comparisonHtml(compareRuns([a, b], { labels: ['base <b>', 'trained'], resamples: 50 }));
    assert.match(html, /toy: pass@k/);
    // one polyline per run in the pass@k chart, and the run names as text
    assert.equal((html.match(/<polyline/g) ?? []).length, 2);
    assert.match(html, /base &lt;b&gt;/);
    assert.doesNotMatch(html, /<b>/);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});
