/**
 * TinkerPolicy (src/engines) against a real `cir serve` over loopback, with a bigram backend:
 * sampling, every loss path, optimizer steps, save/resume, and faults (slow futures, 5xx, dropped
 * connections, expired sessions, refusals, path traversal).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { symlink, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdamParams, TokenLossFunction, TrainingDatum } from '../core/policy.js';
import { createTinkerPolicy, type TinkerPolicyOptions } from '../engines/tinker-policy.js';
import { TinkerApiError, TinkerSessionExpiredError, type FetchFunction } from '../engines/tinker-client.js';
import { tinkerLoss } from '../core/builtin-losses.js';
import { postJson, startBigramServer, type BigramServer } from './testing/support.js';

const adam: AdamParams = { learningRate: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, gradClip: 0 };
const noSleep = { now: () => Date.now(), sleep: async () => undefined };

async function withServer(run: (setup: BigramServer) => Promise<void>, overrides: Parameters<typeof startBigramServer>[0] = {}): Promise<void> {
  const setup = await startBigramServer(overrides);
  try {
    await run(setup);
  } finally {
    await setup.server.close();
  }
}

const policyFor = (setup: BigramServer, extra: Partial<TinkerPolicyOptions> = {}) =>
  createTinkerPolicy({ baseUrl: setup.server.url, baseModel: 'bigram-test', loraRank: 8, heartbeatMs: 0, clock: noSleep, tokenizer: setup.tokenizer, ...extra });

const datum = (setup: BigramServer, text: string): TrainingDatum => {
  const tokens = setup.tokenizer.encode(text);
  return { tokens, lossMask: new Float32Array(tokens.length - 1).fill(1) };
};

test('sampling, forward and a cross-entropy step through the Tinker API change the served model', async () => {
  await withServer(async (setup) => {
    const policy = await policyFor(setup);
    assert.equal(policy.contextWindow, 256, 'taken from get_server_capabilities');
    const prompt = setup.tokenizer.encode('ab');
    const [first] = await policy.sample({ promptTokens: prompt, params: { temperature: 1, topP: 1, topK: 0, maxTokens: 8, seed: 3 }, n: 2 });
    assert.equal(first?.tokens.length, 8);
    assert.equal(first?.logprobs?.length, 8);
    assert.equal(first?.finishReason, 'length');

    const data = [datum(setup, 'abababab')];
    const before = await policy.forward(data);
    assert.deepEqual(Array.from(before[0] ?? []), Array.from((await setup.backend.forward(data))[0] ?? []), 'remote log-probs are the backend log-probs');
    for (let step = 0; step < 5; step++) {
      const result = await policy.forwardBackward(data, { kind: 'cross_entropy', weights: [new Float32Array(7).fill(1)] });
      assert.ok(Number.isFinite(result.loss));
      const { gradNorm } = await policy.optimStep(adam);
      assert.ok(gradNorm > 0);
    }
    const after = await policy.forward(data);
    const sum = (x: Float32Array | undefined) => Array.from(x ?? []).reduce((a, b) => a + b, 0);
    assert.ok(sum(after[0]) > sum(before[0]) + 1, `log-likelihood rose: ${sum(before[0])} → ${sum(after[0])}`);
    // Sampling now goes through a fresh sampler snapshot of the trained weights.
    const [greedy] = await policy.sample({ promptTokens: setup.tokenizer.encode('a'), params: { temperature: 0, topP: 1, topK: 0, maxTokens: 4, stopTokenIds: [0], stop: ['ba'] } });
    assert.equal(setup.tokenizer.decode(greedy?.tokens ?? []), 'ba', 'stop string applied with stop ids given');
    assert.equal(greedy?.stopReason, 'ba');
    await policy.close();
  });
});

test('a TokenLossFunction gives exactly the gradient of the same built-in loss (forward + weighted cross-entropy)', async () => {
  const runOnce = async (useFunction: boolean) => {
    let logprobs: Float32Array[] = [];
    await withServer(async (setup) => {
      const policy = await policyFor(setup);
      const data = [datum(setup, 'hello world'), datum(setup, 'abc = 12')];
      const sampling = await policy.forward(data);
      const advantages = data.map((d, i) => new Float32Array(d.tokens.length - 1).fill(i === 0 ? 1 : -0.5));
      if (useFunction) {
        const lossFunction: TokenLossFunction = (current) => tinkerLoss('ppo', data.map((_, d) => ({ advantages: advantages[d] as Float32Array, logprobs: sampling[d] as Float32Array })), { clip_low_threshold: 0.8, clip_high_threshold: 1.28 })(current);
        await policy.forwardBackward(data, lossFunction);
      } else {
        await policy.forwardBackward(data, { kind: 'ppo', advantages, samplingLogprobs: sampling, clipLow: 0.8, clipHigh: 1.28 });
      }
      await policy.optimStep(adam);
      logprobs = await policy.forward(data);
      await policy.close();
    });
    return logprobs;
  };
  const builtin = await runOnce(false);
  const custom = await runOnce(true);
  assert.equal(builtin.length, 2);
  builtin.forEach((row, d) => row.forEach((value, t) => assert.ok(Math.abs(value - (custom[d]?.[t] ?? NaN)) < 1e-5, `datum ${d} token ${t}`)));
});

test('save and resume: load restores weights (on a fresh model), and a new client resumes from the path', async () => {
  await withServer(async (setup) => {
    const policy = await policyFor(setup);
    const data = [datum(setup, 'resume me')];
    await policy.forwardBackward(data, { kind: 'cross_entropy', weights: [new Float32Array(8).fill(1)] });
    await policy.optimStep(adam);
    const path = await policy.save('step-1');
    assert.match(path, /^tinker:\/\/model_[0-9a-f]+\/weights\/step-1$/);
    const saved = await policy.forward(data);
    await policy.forwardBackward(data, { kind: 'cross_entropy', weights: [new Float32Array(8).fill(1)] });
    await policy.optimStep(adam);
    assert.notDeepEqual(Array.from((await policy.forward(data))[0] ?? []), Array.from(saved[0] ?? []));
    await policy.load(path);
    assert.deepEqual(Array.from((await policy.forward(data))[0] ?? []), Array.from(saved[0] ?? []));
    await policy.close();
    const resumed = await policyFor(setup, { resumeFrom: path });
    assert.deepEqual(Array.from((await resumed.forward(data))[0] ?? []), Array.from(saved[0] ?? []));
    await resumed.close();
  });
});

test('slow futures are polled until done; 5xx and dropped connections are retried', async () => {
  await withServer(
    async (setup) => {
      // Slow the backend's training steps well past the server's 10 ms long-poll hold.
      const original = setup.backend.forwardBackward.bind(setup.backend);
      setup.backend.forwardBackward = async (...args) => {
        await new Promise((resolve) => setTimeout(resolve, 120));
        return original(...args);
      };
      const dropper = createServer((request) => request.socket.destroy());
      await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
      const dropUrl = `http://127.0.0.1:${(dropper.address() as AddressInfo).port}`;
      let failures503 = 2;
      let drops = 1;
      const faulty: FetchFunction = async (input, init) => {
        if (input.endsWith('/forward_backward') && failures503 > 0) {
          failures503--;
          return new Response(JSON.stringify({ detail: 'temporarily overloaded' }), { status: 503 });
        }
        if (input.endsWith('/asample') && drops > 0) {
          drops--;
          return fetch(input.replace(setup.server.url, dropUrl), init); // a real connection reset
        }
        return fetch(input, init);
      };
      try {
        const policy = await policyFor(setup, { fetch: faulty });
        const data = [datum(setup, 'slow')];
        const result = await policy.forwardBackward(data, { kind: 'cross_entropy', weights: [new Float32Array(3).fill(1)] });
        assert.equal(result.logprobs[0]?.length, 3);
        assert.equal(failures503, 0);
        assert.ok(policy.client.stats.polls >= 3, `polled ${policy.client.stats.polls} times`);
        const [sequence] = await policy.sample({ promptTokens: setup.tokenizer.encode('a'), params: { temperature: 1, topP: 1, topK: 0, maxTokens: 3 } });
        assert.equal(sequence?.tokens.length, 3);
        assert.equal(drops, 0);
        assert.ok(policy.client.stats.retries >= 3);
        await policy.close();
      } finally {
        dropper.close();
      }
    },
    { futureHoldMs: 10 },
  );
});

test('an expired session is a clear TinkerSessionExpiredError; refusals are TinkerApiError and do not jam seq_ids', async () => {
  let now = 0;
  await withServer(
    async (setup) => {
      const policy = await policyFor(setup);
      const data = [datum(setup, 'abc')];
      await assert.rejects(policy.forwardBackward(data, { kind: 'ppo', advantages: [new Float32Array(2)], samplingLogprobs: [new Float32Array(2)], clipLow: 1.5, clipHigh: 0.2 }), (error: unknown) => error instanceof TinkerApiError && error.status === 400 && /clip_low_threshold/.test(error.detail));
      // The refused request did not consume a seq_id: the next one runs.
      assert.equal((await policy.forward(data))[0]?.length, 2);
      now += 301_000;
      await assert.rejects(policy.forward(data), (error: unknown) => error instanceof TinkerSessionExpiredError && /heartbeat|expired/i.test(error.message));
      await assert.rejects(policyFor(setup, { baseModel: 'Qwen/Qwen2.5-Math-7B' }), /not served at .* \(it serves: bigram-test\)/);
    },
    { now: () => now },
  );
});

test('checkpoint paths are confined to the checkpoint folder: traversal and symlinks are refused', async () => {
  await withServer(async (setup) => {
    const base = setup.server.url;
    const session = (await postJson(`${base}/api/v1/create_session`, {})).json as { session_id: string };
    const created = (await postJson(`${base}/api/v1/create_model`, { session_id: session.session_id, base_model: 'bigram-test', lora_config: { rank: 4 } })).json as { request_id: string; model_id: string };
    const modelId = created.model_id;
    for (const name of ['../escape', '/etc/passwd', 'a/b', '..', '.base', '%2e%2e']) {
      const saved = await postJson(`${base}/api/v1/save_weights`, { model_id: modelId, seq_id: 1, path: name });
      assert.equal(saved.status, 400, name);
      assert.match((saved.json as { detail: string }).detail, /may only use letters/);
    }
    for (const path of ['tinker://m/weights/../../etc/passwd', 'tinker://m/weights/..', 'file:///etc/passwd', 'tinker://m/weights/.base']) {
      const loaded = await postJson(`${base}/api/v1/load_weights`, { model_id: modelId, seq_id: 1, path, optimizer: true });
      assert.equal(loaded.status, 400, path);
    }
    const outside = await mkdtemp(join(tmpdir(), 'cir-outside-'));
    await writeFile(join(outside, 'secret'), '{"magic":"cir-bigram"}');
    await symlink(join(outside, 'secret'), join(setup.checkpointDir, 'linked'));
    const future = (await postJson(`${base}/api/v1/load_weights`, { model_id: modelId, seq_id: 1, path: 'tinker://m/weights/linked', optimizer: true })).json as { request_id: string };
    const answer = await postJson(`${base}/api/v1/retrieve_future`, { request_id: future.request_id });
    // A failed future in the hosted shape (api_future_impl.py @ d595dc2): 200 with error and category.
    assert.equal(answer.status, 200);
    assert.equal((answer.json as { category: string }).category, 'user');
    assert.match((answer.json as { error: string }).error, /resolves outside the checkpoint folder/);
  });
});

test('training requests run in seq_id order; a replay returns the same future, a different body is 409', async () => {
  await withServer(
    async (setup) => {
      const base = setup.server.url;
      const session = (await postJson(`${base}/api/v1/create_session`, {})).json as { session_id: string };
      const { model_id: modelId } = (await postJson(`${base}/api/v1/create_model`, { session_id: session.session_id, base_model: 'bigram-test' })).json as { model_id: string };
      const second = (await postJson(`${base}/api/v1/optim_step`, { model_id: modelId, seq_id: 2, adam_params: { learning_rate: 0.1 } })).json as { request_id: string };
      // seq 2 waits for seq 1.
      assert.equal((await postJson(`${base}/api/v1/retrieve_future`, { request_id: second.request_id })).status, 408);
      const body = {
        model_id: modelId,
        seq_id: 1,
        forward_backward_input: { loss_fn: 'cross_entropy', data: [{ model_input: { chunks: [{ type: 'encoded_text', tokens: [1, 2] }] }, loss_fn_inputs: { target_tokens: { data: [2, 3], dtype: 'int64' }, weights: { data: [1, 1], dtype: 'float32' } } }] },
      };
      const first = (await postJson(`${base}/api/v1/forward_backward`, body)).json as { request_id: string };
      const replay = (await postJson(`${base}/api/v1/forward_backward`, body)).json as { request_id: string };
      assert.equal(replay.request_id, first.request_id);
      const reused = await postJson(`${base}/api/v1/forward_backward`, { ...body, forward_backward_input: { ...body.forward_backward_input, loss_fn: 'importance_sampling' } });
      assert.equal(reused.status, 409);
      const fb = (await postJson(`${base}/api/v1/retrieve_future`, { request_id: first.request_id })).json as { loss_fn_outputs: unknown[]; metrics: Record<string, number> };
      assert.equal(fb.loss_fn_outputs.length, 1);
      assert.ok((fb.metrics['loss:sum'] ?? 0) > 0);
      // optim_step ran after forward_backward, so it saw a gradient.
      let optim = await postJson(`${base}/api/v1/retrieve_future`, { request_id: second.request_id });
      while (optim.status === 408) optim = await postJson(`${base}/api/v1/retrieve_future`, { request_id: second.request_id });
      assert.ok(((optim.json as { metrics: { grad_norm: number } }).metrics.grad_norm ?? 0) > 0);
      const unknown = await postJson(`${base}/api/v1/retrieve_future`, { request_id: 'req_nope' });
      assert.equal(unknown.status, 404);
      // With --max-models 1 a second training client is refused while one is loaded.
      const other = await postJson(`${base}/api/v1/create_model`, { session_id: session.session_id, base_model: 'bigram-test' });
      assert.equal(other.status, 409);
      assert.match((other.json as { detail: string }).detail, /at most 1 model .*--max-models/);
      const fresh = await postJson(`${base}/api/v1/asample`, { base_model: 'bigram-test', num_samples: 2, prompt: { chunks: [{ type: 'encoded_text', tokens: [1] }] }, sampling_params: { max_tokens: 3, stop: [0] } });
      assert.equal(fresh.status, 200);
      const mixed = await postJson(`${base}/api/v1/asample`, { base_model: 'bigram-test', prompt: { chunks: [{ type: 'encoded_text', tokens: [1] }] }, sampling_params: { max_tokens: 3, stop: [0, 'x'] } });
      assert.equal(mixed.status, 400);
      const missingMax = await postJson(`${base}/api/v1/asample`, { base_model: 'bigram-test', prompt: { chunks: [{ type: 'encoded_text', tokens: [1] }] }, sampling_params: {} });
      assert.equal(missingMax.status, 400);
    },
    { futureHoldMs: 20, maxModels: 1 },
  );
});
