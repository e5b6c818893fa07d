/**
 * TinkerPolicy against the hosted and SkyRL server doubles (testing/fake-tinker.ts): every request
 * it sends validates against the SDK's request models (testing/tinker-sdk-schemas.ts, transcribed
 * from thinking-machines-lab/tinker @ d595dc2) or, for protobuf, against the SDK's descriptor; the
 * documented response shapes, metric names and faults of both servers are handled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import 'protobufjs/ext/descriptor.js';
import { InputError, UnsupportedError } from '../core/errors.js';
import type { AdamParams, TokenLossFunction, TrainingDatum } from '../core/policy.js';
import { tinkerLoss } from '../core/builtin-losses.js';
import { TinkerApiError, TinkerSessionExpiredError } from './tinker-client.js';
import { chunkDatums, createTinkerPolicy, estimatedDatumBytes, type TinkerPolicyOptions } from './tinker-policy.js';
import { encodeDatum } from './tinker-wire.js';
import { FakeTinker, fakeLogprob, type FakeTinkerOptions } from './testing/fake-tinker.js';
import { TINKER_SDK_DESCRIPTOR_BASE64 } from './testing/tinker-sdk-descriptor.js';
import { validateRequest } from './testing/tinker-sdk-schemas.js';

const adam: AdamParams = { learningRate: 1e-5, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 1 };
const noSleep = () => {
  const slept: number[] = [];
  let now = 0;
  return { slept, clock: { now: () => now, sleep: async (ms: number) => void (slept.push(ms), (now += ms)) } };
};

const datum = (tokens: number[]): TrainingDatum => ({ tokens, lossMask: new Float32Array(tokens.length - 1).fill(1) });

async function policyOn(fake: FakeTinker, extra: Partial<TinkerPolicyOptions> = {}) {
  const warnings: string[] = [];
  const { clock, slept } = noSleep();
  const policy = await createTinkerPolicy({
    baseUrl: 'http://tinker.test',
    baseModel: fake.modelName,
    loraRank: 16,
    heartbeatMs: 0,
    clock,
    onWarning: (message) => warnings.push(message),
    ...(fake.options.flavour === 'skyrl' ? { contextWindow: 4096 } : {}),
    fetch: fake.fetch,
    ...extra,
  });
  return { policy, warnings, slept };
}

const sdkForwardBackward = (() => {
  const file = Buffer.from(TINKER_SDK_DESCRIPTOR_BASE64, 'base64');
  return protobuf.Root.fromDescriptor(protobuf.Writer.create().uint32(0x0a).bytes(file).finish()).lookupType('tinker_public.ForwardBackwardRequest');
})();

/** Every request validates: JSON against the SDK's models, protobuf against its descriptor. */
function assertConforms(fake: FakeTinker): void {
  for (const request of fake.requests) {
    if (request.method === 'GET') continue;
    if (request.bytes) {
      assert.equal(request.path, '/forward_backward', 'protobuf goes only to /forward_backward');
      const message = sdkForwardBackward.toObject(sdkForwardBackward.decode(request.bytes), { defaults: true }) as { model_id: string; seq_id: number; data: unknown[]; loss_fn: string };
      assert.ok(message.model_id && message.seq_id >= 1 && message.data.length > 0 && message.loss_fn, `protobuf forward_backward carries model_id, seq_id, data, loss_fn: ${JSON.stringify(message).slice(0, 120)}`);
      continue;
    }
    assert.deepEqual(validateRequest(request.path, request.json), [], `${request.path} ${JSON.stringify(request.json).slice(0, 200)}`);
  }
}

