import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readEventFile } from '../tracking/testing/event-reader.js';
import type { EvalResult } from './evaluate.js';
import { tensorboardTracker } from './tracking.js';

test('train steps and held-out evaluations become TensorBoard scalars at their steps', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cir-train-tb-'));
  try {
    const tracker = tensorboardTracker(dir);
    const figure = { accuracy: 0.25, ci95: [0.1, 0.4] as [number, number], correct: 5, total: 20 };
    const result = { ...figure, tools: true, toolBudget: 5, samples: 20, byFamily: { gcd: { ...figure, codeHelps: true } }, codeHelps: figure, text: figure, toolCallRate: 0.5, toolTokenShare: 0.1, executionErrorRate: 0, infraFailures: 0, seconds: 2 } as unknown as EvalResult;
    tracker.onEvent({ type: 'evaluation', record: { kind: 'eval', step: 0, label: 'start', result } });
    tracker.onEvent({
      type: 'step',
      totalSteps: 2,
      record: { kind: 'step', step: 1, budget: 2, reward: -0.5, trainAccuracy: 0.25, toolCallRate: 0.75, toolTokenShare: 0.2, executionErrorRate: 0.1, timings: { rolloutMs: 100, updateMs: 50, evalMs: 0, stepMs: 150 }, metrics: { 'loss/policy': 0.125 } },
    });
    tracker.onEvent({ type: 'rollout-progress', step: 2, done: 1, total: 4 });
    tracker.close();
    const [file] = readdirSync(dir);
    const events = readEventFile(join(dir, file!)).slice(1);
    assert.equal(events.length, 2);
    const evalTags = new Map(events[0]!.values.map((v) => [v.tag, v.simpleValue]));
    assert.equal(events[0]!.step, 0);
    assert.equal(evalTags.get('eval/tools/accuracy'), 0.25);
    assert.equal(evalTags.get('eval/tools/codeHelps/accuracy'), 0.25);
    assert.equal([...evalTags.keys()].some((tag) => tag.includes('byFamily')), false);
    const stepTags = new Map(events[1]!.values.map((v) => [v.tag, v.simpleValue]));
    assert.equal(events[1]!.step, 1);
    assert.equal(stepTags.get('train/reward'), -0.5);
    assert.equal(stepTags.get('train/budget'), 2);
    assert.equal(stepTags.get('train/metrics/loss/policy'), 0.125);
    assert.equal(stepTags.get('train/timings/stepMs'), 150);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cir train --tensorboard leaves event files whose scalars read back with their steps', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cir-train-tb-cli-'));
  try {
    const main = fileURLToPath(new URL('../cli/main.js', import.meta.url));
    const args = ['train', '--steps', '2', '--prompts', '2', '--group', '2', '--max-response-tokens', '32', '--eval-tasks', '4', '--no-text-eval', '--threads', '1', '--quiet'];
    const run = spawnSync(process.execPath, [main, ...args, '--tensorboard', join(dir, 'tb'), '--out', join(dir, 'run')], { encoding: 'utf8', timeout: 240_000 });
    assert.equal(run.status, 0, run.stderr);
    const files = readdirSync(join(dir, 'tb'));
    assert.equal(files.length, 1);
    const events = readEventFile(join(dir, 'tb', files[0]!)).slice(1);
    const at = (tag: string) => events.filter((e) => e.values.some((v) => v.tag === tag)).map((e) => e.step);
    assert.deepEqual(at('train/reward'), [1, 2]);
    assert.deepEqual(at('eval/tools/accuracy'), [0, 2]);
    // Where the scalars go is no training setting: the run can stand in as a baseline for one made without it.
    const config = JSON.parse(readFileSync(join(dir, 'run', 'config.json'), 'utf8')) as { recipe: { overrides: Record<string, unknown> } };
    assert.equal(config.recipe.overrides['tensorboard'], undefined);
    assert.equal(config.recipe.overrides['steps'], '2');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
