/**
 * `cir serve`'s Tinker routes as the real SDK uses them (thinking-machines-lab/tinker @ d595dc2,
 * v0.25.0, and 6b02536, v0.24.1): /client/config, protobuf forward_backward (plain and
 * zstd-compressed) with protobuf results, failed futures in the hosted shape, /weights_info,
 * temporary sampler snapshots, prompt log-probs, several models, caps and clear refusals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import 'protobufjs/ext/descriptor.js';
import type { AdamParams } from '../core/policy.js';
import { createTinkerPolicy } from '../engines/tinker-policy.js';
import { encodeForwardBackwardRequest } from '../engines/tinker-proto.js';
import { encodeDatum } from '../engines/tinker-wire.js';
import { TINKER_SDK_DESCRIPTOR_BASE64 } from '../engines/testing/tinker-sdk-descriptor.js';
import { postBytes, postJson, startBigramServer, zstdStored, type BigramServer } from './testing/support.js';

const sdk = protobuf.Root.fromDescriptor(protobuf.Writer.create().uint32(0x0a).bytes(Buffer.from(TINKER_SDK_DESCRIPTOR_BASE64, 'base64')).finish());
const adam: AdamParams = { learningRate: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, gradClip: 0 };
const PROTO = 'application/x-protobuf';

/**
 * A ForwardBackwardRequest for model id "MODEL" (one 12-token cross-entropy datum), encoded by
 * tinker-proto.ts and compressed with the zstd 1.5.4 CLI at level 19: real compressed zstd, as the
 * SDK sends when the server's client config says proto_compress_fwdbwd.
 */
const COMPRESSED_FOR_MODEL =
  'KLUv/ST/HQQAosYZH6Dt/////wyERwr3uFUR+Mf7DJiTYKWJyVAa8rJNJhmh132by5XW3XcV2Dr2wxGlTJ65emeYlsH6zbWO52GfGKpAA2BKp766mstbt6udsc/axXv3iaEKNACmy+SVX95HxI0IeiaJfheoEPD613DQDyAj8f7/b7xLtRu0BQ4/yDsmo+KS';

async function withServer(run: (setup: BigramServer, base: string) => Promise<void>, overrides: Parameters<typeof startBigramServer>[0] = {}): Promise<void> {
  const setup = await startBigramServer({ futureHoldMs: 200, ...overrides });
  try {
    await run(setup, `${setup.server.url}/api/v1`);
  } finally {
    await setup.server.close();
  }
}

async function newModel(base: string, rank = 8): Promise<{ sessionId: string; modelId: string }> {
  const { session_id: sessionId } = (await postJson(`${base}/create_session`, { tags: [], user_metadata: null, sdk_version: '0.25.0' })).json as { session_id: string };
  const created = await postJson(`${base}/create_model`, { session_id: sessionId, model_seq_id: 0, base_model: 'bigram-test', lora_config: { rank } });
  assert.equal(created.status, 200, JSON.stringify(created.json));
  const { model_id: modelId, request_id: requestId } = created.json as { model_id: string; request_id: string };
  await result(base, requestId);
  return { sessionId, modelId };
}

async function result(base: string, requestId: string, accept = 'application/json'): Promise<{ status: number; type: string; json: unknown; bytes: Uint8Array }> {
  for (;;) {
    const response = await fetch(`${base}/retrieve_future`, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify({ request_id: requestId }) });
    if (response.status === 408) continue;
    const type = response.headers.get('content-type') ?? '';
    const bytes = new Uint8Array(await response.arrayBuffer());
    return { status: response.status, type, json: type.includes('json') ? (JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown) : null, bytes };
  }
}

const fbBytes = (modelId: string, seqId: number, tokens: number[], forwardOnly = false) =>
  encodeForwardBackwardRequest({ model_id: modelId, seq_id: seqId, forward_backward_input: { data: [encodeDatum(tokens, { weights: tokens.slice(1).map(() => 1) })], loss_fn: 'cross_entropy' } }, forwardOnly);

