import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { InputError } from '../core/errors.js';
import type { TrainingDatum } from '../core/policy.js';
import type { ModelConfig } from './config.js';
import { createEmbeddedPolicy, loadEmbeddedPolicy } from './index.js';

const small: Partial<ModelConfig> = { hiddenSize: 32, numLayers: 2, numHeads: 2, numKvHeads: 1, intermediateSize: 64, contextLength: 64 };
const policy = createEmbeddedPolicy(small, { seed: 7, maxConcurrentSequences: 8 });
after(() => policy.close());
const prompt = policy.tokenizer.encode('Q: 12*34?\nA: ');
const greedy = { temperature: 0, topP: 1, topK: 0, maxTokens: 12 };

test('sampling returns n sequences with logprobs; seeds make it reproducible', async () => {
  const params = { temperature: 1, topP: 1, topK: 0, maxTokens: 10, seed: 5 };
  const first = await policy.sample({ promptTokens: prompt, params, n: 3 });
  const second = await policy.sample({ promptTokens: prompt, params, n: 3 });
  assert.equal(first.length, 3);
  for (const sequence of first) {
    assert.ok(sequence.tokens.length >= 1 && sequence.tokens.length <= 10);
    assert.equal(sequence.logprobs!.length, sequence.tokens.length);
    assert.ok(sequence.logprobs!.every((lp) => lp <= 0 && Number.isFinite(lp)));
  }
  assert.deepEqual(first.map((s) => s.tokens), second.map((s) => s.tokens));
});

test('a sampled logprob equals the forward pass logprob of the same tokens', async () => {
  const [sequence] = await policy.sample({ promptTokens: prompt, params: { temperature: 1, topP: 1, topK: 0, maxTokens: 8, seed: 3 } });
  const tokens = [...prompt, ...sequence!.tokens];
  const [logprobs] = await policy.forward([{ tokens, lossMask: new Float32Array(tokens.length - 1) }]);
  sequence!.logprobs!.forEach((lp, i) => assert.ok(Math.abs(lp - logprobs![prompt.length - 1 + i]!) < 1e-3, `token ${i}: ${lp} vs ${logprobs![prompt.length - 1 + i]}`));
});

test('concurrent calls are decoded together in shared steps, with the same tokens as alone', async () => {
  const alone = await policy.sample({ promptTokens: prompt, params: greedy });
  const before = { ...policy.samplingStats };
  const together = await Promise.all(Array.from({ length: 6 }, () => policy.sample({ promptTokens: prompt, params: greedy })));
  const steps = policy.samplingStats.steps - before.steps;
  for (const [sequence] of together) assert.deepEqual(sequence!.tokens, alone[0]!.tokens);
  // Alone: 1 prefill step + up to 11 decode steps. Six callers batched must not take six times that.
  assert.ok(steps <= 13, `six concurrent requests took ${steps} steps`);
});

test('stop strings end generation with the string kept; breaking out of a stream frees the slot', async () => {
  const [free] = await policy.sample({ promptTokens: prompt, params: { ...greedy, maxTokens: 20 } });
  const text = policy.tokenizer.decode(free!.tokens);
  const stop = text.slice(3, 5);
  const [stopped] = await policy.sample({ promptTokens: prompt, params: { ...greedy, maxTokens: 20, stop: [stop] } });
  assert.equal(stopped!.finishReason, 'stop');
  assert.equal(stopped!.stopReason, stop);
  assert.ok(policy.tokenizer.decode(stopped!.tokens).endsWith(stop));
  let received = 0;
  for await (const chunk of policy.stream!({ promptTokens: prompt, params: { ...greedy, maxTokens: 50 } })) {
    received += chunk.tokens.length;
    if (received === 2) break;
  }
  assert.equal(received, 2);
  // Eight more streams than... all slots must be free again: 8 concurrent requests complete.
  const all = await Promise.all(Array.from({ length: 8 }, () => policy.sample({ promptTokens: prompt, params: { ...greedy, maxTokens: 3 } })));
  assert.equal(all.length, 8);
});

