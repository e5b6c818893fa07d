import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AbortedError, InputError } from '../core/errors.js';
import { formatFeedback } from '../interpreter/index.js';
import { charTokenizer } from '../model/index.js';
import { fixedBudgetSchedule, paperBudgetSchedule } from '../rl/index.js';
import { renderPrompt, type Task } from '../tasks/index.js';
import { runTraining } from './loop.js';
import { heldOutTasks, promptsForStep, trainingPool } from './problems.js';
import type { StepRecord } from './run-store.js';
import { ALWAYS_CODE, FakeExecutor, ScriptedPolicy, tinyConfig } from './testing/support.js';

const root = mkdtempSync(join(tmpdir(), 'cir-train-loop-'));
after(() => rmSync(root, { recursive: true, force: true }));

function deps(policy: ScriptedPolicy, executor = new FakeExecutor()) {
  return { backend: policy, tokenizer: charTokenizer, executor, formatFeedback: (outcome: Parameters<typeof formatFeedback>[0]) => formatFeedback(outcome) };
}

function steps(dir: string): StepRecord[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as StepRecord)
    .filter((line) => line.kind === 'step');
}

test('wiring: each step rolls out prompts × group, trains mini-batches × epochs, logs metrics, writes summary and report', async () => {
  const out = join(root, 'wiring');
  const policy = new ScriptedPolicy(ALWAYS_CODE, join(out, 'checkpoints'));
  const config = tinyConfig(2, (c) => {
    c.rl.miniBatchesPerStep = 3;
    c.rl.epochsPerStep = 2;
    c.rl.budget = fixedBudgetSchedule(1);
  });
  const result = await runTraining(config, deps(policy), { out });
  assert.equal(result.completedSteps, 2);
  // 2 steps × 3 mini-batches × 2 epochs; each mini-batch holds whole groups (one prompt of 2 samples).
  assert.equal(policy.optimizerSteps, 12);
  assert.equal(policy.trained.length, 12);
  for (const call of policy.trained) assert.equal(call.data.length, 2);
  const records = steps(out);
  assert.deepEqual(records.map((r) => r.step), [1, 2]);
  for (const record of records) {
    assert.equal(record.metrics['rollout/trajectories'], 6);
    assert.equal(record.toolCallRate, 1);
    assert.ok(record.toolTokenShare > 0 && record.toolTokenShare < 1);
    assert.equal(record.executionErrorRate, 0);
    assert.equal(record.metrics['update/optimizerSteps'], 6);
    assert.ok(record.timings.stepMs >= record.timings.rolloutMs);
  }
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Record<string, { accuracy: number; ci95: number[] }> & { minutes: number };
  for (const key of ['start', 'end'] as const) {
    assert.equal(summary[key]!.ci95.length, 2);
    assert.ok(summary[key]!.ci95[0]! <= summary[key]!.accuracy && summary[key]!.accuracy <= summary[key]!.ci95[1]!);
  }
  assert.equal(typeof summary.minutes, 'number');
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  // Learning curves, response length, entropy and clipping, by family, code vs text.
  assert.equal(html.match(/<svg /g)?.length, 5);
  assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /## Training dynamics/);
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/);
  assert.ok(existsSync(join(out, 'report.md')));
  assert.ok(existsSync(join(out, 'config.json')));
});