test('/client/config tells the SDK what this server takes', async () => {
  await withServer(async (_setup, base) => {
    const config = (await postJson(`${base}/client/config`, { sdk_version: '0.25.0' })).json as Record<string, unknown>;
    assert.equal(config['pjwt_auth_enabled'], false, 'plain API keys, no JWT exchange');
    assert.equal(config['proto_write_fwdbwd'], true);
    assert.equal(config['fwdbwd_max_chunk_len'], 1024);
    assert.ok((config['fwdbwd_max_chunk_bytes_count'] as number) <= 5_000_000);
  });
});

test('protobuf forward_backward, plain and zstd-compressed, answers protobuf to an SDK that asks and JSON otherwise', async () => {
  await withServer(async (setup, base) => {
    const { modelId } = await newModel(base);
    const tokens = setup.tokenizer.encode('abcabc');
    const expected = Array.from((await setup.backend.forward([{ tokens, lossMask: new Float32Array(tokens.length - 1) }]))[0] ?? []);
    const forwardOnly = await postBytes(`${base}/forward_backward`, fbBytes(modelId, 1, tokens, true), { 'content-type': PROTO });
    assert.equal(forwardOnly.status, 200, JSON.stringify(forwardOnly.json));
    const proto = await result(base, (forwardOnly.json as { request_id: string }).request_id, `${PROTO}, application/json`);
    assert.equal(proto.type, PROTO);
    const Output = sdk.lookupType('tinker_public.ForwardBackwardOutput');
    const decoded = Output.toObject(Output.decode(proto.bytes), { longs: Number }) as { loss_fn_outputs: Array<{ num_datums: number; fields: Record<string, { data: Uint8Array; offsets: Uint8Array; dtype: number }> }> };
    const record = decoded.loss_fn_outputs[0]!;
    assert.equal(record.num_datums, 1);
    assert.equal(record.fields['logprobs']?.dtype, 1);
    assert.deepEqual(Array.from(new Float32Array(Uint8Array.from(record.fields['logprobs']!.data).buffer)), expected.map(Math.fround));
    // The same request compressed: stored zstd blocks.
    const compressed = await postBytes(`${base}/forward_backward`, zstdStored(fbBytes(modelId, 2, tokens)), { 'content-type': PROTO, 'content-encoding': 'zstd' });
    assert.equal(compressed.status, 200, JSON.stringify(compressed.json));
    const json = await result(base, (compressed.json as { request_id: string }).request_id);
    assert.equal(json.type.includes('json'), true);
    assert.ok(((json.json as { metrics: Record<string, number> }).metrics['loss:sum'] ?? 0) > 0, 'a backward pass ran');
    // Real compressed zstd decodes too (the fixture names model "MODEL", which does not exist here).
    const real = await postBytes(`${base}/forward_backward`, Buffer.from(COMPRESSED_FOR_MODEL, 'base64'), { 'content-type': PROTO, 'content-encoding': 'zstd' });
    assert.equal(real.status, 404);
    assert.match((real.json as { detail: string }).detail, /model MODEL not found/);
    // Clear refusals.
    const garbage = await postBytes(`${base}/forward_backward`, Uint8Array.of(1, 2, 3), { 'content-type': PROTO, 'content-encoding': 'zstd' });
    assert.equal(garbage.status, 422);
    assert.match((garbage.json as { detail: string }).detail, /zstd/);
    const gzip = await postBytes(`${base}/forward_backward`, fbBytes(modelId, 3, tokens), { 'content-type': PROTO, 'content-encoding': 'br' });
    assert.equal(gzip.status, 415);
    const wrongRoute = await postBytes(`${base}/optim_step`, fbBytes(modelId, 3, tokens), { 'content-type': PROTO });
    assert.equal(wrongRoute.status, 415);
  });
});

