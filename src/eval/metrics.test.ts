import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ExecutionOutcome } from '../core/execution.js';
import type { Trajectory } from '../core/trajectory.js';
import {
  avgAtK,
  bootstrapMean,
  breakdown,
  errorFeedback,
  histogram,
  majAtK,
  pairedBootstrap,
  passAtK,
  reportedKs,
  trajectoryStats,
  type GradedSample,
  type TrajectoryStats,
} from './metrics.js';

function binomial(n: number, k: number): bigint {
  if (k < 0 || k > n) return 0n;
  let result = 1n;
  for (let i = 1; i <= k; i++) result = (result * BigInt(n - k + i)) / BigInt(i);
  return result;
}

test('pass@k matches 1 - C(n-c,k)/C(n,k) computed exactly', () => {
  for (let n = 1; n <= 24; n++) {
    for (let c = 0; c <= n; c++) {
      for (let k = 1; k <= n; k++) {
        const exact = 1 - Number(binomial(n - c, k)) / Number(binomial(n, k));
        assert.ok(Math.abs(passAtK(n, c, k) - exact) < 1e-12, `n=${n} c=${c} k=${k}`);
      }
    }
  }
});

test('pass@k hand-computed values and edge cases', () => {
  assert.equal(passAtK(16, 4, 1), 0.25);
  assert.ok(Math.abs(passAtK(5, 2, 2) - 0.7) < 1e-12); // 1 - 3/10
  assert.ok(Math.abs(passAtK(10, 1, 5) - 0.5) < 1e-12); // 1 - C(9,5)/C(10,5) = 1 - 126/252
  assert.equal(passAtK(8, 0, 8), 0);
  assert.equal(passAtK(8, 8, 1), 1);
  assert.equal(passAtK(8, 3, 6), 1); // n - c < k: every k-subset holds a correct sample
  assert.throws(() => passAtK(4, 5, 1), RangeError);
  assert.throws(() => passAtK(4, 1, 5), RangeError);
});

test('pass@k is monotone in k and pass@1 equals avg', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 0, max: 64 }), (n, cRaw) => {
      const c = cRaw % (n + 1);
      let previous = -1;
      for (let k = 1; k <= n; k++) {
        const value = passAtK(n, c, k);
        assert.ok(value >= previous - 1e-12);
        previous = value;
      }
      const correct = Array.from({ length: n }, (_, i) => i < c);
      assert.ok(Math.abs(passAtK(n, c, 1) - avgAtK(correct)) < 1e-12);
    }),
  );
});

test('maj@k votes over the first k samples, earliest wins ties, null answers never vote', () => {
  const samples = [
    { sample: 0, answer: '3', correct: true },
    { sample: 1, answer: '5', correct: false },
    { sample: 2, answer: '5', correct: false },
    { sample: 3, answer: null, correct: false },
    { sample: 4, answer: '3', correct: true },
    { sample: 5, answer: '3', correct: true },
  ];
  assert.equal(majAtK(samples, 1), true);
  assert.equal(majAtK(samples, 2), true); // tie 1–1, '3' came first
  assert.equal(majAtK(samples, 3), false); // '5' leads 2–1
  assert.equal(majAtK(samples, 4), false);
  assert.equal(majAtK(samples, 6), true); // '3' leads 3–2
  assert.equal(majAtK([{ sample: 0, answer: null, correct: false }], 1), false);
  // order of the input does not matter, sample index does
  assert.equal(majAtK([...samples].reverse(), 3), false);
});

test('bootstrap is seeded, brackets the mean, and collapses on constant data', () => {
  const values = [1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1];
  const a = bootstrapMean(values, { seed: 7, resamples: 1000 });
  const b = bootstrapMean(values, { seed: 7, resamples: 1000 });
  assert.deepEqual(a, b);
  assert.equal(a.estimate, 10 / 15);
  assert.ok(a.low < a.estimate && a.estimate < a.high);
  // the normal approximation's half width is 1.96*sqrt(p(1-p)/n) ≈ 0.239; the percentile interval is close
  assert.ok(Math.abs((a.high - a.low) / 2 - 0.239) < 0.05, `half width ${(a.high - a.low) / 2}`);
  const constant = bootstrapMean([0.5, 0.5, 0.5], { seed: 3 });
  assert.equal(constant.low, 0.5);
  assert.equal(constant.high, 0.5);
});

test('paired bootstrap: no difference gives p = 1; a consistent gain gives a positive interval', () => {
  const a = [0, 1, 0, 1, 1, 0, 0, 1];
  const same = pairedBootstrap(a, a, { seed: 2 });
  assert.equal(same.estimate, 0);
  assert.equal(same.pValue, 1);
  const better = a.map(() => 1);
  const gain = pairedBootstrap(a, better, { seed: 2, resamples: 500 });
  assert.equal(gain.estimate, 0.5);
  assert.ok(gain.low > 0 && gain.high <= 1);
  assert.ok(gain.pValue < 0.05);
  assert.throws(() => pairedBootstrap([1], [1, 0]), RangeError);
});