test('the reward is +1 exactly where the boxed answer matches the reference, in training and held-out figures', async () => {
  const out = join(root, 'reward');
  const config = tinyConfig(3, (c) => {
    c.rl.budget = fixedBudgetSchedule(1);
    c.rl.promptsPerStep = 6;
    c.eval = { ...c.eval, tasks: 20 };
  });
  const pool = trainingPool(config);
  const heldOut = heldOutTasks(config);
  const answers = new Map([...pool, ...heldOut].map((task) => [renderPrompt(task), task.answer]));
  // Right on prompts of even length, wrong (a number no task has as its answer) on the others.
  const right = (problem: string) => problem.length % 2 === 0;
  const script = (context: string) => {
    const prompt = [...answers.keys()].find((key) => context.startsWith(key))!;
    const answer = answers.get(prompt)!;
    return `\\boxed{${right(prompt) ? answer : '-999999'}}`;
  };
  const policy = new ScriptedPolicy(script, join(out, 'checkpoints'));
  await runTraining(config, deps(policy), { out });
  const share = (tasks: readonly Task[]) => tasks.filter((task) => right(renderPrompt(task))).length / tasks.length;
  const records = steps(out);
  assert.equal(records.length, 3);
  const shares = records.map((record, index) => {
    const expected = share(promptsForStep(pool, config.rl.seed, index, config.rl.promptsPerStep));
    assert.equal(record.trainAccuracy, expected, `step ${record.step}`);
    assert.ok(Math.abs(record.reward - (2 * expected - 1)) < 1e-12, `step ${record.step}: reward ${record.reward}`);
    return expected;
  });
  assert.ok(shares.some((value) => value > 0 && value < 1), 'some step mixes right and wrong answers');
  const evaluations = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { kind: string; result?: { accuracy: number } })
    .filter((line) => line.kind === 'eval');
  assert.ok(evaluations.length >= 2);
  const heldOutShare = share(heldOut);
  assert.ok(heldOutShare > 0 && heldOutShare < 1);
  for (const evaluation of evaluations) assert.equal(evaluation.result!.accuracy, heldOutShare);
});

test('budget schedule: step s runs with budget K(s); a policy that always writes code makes exactly K calls', async () => {
  const out = join(root, 'budget');
  const policy = new ScriptedPolicy(ALWAYS_CODE, join(out, 'checkpoints'));
  const executor = new FakeExecutor();
  const config = tinyConfig(3, (c) => {
    c.rl.budget = paperBudgetSchedule(3);
    c.rl.rollout.maxResponseTokens = 200;
    c.eval.tasks = 1;
    c.eval.toolBudget = 0;
  });
  await runTraining(config, deps(policy, executor), { out });
  const records = steps(out);
  assert.deepEqual(records.map((r) => r.budget), [2, 3, 4]);
  assert.deepEqual(records.map((r) => r.metrics['rollout/toolCallsMean']), [2, 3, 4]);
  // 6 trajectories per step; evaluations have budget 0 and run nothing.
  assert.equal(executor.executions, 6 * (2 + 3 + 4));
});

test('infrastructure failures stay out of the gradient and are counted', async () => {
  const out = join(root, 'infra');
  // Samples with an even seed write code that the sandbox fails to run (after the engine's retries).
  const script = (_context: string, seed: number | undefined) => ((seed ?? 0) % 2 === 0 ? '```python\nprint("infra")\n```\n\\boxed{7}' : '\\boxed{7}');
  const policy = new ScriptedPolicy(script, join(out, 'checkpoints'));
  const executor = new FakeExecutor((code) => (code.includes('infra') ? { kind: 'infra_error', reason: 'sandbox down', durationMs: 0 } : { kind: 'ok', stdout: '7', stderr: '', durationMs: 1 }));
  const config = tinyConfig(1, (c) => {
    c.rl.groupSize = 4;
    c.rl.miniBatchesPerStep = 1;
    c.eval.tasks = 1;
    c.eval.toolBudget = 0;
  });
  await runTraining(config, deps(policy, executor), { out });
  const [record] = steps(out);
  const excluded = record!.metrics['data/excludedInfraFailure']!;
  assert.ok(excluded > 0 && excluded < 12, `excluded ${excluded}`);
  assert.equal(record!.metrics['data/sequences'], 12 - excluded);
  assert.equal(record!.metrics['rollout/infraFailureRate'], excluded / 12);
  const trainedTexts = policy.trained.flatMap((call) => call.data.map((datum) => String.fromCharCode(...datum.tokens)));
  assert.equal(trainedTexts.length, 12 - excluded);
  for (const text of trainedTexts) assert.doesNotMatch(text, /infra/);
});

test('a stopped run is reported as stopped, not as bad input', async () => {
  const out = join(root, 'stopped');
  const controller = new AbortController();
  controller.abort();
  const policy = new ScriptedPolicy(ALWAYS_CODE, join(out, 'checkpoints'));
  await assert.rejects(
    runTraining(tinyConfig(2), deps(policy), { out, signal: controller.signal }),
    (error: unknown) => error instanceof AbortedError && !(error instanceof InputError) && /--resume/.test(error.message),
  );
});
