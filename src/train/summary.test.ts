import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ablationRow, ablationTable, ABLATIONS, finalBudget, findAblation } from './ablation.js';
import { defaultTrainConfig, validateTrainConfig } from './config.js';
import type { EvalResult } from './evaluate.js';
import { renderHtml, renderMarkdown } from './report.js';
import { configDifferences } from '../core/config-diff.js';
import type { EvaluationRecord, StepRecord } from './run-store.js';
import { buildSummary } from './summary.js';

function result(accuracy: number, ci95: [number, number], tools: boolean): EvalResult {
  const figure = { accuracy, ci95, n: 100 };
  return {
    ...figure,
    tools,
    toolBudget: 5,
    samples: 1,
    byFamily: { multiply: { ...figure, codeHelps: true, toolCallRate: 0.5 }, parity: { ...figure, codeHelps: false, toolCallRate: 0 } },
    codeHelps: figure,
    text: figure,
    toolCallRate: 0.25,
    toolTokenShare: 0.1,
    executionErrorRate: 0,
    infraFailures: 0,
    perTask: [],
    seconds: 1,
  };
}

const evaluation = (step: number, label: EvaluationRecord['label'], accuracy: number, ci95: [number, number], tools = true): EvaluationRecord => ({ kind: 'eval', step, label, result: result(accuracy, ci95, tools) });

function stepRecord(step: number, budget: number): StepRecord {
  return {
    kind: 'step',
    step,
    budget,
    reward: -0.5 + step / 10,
    trainAccuracy: 0.25 + step / 20,
    toolCallRate: 0.5,
    toolTokenShare: 0.2,
    executionErrorRate: 0.1,
    timings: { rolloutMs: 1, updateMs: 1, evalMs: 0, stepMs: 2 },
    metrics: { 'rollout/responseTokensMean': 100 + 10 * step, 'policy/entropy': 1 - step / 10, 'policy/clipFractionHigh': 0.01 * step, 'policy/clipFractionLow': 0 },
  };
}

test('summary.json has start/end accuracy with intervals, minutes, and the significance of the gain', () => {
  const config = defaultTrainConfig(3);
  const evaluations = [
    evaluation(0, 'start', 0.4, [0.3, 0.5]),
    evaluation(0, 'start', 0.35, [0.25, 0.45], false),
    evaluation(3, 'end', 0.7, [0.6, 0.8]),
    evaluation(3, 'end', 0.36, [0.26, 0.46], false),
  ];
  const steps = [stepRecord(1, 2), stepRecord(2, 3), stepRecord(3, 4)];
  const summary = buildSummary(config, evaluations, steps, 90_000, 'embedded');
  assert.equal(summary.start.accuracy, 0.4);
  assert.deepEqual(summary.start.ci95, [0.3, 0.5]);
  assert.equal(summary.end.accuracy, 0.7);
  assert.equal(summary.minutes, 1.5);
  assert.ok(Math.abs(summary.gain - 0.3) < 1e-12);
  assert.equal(summary.significant, true);
  assert.equal(summary.withoutTools?.end.accuracy, 0.36);
  assert.deepEqual(Object.keys(summary.end.byFamily), ['multiply', 'parity']);
  assert.deepEqual(summary.curve.map((p) => p.step), [0, 3]);
  // Overlapping intervals are not significant, whatever the gain.
  const overlapping = buildSummary(config, [evaluation(0, 'start', 0.4, [0.3, 0.5]), evaluation(3, 'end', 0.55, [0.45, 0.65])], steps, 1, 'embedded');
  assert.equal(overlapping.significant, false);
  assert.throws(() => buildSummary(config, [evaluation(0, 'start', 0.4, [0.3, 0.5])], steps, 1, 'embedded'), /no start or end evaluation/);

  const markdown = renderMarkdown(summary, steps);
  assert.match(markdown, /40\.0% \[30\.0%, 50\.0%\] → 70\.0% \[60\.0%, 80\.0%\] \(\+30\.0 points; the 95% intervals do not overlap\)/);
  assert.match(markdown, /\| multiply \| yes \|/);
  const html = renderHtml(summary, steps);
  // Learning curves, response length, entropy and clipping, by family, code vs text.
  assert.equal(html.match(/<svg /g)?.length, 5);
  assert.match(html, /Response length/);
  assert.match(html, /Entropy and clipping/);
  // The dynamics table: first and last value of each metric, and where the budget switched.
  assert.match(markdown, /\| response tokens per trajectory \| 110\.000 \(step 1\) \| 130\.000 \(step 3\) \|/);
  assert.match(markdown, /\| entropy \(nats\/token\) \| 0\.900 \(step 1\) \| 0\.700 \(step 3\) \|/);
  assert.match(markdown, /K 2→3 after step 1; K 3→4 after step 2/);
  // Budget changes are marked on the learning curve.
  assert.match(html, /K 2→3/);
  assert.match(html, /K 3→4/);
});

test('each ablation changes exactly the one setting it compares', () => {
  const base = defaultTrainConfig(30);
  const expected: Record<string, string> = {
    masking: 'rl.maskToolOutput',
    budget: 'rl.budget',
    interpreter: 'tools',
    'clip-higher': 'rl.loss.clipHigh',
    kl: 'rl.loss.klCoef',
    entropy: 'rl.loss.entropyCoef',
    boundary: 'boundary',
  };
  for (const [name, ablation] of Object.entries(ABLATIONS)) {
    const [a, b] = ablation.arms.map((arm) => arm.apply(base));
    const paths = configDifferences(a, b).map((difference) => difference.path);
    assert.ok(paths.length > 0, name);
    for (const path of paths) assert.ok(path === expected[name] || path.startsWith(`${expected[name]}.`), `${name}: ${path}`);
    for (const config of [a!, b!]) {
      validateTrainConfig(config);
      assert.equal(config.rl.seed, base.rl.seed);
    }
  }
  const fixed = findAblation('budget').arms[1].apply(base);
  assert.deepEqual(fixed.rl.budget, { kind: 'fixed', budget: 4 });
  assert.equal(finalBudget(base), 4);
  assert.throws(() => findAblation('nope'), /known: masking, budget, interpreter, clip-higher, kl, entropy, boundary/);
  // Applying an arm never mutates the base configuration.
  assert.deepEqual(configDifferences(base, defaultTrainConfig(30)), []);
});

test('the ablation table lists each arm with its intervals', () => {
  const config = defaultTrainConfig(3);
  const summary = buildSummary(config, [evaluation(0, 'start', 0.4, [0.3, 0.5]), evaluation(3, 'end', 0.7, [0.6, 0.8])], [stepRecord(1, 2)], 60_000, 'embedded');
  const table = ablationTable([ablationRow(findAblation('masking').arms[0], summary)]);
  assert.match(table, /\| masked \| 40\.0 \[30\.0, 50\.0\] \| 70\.0 \[60\.0, 80\.0\] \|/);
});

test('configuration errors name the field', () => {
  const bad = (change: (config: ReturnType<typeof defaultTrainConfig>) => void, field: RegExp) => {
    const config = defaultTrainConfig(10);
    change(config);
    assert.throws(() => validateTrainConfig(config), field);
  };
  bad((c) => (c.eval.tasks = 0), /eval\.tasks/);
  bad((c) => (c.trainPoolSize = 4), /trainPoolSize/);
  bad((c) => (c.families = ['multiply', 'nope']), /unknown task family/);
  bad((c) => (c.eval.samples = 3), /greedy evaluation/);
  bad((c) => (c.rl.optimizer.learningRate = -1), /learningRate/);
});
