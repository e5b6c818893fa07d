import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { formatFeedback } from '../interpreter/index.js';
import { createEmbeddedPolicy, type ModelConfig } from '../model/index.js';
import { runTraining } from './loop.js';
import type { MetricsLine } from './run-store.js';
import { FakeExecutor, tinyConfig } from './testing/support.js';

const root = mkdtempSync(join(tmpdir(), 'cir-train-resume-'));
after(() => rmSync(root, { recursive: true, force: true }));

const MODEL: Partial<ModelConfig> = { hiddenSize: 16, numLayers: 1, numHeads: 2, numKvHeads: 1, intermediateSize: 32, contextLength: 160 };

const config = tinyConfig(3, (c) => {
  c.rl.optimizer.learningRate = 1e-2;
  // A random model earns −1 everywhere; the baseline would zero every advantage, plain REINFORCE does not.
  c.rl.advantageEstimator = 'reinforce';
  c.rl.rollout.maxResponseTokens = 40;
  c.eval.tasks = 6;
  c.eval.every = 2;
  c.eval.temperature = 1;
  c.eval.samples = 2;
});

/** A fresh policy with the same initial weights, as a new process would load them. */
function freshPolicy(out: string, kernels: 'typescript' | 'wasm' = 'typescript') {
  return createEmbeddedPolicy(MODEL, { kernels, threads: 2, seed: 11, checkpointDir: join(out, 'checkpoints'), maxConcurrentSequences: 8 });
}

async function train(out: string, options: { resume?: boolean; stopAfter?: number }, kernels: 'typescript' | 'wasm' = 'typescript') {
  const policy = freshPolicy(out, kernels);
  try {
    return await runTraining(config, { backend: policy, tokenizer: policy.tokenizer, executor: new FakeExecutor(), formatFeedback: (o) => formatFeedback(o) }, { out, ...options });
  } finally {
    await policy.close();
  }
}

/** Metrics without wall-clock fields. */
function metrics(out: string): unknown[] {
  return readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const record = JSON.parse(line) as MetricsLine;
      if (record.kind === 'step') return { ...record, timings: null };
      if (record.kind === 'validation') return { ...record, seconds: null };
      return { ...record, result: { ...record.result, seconds: null } };
    });
}

for (const kernels of ['typescript', 'wasm'] as const) {
test(`k steps, then --resume, gives the same weights, optimizer state and metrics as an uninterrupted run (${kernels} kernels)`, async () => {
  const straight = join(root, `straight-${kernels}`);
  const resumed = join(root, `resumed-${kernels}`);
  const full = await train(straight, {}, kernels);
  const first = await train(resumed, { stopAfter: 1 }, kernels);
  assert.equal(first.stopped, true);
  assert.equal(first.completedSteps, 1);
  const second = await train(resumed, { resume: true }, kernels);
  assert.equal(second.completedSteps, 3);
  assert.equal(second.stopped, false);

  const weights = (out: string, file: string) => readFileSync(join(out, 'checkpoints', 'step-00003', file));
  assert.ok(weights(straight, 'model.safetensors').equals(weights(resumed, 'model.safetensors')), 'model weights differ');
  assert.ok(weights(straight, 'optimizer.safetensors').equals(weights(resumed, 'optimizer.safetensors')), 'optimizer state differs');
  assert.deepEqual(metrics(resumed), metrics(straight));
  assert.equal(second.summary?.end.accuracy, full.summary?.end.accuracy);

  // The run did train: the weights moved away from the initial ones.
  const initial = freshPolicy(join(root, 'initial'));
  const trained = freshPolicy(join(root, 'initial'));
  await trained.load(join(straight, 'checkpoints', 'step-00003'));
  let moved = 0;
  for (let i = 0; i < initial.model.params.length; i++) moved = Math.max(moved, Math.abs(initial.model.params[i]! - trained.model.params[i]!));
  assert.ok(moved > 1e-4, `largest weight change ${moved}`);
  await initial.close();
  await trained.close();
});
}

test('--resume refuses a changed configuration, naming the field', async () => {
  const out = join(root, 'changed');
  await train(out, { stopAfter: 1 });
  const policy = freshPolicy(out);
  const changed = structuredClone(config);
  changed.rl.groupSize = 3;
  await assert.rejects(
    runTraining(changed, { backend: policy, tokenizer: policy.tokenizer, executor: new FakeExecutor(), formatFeedback: (o) => formatFeedback(o) }, { out, resume: true }),
    /rl\.groupSize: \d+ → 3/,
  );
  await policy.close();
});