function outcome(kind: 'ok' | 'error' | 'timeout'): ExecutionOutcome {
  if (kind === 'ok') return { kind, stdout: '1', stderr: '', durationMs: 1 };
  if (kind === 'timeout') return { kind, stdout: '', stderr: '', durationMs: 5000, limitMs: 5000 };
  return { kind, errorType: 'NameError', message: 'x', lastLine: 'NameError: x', stdout: '', stderr: '', durationMs: 1 };
}

test('trajectory stats count tokens by origin, outcomes, and repair after failure', () => {
  const trajectory: Trajectory = {
    segments: [
      { origin: 'prompt', tokens: [1, 2, 3], text: 'p' },
      { origin: 'policy', tokens: [4, 5], text: 'a' },
      { origin: 'tool', tokens: [6], text: 'o' },
      { origin: 'policy', tokens: [7, 8, 9], text: 'b' },
      { origin: 'tool', tokens: [10, 11], text: 'o' },
      { origin: 'policy', tokens: [12], text: 'c' },
    ],
    toolCalls: [
      { segmentIndex: 1, code: 'x', outcome: outcome('error'), feedback: 'NameError' },
      { segmentIndex: 3, code: 'y', outcome: outcome('ok'), feedback: '1' },
    ],
    status: 'finished',
    infraFailure: false,
  };
  const stats = trajectoryStats(trajectory);
  assert.deepEqual(stats, {
    policyTokens: 6,
    toolTokens: 3,
    promptTokens: 3,
    toolCalls: 2,
    outcomes: { error: 1, ok: 1 },
    status: 'finished',
    hadFailure: true,
    recoveredFromFailure: true,
    infraFailure: false,
  });
  const okThenFail = trajectoryStats({ ...trajectory, toolCalls: [...trajectory.toolCalls].reverse() });
  assert.equal(okThenFail.recoveredFromFailure, false);
  assert.equal(okThenFail.hadFailure, true);
});

function graded(problemId: string, correct: boolean, stats: Partial<TrajectoryStats>, extra: Partial<GradedSample> = {}): GradedSample {
  return {
    benchmark: 'b',
    problemId,
    sample: 0,
    correct,
    answer: null,
    stats: {
      policyTokens: 10,
      toolTokens: 0,
      promptTokens: 5,
      toolCalls: 0,
      outcomes: {},
      status: 'finished',
      hadFailure: false,
      recoveredFromFailure: false,
      infraFailure: false,
      ...stats,
    },
    ...extra,
  };
}

test('error feedback splits trajectories by execution history', () => {
  const samples = [
    graded('1', true, {}),
    graded('2', false, {}),
    graded('3', true, { toolCalls: 1 }),
    graded('4', true, { toolCalls: 2, hadFailure: true, recoveredFromFailure: true }),
    graded('5', false, { toolCalls: 1, hadFailure: true }),
    graded('6', false, { toolCalls: 3, hadFailure: true }),
  ];
  const feedback = errorFeedback(samples);
  assert.deepEqual(feedback.noToolCalls, { count: 2, correct: 1, accuracy: 0.5 });
  assert.deepEqual(feedback.noFailures, { count: 1, correct: 1, accuracy: 1 });
  assert.deepEqual(feedback.withFailure, { count: 3, correct: 1, accuracy: 1 / 3 });
  assert.deepEqual(feedback.recovered, { count: 1, correct: 1, accuracy: 1 });
});

test('breakdown averages per-problem accuracy within each subject', () => {
  const samples = [
    { ...graded('1', true, {}, { subject: 'Algebra' }), sample: 0 },
    { ...graded('1', false, {}, { subject: 'Algebra' }), sample: 1 },
    { ...graded('2', true, {}, { subject: 'Algebra' }), sample: 0 },
    { ...graded('2', true, {}, { subject: 'Algebra' }), sample: 1 },
    { ...graded('3', false, {}, { subject: 'Geometry' }), sample: 0 },
    graded('4', true, {}),
  ];
  assert.deepEqual(breakdown(samples, 'subject'), [
    { key: 'Algebra', problems: 2, samples: 4, accuracy: 0.75 },
    { key: 'Geometry', problems: 1, samples: 1, accuracy: 0 },
  ]);
});

test('reported ks and histogram', () => {
  assert.deepEqual(reportedKs(16), [1, 2, 4, 8, 16]);
  assert.deepEqual(reportedKs(12), [1, 2, 4, 8, 12]);
  assert.deepEqual(reportedKs(1), [1]);
  const h = histogram([0, 1, 2, 3, 4, 10], 5);
  assert.deepEqual(h.counts, [2, 2, 1, 0, 1]);
  assert.equal(h.edges.length, 6);
  assert.deepEqual(histogram([3, 3], 4), { edges: [3, 3], counts: [2] });
});