test('failed futures answer in the hosted shape: HTTP 200 with error and category', async () => {
  await withServer(async (_setup, base) => {
    const { modelId } = await newModel(base);
    const load = await postJson(`${base}/load_weights`, { model_id: modelId, seq_id: 1, path: 'tinker://x/weights/missing', optimizer: true });
    const failed = await result(base, (load.json as { request_id: string }).request_id);
    assert.equal(failed.status, 200);
    assert.deepEqual(Object.keys(failed.json as object).sort(), ['category', 'error']);
    assert.equal((failed.json as { category: string }).category, 'user');
    assert.match((failed.json as { error: string }).error, /checkpoint missing not found/);
  });
});

test('save_weights: a taken name is 409 "already exists" at once, overwrite replaces it; /weights_info describes a checkpoint', async () => {
  await withServer(async (_setup, base) => {
    const { modelId } = await newModel(base, 12);
    const first = await postJson(`${base}/save_weights`, { model_id: modelId, seq_id: 1, path: 'ckpt', type: 'save_weights' });
    const path = ((await result(base, (first.json as { request_id: string }).request_id)).json as { path: string }).path;
    const again = await postJson(`${base}/save_weights`, { model_id: modelId, seq_id: 2, path: 'ckpt', type: 'save_weights' });
    assert.equal(again.status, 409);
    assert.match((again.json as { detail: string }).detail, /already exists/);
    const replaced = await postJson(`${base}/save_weights`, { model_id: modelId, seq_id: 2, path: 'ckpt', overwrite: true, type: 'save_weights' });
    assert.equal((await result(base, (replaced.json as { request_id: string }).request_id)).status, 200);
    const info = await postJson(`${base}/weights_info`, { tinker_path: path });
    assert.deepEqual(info.json, { base_model: 'bigram-test', is_lora: true, lora_rank: 12, train_unembed: true, train_mlp: true, train_attn: true });
    assert.equal((await postJson(`${base}/weights_info`, { tinker_path: 'tinker://m/weights/nope' })).status, 404);
    assert.equal((await postJson(`${base}/weights_info`, { tinker_path: 'tinker://m/sampler_weights/ckpt' })).status, 400);
  });
});

test('checkpoint names are per model: two models (two runs) both save "step-00001", each loads back its own; a bare-named older checkpoint still loads', async () => {
  await withServer(async (setup, base) => {
    const first = await newModel(base, 12);
    const second = await newModel(base, 4);
    const save = async (modelId: string) => {
      const saved = await postJson(`${base}/save_weights`, { model_id: modelId, seq_id: 1, path: 'step-00001', type: 'save_weights' });
      assert.equal(saved.status, 200, JSON.stringify(saved.json));
      return ((await result(base, (saved.json as { request_id: string }).request_id)).json as { path: string }).path;
    };
    const paths = [await save(first.modelId), await save(second.modelId)];
    assert.deepEqual(paths, [`tinker://${first.modelId}/weights/step-00001`, `tinker://${second.modelId}/weights/step-00001`]);
    // Each path describes the checkpoint its model wrote (the ranks differ).
    const ranks = await Promise.all(paths.map(async (path) => ((await postJson(`${base}/weights_info`, { tinker_path: path })).json as { lora_rank: number }).lora_rank));
    assert.deepEqual(ranks, [12, 4]);
    assert.deepEqual(readdirSync(setup.checkpointDir).filter((name) => name.endsWith('.step-00001')).sort(), [`${first.modelId}.step-00001`, `${second.modelId}.step-00001`].sort());
    // A checkpoint saved under its bare name (before names were per model) loads through any model id.
    cpSync(join(setup.checkpointDir, `${first.modelId}.step-00001`), join(setup.checkpointDir, 'legacy'), { recursive: true });
    assert.equal((await postJson(`${base}/weights_info`, { tinker_path: 'tinker://model_gone/weights/legacy' })).status, 200);
    // A model id is part of a file name: one that could name another file is refused.
    assert.equal((await postJson(`${base}/weights_info`, { tinker_path: `tinker://${first.modelId}.x/weights/step-00001` })).status, 400);
  });
});