async function workflow(options: FakeTinkerOptions) {
  const fake = new FakeTinker(options);
  const { policy, warnings } = await policyOn(fake);
  const data = [datum([1, 2, 3, 4, 5]), datum([6, 7, 8])];
  const base = await policy.sample({ promptTokens: [1, 2], params: { temperature: 1, topP: 1, topK: 0, maxTokens: 3, stopTokenIds: [0] }, n: 2 });
  const before = await policy.forward(data);
  const builtin = await policy.forwardBackward(data, { kind: 'ppo', advantages: data.map((d) => new Float32Array(d.tokens.length - 1).fill(1)), samplingLogprobs: before, clipLow: 0.8, clipHigh: 1.28 });
  await policy.optimStep(adam);
  const custom: TokenLossFunction = (logprobs) => tinkerLoss('importance_sampling', logprobs.map((row) => ({ advantages: new Float32Array(row.length).fill(0.5), logprobs: row })))(logprobs);
  await policy.forwardBackward(data, custom);
  const { gradNorm } = await policy.optimStep(adam);
  const trained = await policy.sample({ promptTokens: [3], params: { temperature: 0, topP: 1, topK: 0, maxTokens: 2 } });
  await policy.sample({ promptTokens: [4], params: { temperature: 0, topP: 1, topK: 0, maxTokens: 2 } });
  const path = await policy.save('step-2');
  await policy.load(path);
  await policy.close();
  return { fake, base, before, builtin, gradNorm, trained, path, warnings };
}

for (const flavour of ['hosted', 'skyrl'] as const) {
  test(`${flavour}: a whole training workflow sends only requests the SDK's schemas accept`, async () => {
    const { fake, base, before, builtin, trained, path } = await workflow({ flavour, metrics: flavour === 'skyrl' ? 'skyrl-fsdp' : 'hosted' });
    assertConforms(fake);
    assert.equal(fake.sent('/forward').length, 0, 'forward goes as forward_only protobuf to /forward_backward');
    assert.ok(fake.sent('/forward_backward').every((request) => request.bytes !== null));
    assert.equal(base.length, 2);
    assert.deepEqual(Array.from(before[0] ?? []), [2, 3, 4, 5].map((token) => Math.fround(fakeLogprob(token, 0))));
    assert.ok(Number.isFinite(builtin.loss));
    assert.equal(trained[0]?.tokens.length, 2);
    assert.match(path, /^tinker:\/\/model_\d+\/weights\/step-2$/);
    // Results the SDK takes as protobuf are asked for as protobuf.
    const retrieves = fake.sent('/retrieve_future');
    assert.ok(retrieves.some((request) => request.headers['accept']?.includes('application/x-protobuf')));
    // create_model carries the LoRA rank.
    assert.equal((fake.sent('/create_model')[0]?.json?.['lora_config'] as { rank: number }).rank, 16);
    assert.equal((fake.sent('/optim_step')[0]?.json?.['adam_params'] as { grad_clip_norm: number }).grad_clip_norm, 1);
  });
}

test('sampling after a weight change uses a temporary snapshot tied to a new sampling session, never a persistent checkpoint', async () => {
  const { fake } = await workflow({ flavour: 'hosted' });
  const saves = fake.sent('/save_weights_for_sampler');
  assert.equal(saves.length, 1, 'one snapshot for the weights sampled twice');
  for (const save of saves) {
    assert.equal(save.json?.['path'], undefined, 'no name: nothing persists');
    assert.equal(typeof save.json?.['sampling_session_seq_id'], 'number');
  }
  assert.deepEqual(saves.map((save) => save.json?.['sampling_session_seq_id']), [0]);
  assert.equal(fake.sent('/create_sampling_session').length, 0);
  const samples = fake.sent('/asample').map((request) => request.json ?? {});
  assert.equal(samples[0]?.['base_model'], fake.modelName, 'before any change the base model is sampled');
  assert.deepEqual(samples.slice(1).map((sample) => sample['seq_id']), [0, 1], 'the sampling session counts its own seq_ids');
  assert.ok(samples.slice(1).every((sample) => typeof sample['sampling_session_id'] === 'string'));
});

test('a custom loss: forward first, then forward_backward and optim_step are submitted back to back before either result is awaited', async () => {
  const fake = new FakeTinker({ flavour: 'hosted' });
  const { policy } = await policyOn(fake);
  const data = [datum([1, 2, 3])];
  fake.requests.length = 0;
  await policy.forwardBackward(data, (logprobs) => tinkerLoss('cross_entropy', logprobs.map((row) => ({ weights: new Float32Array(row.length).fill(1) })))(logprobs));
  await policy.optimStep(adam);
  const order = fake.requests.map((request) => request.path);
  const fbPosts = order.flatMap((path, i) => (path === '/forward_backward' ? [i] : []));
  const optim = order.indexOf('/optim_step');
  assert.equal(fbPosts.length, 2, 'the forward pass and the weighted cross-entropy');
  assert.ok(fbPosts[1]! < optim, 'forward_backward is posted before optim_step');
  assert.deepEqual(order.slice(fbPosts[1]! + 1, optim), [], 'nothing is awaited between the two submissions');
  const seqIds = fake.requests.filter((request) => request.path !== '/retrieve_future').map((request) => (request.bytes ? (sdkForwardBackward.decode(request.bytes) as unknown as { seq_id: number }).seq_id : request.json?.['seq_id']));
  assert.deepEqual(seqIds, [1, 2, 3], 'consecutive seq_ids in submission order');
});

