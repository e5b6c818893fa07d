/**
 * End to end with the real embedded transformer (small config, random init) behind `cir serve`:
 * the rollout helper's OpenAI-compatible engine and the Tinker backend, each against the HTTP
 * path, must agree token for token with the in-process backend.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrainingDatum } from '../core/policy.js';
import { createEmbeddedPolicy } from '../model/index.js';
import { OpenAICompatibleEngine } from '../engines/openai-compatible.js';
import { createTinkerPolicy } from '../engines/tinker-policy.js';
import { startServer } from './server.js';

const checkpointDir = mkdtempSync(join(tmpdir(), 'cir-serve-embedded-'));
const backend = createEmbeddedPolicy({ hiddenSize: 32, numLayers: 2, numHeads: 2, numKvHeads: 1, intermediateSize: 64, contextLength: 96 }, { seed: 3, maxConcurrentSequences: 8, checkpointDir });
const tokenizer = backend.tokenizer;
const server = await startServer({ backend, tokenizer, modelName: 'cir-embedded', checkpointDir });
after(async () => {
  await server.close();
  await backend.close();
});

const prompt = tokenizer.encode('Q: 12*34?\nA: ');
const greedy = { temperature: 0, topP: 1, topK: 0, maxTokens: 16 };

test('the OpenAI-compatible engine through cir serve samples exactly what the model samples in process', async () => {
  const engine = new OpenAICompatibleEngine({ endpoints: server.url, model: 'cir-embedded', contextWindow: backend.contextWindow });
  const [local] = await backend.sample({ promptTokens: prompt, params: greedy });
  const [remote] = await engine.sample({ promptTokens: prompt, params: greedy });
  assert.ok(local && remote);
  assert.deepEqual(remote.tokens, local.tokens);
  assert.equal(remote.finishReason, local.finishReason);
  remote.logprobs?.forEach((lp, i) => assert.ok(Math.abs(lp - (local.logprobs?.[i] ?? NaN)) < 1e-4, `logprob ${i}`));
  const streamed: number[] = [];
  for await (const chunk of engine.stream?.({ promptTokens: prompt, params: greedy }) ?? []) streamed.push(...chunk.tokens);
  assert.deepEqual(streamed, local.tokens);
});

test('the Tinker backend through cir serve: forward matches in process, training lowers the loss, save and resume', async () => {
  const policy = await createTinkerPolicy({ baseUrl: server.url, baseModel: 'cir-embedded', heartbeatMs: 0, tokenizer });
  assert.equal(policy.contextWindow, 96);
  const tokens = tokenizer.encode('Q: 2+2?\nA: 4');
  const data: TrainingDatum[] = [{ tokens, lossMask: new Float32Array(tokens.length - 1).fill(1) }];
  const [remoteBefore] = await policy.forward(data);
  const [localBefore] = await backend.forward(data);
  assert.deepEqual(Array.from(remoteBefore ?? []), Array.from(localBefore ?? []));
  const adam = { learningRate: 3e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, gradClip: 1 };
  let first = NaN;
  let last = NaN;
  for (let step = 0; step < 4; step++) {
    const result = await policy.forwardBackward(data, { kind: 'cross_entropy', weights: [new Float32Array(tokens.length - 1).fill(1)] });
    if (step === 0) first = result.loss;
    last = result.loss;
    await policy.optimStep(adam);
  }
  assert.ok(last < first, `loss fell: ${first} → ${last}`);
  const path = await policy.save('e2e-step-4');
  const [saved] = await policy.forward(data);
  await policy.forwardBackward(data, { kind: 'cross_entropy', weights: [new Float32Array(tokens.length - 1).fill(1)] });
  await policy.optimStep(adam);
  await policy.close();
  const resumed = await createTinkerPolicy({ baseUrl: server.url, baseModel: 'cir-embedded', heartbeatMs: 0, resumeFrom: path });
  const [restored] = await resumed.forward(data);
  assert.deepEqual(Array.from(restored ?? []), Array.from(saved ?? []));
  const [sample] = await resumed.sample({ promptTokens: prompt, params: { ...greedy, stopTokenIds: [tokenizer.eosTokenId] } });
  assert.ok((sample?.tokens.length ?? 0) > 0);
  await resumed.close();
});