test('temporary sampler snapshots: a sampling session on the current weights, nothing written, stale after a step', async () => {
  await withServer(async (setup, base) => {
    const { modelId } = await newModel(base);
    const snapshot = await postJson(`${base}/save_weights_for_sampler`, { model_id: modelId, seq_id: 1, sampling_session_seq_id: 0, type: 'save_weights_for_sampler' });
    const saved = (await result(base, (snapshot.json as { request_id: string }).request_id)).json as { path: null; sampling_session_id: string };
    assert.equal(saved.path, null);
    const prompt = { chunks: [{ type: 'encoded_text', tokens: setup.tokenizer.encode('ab') }] };
    const sample = await postJson(`${base}/asample`, { sampling_session_id: saved.sampling_session_id, seq_id: 0, prompt, sampling_params: { max_tokens: 2 }, type: 'sample' });
    assert.equal((await result(base, (sample.json as { request_id: string }).request_id)).status, 200);
    const sampler = await fetch(`${base}/samplers/${saved.sampling_session_id}`);
    assert.equal(sampler.status, 200);
    const tokens = setup.tokenizer.encode('abab');
    await postBytes(`${base}/forward_backward`, fbBytes(modelId, 2, tokens), { 'content-type': PROTO });
    const step = await postJson(`${base}/optim_step`, { model_id: modelId, seq_id: 3, adam_params: { learning_rate: 0.1 } });
    await result(base, (step.json as { request_id: string }).request_id);
    const stale = await postJson(`${base}/asample`, { sampling_session_id: saved.sampling_session_id, seq_id: 1, prompt, sampling_params: { max_tokens: 2 } });
    assert.equal(stale.status, 409);
    assert.match((stale.json as { detail: string }).detail, /stale/);
  });
});

test('prompt_logprobs are computed (null for the first token), in JSON and protobuf; top-k is refused by name', async () => {
  await withServer(async (setup, base) => {
    const tokens = setup.tokenizer.encode('hello');
    const expected = Array.from((await setup.backend.forward([{ tokens, lossMask: new Float32Array(tokens.length - 1) }]))[0] ?? []);
    const body = { base_model: 'bigram-test', prompt: { chunks: [{ type: 'encoded_text', tokens }] }, sampling_params: { max_tokens: 1 }, prompt_logprobs: true };
    const future = ((await postJson(`${base}/asample`, body)).json as { request_id: string }).request_id;
    const json = (await result(base, future)).json as { prompt_logprobs: Array<number | null> };
    assert.deepEqual(json.prompt_logprobs, [null, ...expected]);
    const proto = await result(base, future, PROTO);
    const Response = sdk.lookupType('tinker_public.SampleResponse');
    const decoded = Response.toObject(Response.decode(proto.bytes)) as { prompt_logprobs: Uint8Array; sequences: unknown[] };
    const values = Array.from(new Float32Array(Uint8Array.from(decoded.prompt_logprobs).buffer));
    assert.ok(Number.isNaN(values[0]));
    assert.deepEqual(values.slice(1), expected.map(Math.fround));
    assert.equal(decoded.sequences.length, 1);
    const topk = await postJson(`${base}/asample`, { ...body, topk_prompt_logprobs: 3 });
    assert.equal(topk.status, 400);
    assert.match((topk.json as { detail: string }).detail, /topk_prompt_logprobs is not implemented/);
  });
});