test('an aborted request finishes with reason abort', async () => {
  const controller = new AbortController();
  const pending = policy.sample({ promptTokens: prompt, params: { ...greedy, maxTokens: 60 }, signal: controller.signal });
  controller.abort();
  const [sequence] = await pending;
  assert.equal(sequence!.finishReason, 'abort');
});

test('forwardBackward + optimStep lowers cross-entropy; masked targets get no gradient', async () => {
  const own = createEmbeddedPolicy(small, { seed: 9 });
  try {
    const tokens = own.tokenizer.encode('Q: 2+2?\nA: \\boxed{4}');
    const mask = new Float32Array(tokens.length - 1).fill(1);
    const data: TrainingDatum[] = [{ tokens, lossMask: mask }];
    const weights = [new Float32Array(tokens.length - 1).fill(1 / (tokens.length - 1))];
    const first = await own.forwardBackward(data, { kind: 'cross_entropy', weights });
    await own.optimStep({ learningRate: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 1 });
    for (let i = 0; i < 20; i++) {
      await own.forwardBackward(data, { kind: 'cross_entropy', weights });
      await own.optimStep({ learningRate: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 1 });
    }
    const last = await own.forwardBackward(data, { kind: 'cross_entropy', weights });
    assert.ok(last.loss < first.loss * 0.5, `loss ${first.loss} -> ${last.loss}`);
    own.model.zeroGrad();
    await own.forwardBackward([{ tokens, lossMask: new Float32Array(tokens.length - 1) }], { kind: 'cross_entropy', weights });
    assert.ok(own.model.grads.every((g) => g === 0));
  } finally {
    await own.close();
  }
});

test('resetOptimizer zeroes the moments and the step, keeping the weights', async () => {
  const own = createEmbeddedPolicy(small, { seed: 9, kernels: 'typescript' });
  try {
    const tokens = own.tokenizer.encode('Q: 1+1?\nA: 2');
    const lossMask = new Float32Array(tokens.length - 1).fill(1);
    await own.forwardBackward([{ tokens, lossMask }], { kind: 'cross_entropy', weights: [lossMask] });
    await own.optimStep({ learningRate: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 1 });
    const weights = Float32Array.from(own.model.params);
    assert.ok(own.optimizer.step === 1 && own.optimizer.v.some((x) => x > 0));
    own.resetOptimizer();
    assert.equal(own.optimizer.step, 0);
    assert.ok(own.optimizer.m.every((x) => x === 0) && own.optimizer.v.every((x) => x === 0));
    assert.deepEqual(own.model.params, weights);
  } finally {
    await own.close();
  }
});

test('save and load round-trip weights; a wrong format version is refused with a hint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cir-model-'));
  const path = policy.saveTo(join(dir, 'ckpt'));
  const loaded = await loadEmbeddedPolicy(path, { kernels: 'typescript' });
  assert.deepEqual(loaded.model.params, policy.model.params);
  const [a] = await policy.sample({ promptTokens: prompt, params: greedy });
  const [b] = await loaded.sample({ promptTokens: prompt, params: greedy });
  assert.deepEqual(a!.tokens, b!.tokens);
  const configFile = join(path, 'config.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as { cir: { version: number } };
  config.cir.version = 99;
  writeFileSync(configFile, JSON.stringify(config));
  await assert.rejects(loadEmbeddedPolicy(path), (error: unknown) => error instanceof InputError && /version 99.*cir pretrain/.test(error.message) && error.input === configFile);
  // A name is a folder inside the checkpoint folder: "..", "." or a path would write elsewhere.
  for (const name of ['..', '.', 'a/b', '']) await assert.rejects(policy.save(name), (error: unknown) => error instanceof InputError && error.input === name, name);
});