test('a server that says proto_write_fwdbwd: false (SDK <= 0.24 era) gets JSON, with /forward for forward passes', async () => {
  const fake = new FakeTinker({ flavour: 'hosted', clientConfig: { pjwt_auth_enabled: false, proto_write_fwdbwd: false } });
  const { policy } = await policyOn(fake);
  assert.equal(policy.encoding, 'json');
  const data = [datum([1, 2, 3])];
  await policy.forward(data);
  await policy.forwardBackward(data, { kind: 'cross_entropy', weights: [new Float32Array(2).fill(1)] });
  assert.equal(fake.sent('/forward').length, 1);
  assert.equal(fake.sent('/forward_backward')[0]?.bytes, null);
  assertConforms(fake);
});

test('SkyRL reports no max_context_length: the context window must be given, and the error says so', async () => {
  const fake = new FakeTinker({ flavour: 'skyrl' });
  await assert.rejects(createTinkerPolicy({ baseUrl: 'http://tinker.test', baseModel: fake.modelName, heartbeatMs: 0, fetch: fake.fetch }), (error: unknown) => error instanceof InputError && error.input === 'contextWindow' && /SkyRL/.test(error.message));
  const hosted = await policyOn(new FakeTinker({ flavour: 'hosted' }));
  assert.equal(hosted.policy.contextWindow, 32768, 'the hosted service reports one');
});

test('metric names: hosted loss:sum, SkyRL total_loss:sum and skyrl.ai/grad_norm, SkyRL JAX none (loss computed here, warned once, never a silent NaN)', async () => {
  const data = [datum([1, 2, 3, 4])];
  const weights = [Float32Array.from([1, 0.5, 2])];
  const expected = -[2, 3, 4].reduce((sum, token, t) => sum + (weights[0]![t] as number) * Math.fround(fakeLogprob(token, 0)), 0);
  for (const metrics of ['hosted', 'skyrl-fsdp', 'skyrl-jax'] as const) {
    const fake = new FakeTinker({ flavour: metrics === 'hosted' ? 'hosted' : 'skyrl', metrics });
    const { policy, warnings } = await policyOn(fake);
    const result = await policy.forwardBackward(data, { kind: 'cross_entropy', weights });
    assert.ok(Math.abs(result.loss - expected) < 1e-5, `${metrics}: ${result.loss} vs ${expected}`);
    const { gradNorm } = await policy.optimStep(adam);
    await policy.forwardBackward(data, { kind: 'cross_entropy', weights });
    await policy.optimStep(adam);
    if (metrics === 'hosted') {
      assert.ok(Number.isNaN(gradNorm), 'hosted reports no norm: unknown');
      assert.equal(warnings.filter((w) => /gradient norm/.test(w)).length, 1, 'said once, not silently');
    } else assert.equal(gradNorm, 0.75);
    assert.equal(warnings.filter((w) => /summed loss/.test(w)).length, metrics === 'skyrl-jax' ? 1 : 0);
  }
});

test('forward_backward is split by estimated bytes as well as by count, and results come back in datum order', async () => {
  const fake = new FakeTinker({ flavour: 'hosted', clientConfig: { fwdbwd_max_chunk_len: 3, fwdbwd_max_chunk_bytes_count: 400 } });
  const { policy } = await policyOn(fake);
  const data = [datum(Array.from({ length: 30 }, (_, i) => i + 1)), datum([1, 2]), datum([3, 4]), datum([5, 6]), datum([7, 8]), datum(Array.from({ length: 40 }, (_, i) => i))];
  const logprobs = await policy.forward(data);
  const sizes = fake.sent('/forward_backward').map((request) => (sdkForwardBackward.decode(request.bytes as Uint8Array) as unknown as { data: unknown[] }).data.length);
  assert.deepEqual(sizes, [1, 3, 1, 1], 'a 30-token datum fills a request by bytes; three small ones fill one by count; the 40-token one goes alone');
  assert.deepEqual(logprobs.map((row) => row.length), data.map((d) => d.tokens.length - 1));
  assert.equal(logprobs[5]?.[0], Math.fround(fakeLogprob(1, 0)));
  const wire = data.map((d) => encodeDatum(d.tokens, {}));
  for (const chunk of chunkDatums(wire, 3, 400)) assert.ok(chunk.data.length === 1 || chunk.data.reduce((sum, d) => sum + estimatedDatumBytes(d), 0) <= 400);
});