test('several models per server, each with its own weights; past --max-models a clear 409', async () => {
  await withServer(
    async (setup, base) => {
      const policy = await createTinkerPolicy({ baseUrl: setup.server.url, baseModel: 'bigram-test', heartbeatMs: 0 });
      const reference = await createTinkerPolicy({ baseUrl: setup.server.url, baseModel: 'bigram-test', heartbeatMs: 0, role: 'reference' });
      const tokens = setup.tokenizer.encode('abababab');
      const data = [{ tokens, lossMask: new Float32Array(tokens.length - 1).fill(1) }];
      const before = await reference.forward(data);
      for (let i = 0; i < 3; i++) {
        await policy.forwardBackward(data, { kind: 'cross_entropy', weights: [new Float32Array(tokens.length - 1).fill(1)] });
        await policy.optimStep(adam);
      }
      assert.notDeepEqual(Array.from((await policy.forward(data))[0] ?? []), Array.from(before[0] ?? []), 'the policy trained');
      assert.deepEqual(Array.from((await reference.forward(data))[0] ?? []), Array.from(before[0] ?? []), 'the reference did not move');
      const third = await postJson(`${base}/create_model`, { session_id: policy.currentSessionId, model_seq_id: 5, base_model: 'bigram-test' });
      assert.equal(third.status, 409);
      assert.match((third.json as { detail: string }).detail, /at most 2 models.*--max-models/);
      await reference.close();
      const again = await postJson(`${base}/create_model`, { session_id: policy.currentSessionId, model_seq_id: 6, base_model: 'bigram-test' });
      assert.equal(again.status, 200, 'an unloaded model frees its place');
      await policy.close();
    },
  );
});

test('unimplemented routes and losses are named; telemetry is accepted', async () => {
  await withServer(async (_setup, base) => {
      const missing = await postJson(`${base}/training_runs`, {});
      assert.equal(missing.status, 404);
      assert.match((missing.json as { detail: string }).detail, /not implemented by cir serve \(it implements: .*retrieve_future/);
      assert.equal((await postJson(`${base}/telemetry`, { events: [] })).status, 200);
      const { modelId } = await newModel(base);
      const cispo = await postJson(`${base}/forward_backward`, { model_id: modelId, seq_id: 1, forward_backward_input: { loss_fn: 'cispo', data: [] } });
      assert.equal(cispo.status, 400);
      assert.match((cispo.json as { detail: string }).detail, /"cispo" is not implemented by cir serve/);
  });
});

test('the session map is capped: the least recently seen session makes room', async () => {
  await withServer(
    async (_setup, base) => {
      const sessions = [];
      for (let i = 0; i < 3; i++) sessions.push(((await postJson(`${base}/create_session`, {})).json as { session_id: string }).session_id);
      assert.equal((await postJson(`${base}/session_heartbeat`, { session_id: sessions[2] })).status, 200);
      assert.equal((await postJson(`${base}/session_heartbeat`, { session_id: sessions[0] })).status, 404, 'the oldest session made room');
    },
    { tinkerCaps: { maxSessions: 2 } },
  );
});

test('training queued behind a create_model waits for it, and never runs on another model\'s backend when it fails', async () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  await withServer(
    async (setup, base) => {
      await newModel(base);
      const { session_id: sessionId } = (await postJson(`${base}/create_session`, {})).json as { session_id: string };
      const created = (await postJson(`${base}/create_model`, { session_id: sessionId, model_seq_id: 0, base_model: 'bigram-test' })).json as { request_id: string; model_id: string };
      const tokens = setup.tokenizer.encode('abab');
      let firstBackendSteps = 0;
      const original = setup.backend.forwardBackward.bind(setup.backend);
      setup.backend.forwardBackward = async (...args) => {
        firstBackendSteps++;
        return original(...args);
      };
      const queued = await postBytes(`${base}/forward_backward`, fbBytes(created.model_id, 1, tokens), { 'content-type': PROTO });
      assert.equal(queued.status, 200);
      release();
      const failed = await result(base, created.request_id);
      assert.match((failed.json as { error: string }).error, /no backend for you/);
      const fb = await result(base, (queued.json as { request_id: string }).request_id);
      assert.match((fb.json as { error: string }).error, /not found \(its creation failed/);
      assert.equal(firstBackendSteps, 0, 'nothing ran on the first model\'s backend');
    },
    {
      createBackend: async () => {
        await gate;
        throw new Error('no backend for you');
      },
    },
  );
});