test('save: a 409 after our own lost answer is our save (the expected path); a name another run took is an error', async () => {
  const fake = new FakeTinker({ flavour: 'skyrl' });
  const { policy } = await policyOn(fake);
  fake.faults.push({ path: '/save_weights', when: 'after', status: 503 });
  const path = await policy.save('step-1');
  assert.equal(path, `tinker://${policy.currentModelId}/weights/step-1`);
  assert.equal(fake.sent('/save_weights').length, 2, 'the retry met 409 "already exists"');
  assert.equal(policy.lastCheckpoint, path);
  fake.checkpoints.add(`${policy.currentModelId}/taken`);
  await assert.rejects(policy.save('taken'), (error: unknown) => error instanceof TinkerApiError && error.status === 409 && /already taken/.test(error.message));
  assert.equal(fake.sent('/save_weights').length, 3, 'a permanent 409 is not retried');
});

test('"sequence number was reused" is permanent: not retried, and the seq_id is not given back', async () => {
  const fake = new FakeTinker({ flavour: 'skyrl' });
  const { policy, slept } = await policyOn(fake);
  fake.faults.push({ path: '/optim_step', status: 409, body: { detail: 'Training request sequence number was reused' } });
  await assert.rejects(policy.optimStep(adam), (error: unknown) => error instanceof TinkerApiError && error.status === 409 && !error.isRetryable);
  assert.equal(fake.sent('/optim_step').length, 1);
  assert.deepEqual(slept, [], 'no 30 s of retries');
  await policy.optimStep(adam);
  assert.equal(fake.sent('/optim_step')[1]?.json?.['seq_id'], 2);
});

test('a seq_id is given back after a 4xx refusal, never after a 5xx (the server may have taken it)', async () => {
  const fake = new FakeTinker({ flavour: 'hosted' });
  const { policy } = await policyOn(fake, { maxRetries: 1 });
  fake.faults.push({ path: '/optim_step', status: 422, body: { detail: [{ loc: ['body'], msg: 'bad' }] } });
  await assert.rejects(policy.optimStep(adam), (error: unknown) => error instanceof TinkerApiError && error.status === 422);
  fake.faults.push({ path: '/optim_step', status: 503, times: 2 });
  await assert.rejects(policy.optimStep(adam), (error: unknown) => error instanceof TinkerApiError && error.status === 503);
  await policy.optimStep(adam);
  assert.deepEqual(fake.sent('/optim_step').map((request) => request.json?.['seq_id']), [1, 1, 1, 2]);
});

test('retrieve: a bare 400 is re-polled three times; 402 is waited out; 408 and try_again poll again; 410 resubmits', async () => {
  const fake = new FakeTinker({ flavour: 'hosted' });
  const { policy, slept } = await policyOn(fake);
  const data = [datum([1, 2, 3])];
  fake.faults.push({ path: '/retrieve_future', status: 400, body: null, times: 3 });
  assert.equal((await policy.forward(data)).length, 1);
  fake.faults.push({ path: '/retrieve_future', status: 400, body: null, times: 4 });
  await assert.rejects(policy.forward(data), (error: unknown) => error instanceof TinkerApiError && error.status === 400 && /without a detail 4 times/.test(error.message));
  fake.faults.push({ path: '/retrieve_future', status: 402, body: { detail: 'billing: add credits' }, times: 2 });
  slept.length = 0;
  assert.equal((await policy.forward(data)).length, 1);
  assert.deepEqual(slept, [5000, 5000], 'two billing pauses of 5 s');
  fake.pollsBeforeDone = 2;
  fake.faults.push({ path: '/retrieve_future', status: 408, body: { detail: 'Timeout waiting for result' } });
  assert.equal((await policy.forward(data)).length, 1);
  fake.pollsBeforeDone = 0;
  fake.faults.push({ path: '/retrieve_future', status: 410, body: { detail: 'promise expired' } });
  const posts = fake.sent('/forward_backward').length;
  assert.equal((await policy.sample({ promptTokens: [1], params: { temperature: 1, topP: 1, topK: 0, maxTokens: 1 } })).length, 1);
  assert.equal(fake.sent('/asample').length, 2, 'resubmitted after 410');
  assert.equal(fake.sent('/forward_backward').length, posts);
});

test('a 402 that outlasts the billing window fails clearly', async () => {
  const fake = new FakeTinker({ flavour: 'hosted', clientConfig: { billing_exception_max_pause_duration_sec: 12 } });
  const { policy } = await policyOn(fake);
  fake.faults.push({ path: '/retrieve_future', status: 402, body: { detail: 'billing' }, times: 100 });
  await assert.rejects(policy.forward([datum([1, 2])]), (error: unknown) => error instanceof TinkerApiError && error.status === 402 && /longer than 12 s/.test(error.message));
});

test('an expired SkyRL session (heartbeats pass, futures say "model not loaded") is a session-expired error, and recover() reopens from the last checkpoint', async () => {
  const fake = new FakeTinker({ flavour: 'skyrl' });
  const { policy } = await policyOn(fake);
  const data = [datum([1, 2, 3])];
  await policy.forwardBackward(data, { kind: 'cross_entropy', weights: [new Float32Array(2).fill(1)] });
  await policy.optimStep(adam);
  const saved = await policy.save('step-1');
  const oldSession = policy.currentSessionId;
  fake.expire(oldSession);
  const heartbeat = await policy.client.call('POST', '/session_heartbeat', { json: { session_id: oldSession, type: 'session_heartbeat' } });
  assert.equal(heartbeat.status, 200, 'SkyRL keeps answering heartbeats');
  await assert.rejects(policy.forward(data), (error: unknown) => error instanceof TinkerSessionExpiredError && /not loaded/.test(error.message) && /recover\(\)/.test(error.message));
  assert.equal(await policy.recover(), saved);
  assert.notEqual(policy.currentSessionId, oldSession);
  assert.equal(fake.sent('/load_weights').at(-1)?.json?.['path'], saved);
  assert.equal((await policy.forward(data)).length, 1);
  assertConforms(fake);
});

test('a second model for a KL reference fails clearly where the server allows only one', async () => {
  const fake = new FakeTinker({ flavour: 'skyrl', singleModel: true });
  await policyOn(fake);
  await assert.rejects(policyOn(fake, { role: 'reference' }), (error: unknown) => error instanceof UnsupportedError && /KL reference/.test(error.message) && /--max-models/.test(error.message));
});

test('a server that refuses the protobuf body, or asks for JWT auth, is named clearly', async () => {
  const fake = new FakeTinker({ flavour: 'hosted', clientConfig: { pjwt_auth_enabled: true } });
  const { policy, warnings } = await policyOn(fake);
  assert.equal(warnings.filter((w) => /JWT auth/.test(w)).length, 1);
  fake.faults.push({ path: '/forward_backward', status: 422, body: { detail: [{ loc: ['body'], msg: 'Input should be a valid JSON object', type: 'json_invalid' }] } });
  await assert.rejects(policy.forward([datum([1, 2])]), (error: unknown) => error instanceof UnsupportedError && /forwardEncoding: 'json'/.test(error.message));
  const json = await policyOn(fake, { forwardEncoding: 'json' });
  assert.equal((await json.policy.forward([datum([1, 2])])).length, 1);
  assert.equal(fake.sent('/forward').length, 1);
});

test('SkyRL 425 (a checkpoint still being written) is retried', async () => {
  const fake = new FakeTinker({ flavour: 'skyrl' });
  const { policy, slept } = await policyOn(fake);
  fake.faults.push({ path: '/load_weights', status: 425, body: { detail: 'Checkpoint is still being created' } });
  await policy.load('tinker://model_x/weights/a');
  assert.equal(fake.sent('/load_weights').length, 2);
  assert.equal(slept.length, 1);
  assert.ok(slept[0]! >= 375 && slept[0]! <= 500, 'one backoff step');
});
