/**
 * The Tinker client against recorded response shapes (protocols.md §1.3: hosted and SkyRL), with a
 * scripted fetch and a clock that records sleeps instead of waiting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TinkerApiError, TinkerClient, TinkerConnectionError, TinkerFutureError, serverConfigFromWire, shouldRetry, type Clock, type FetchFunction } from './tinker-client.js';
import { applyStopStrings, builtinToWire, stopForWire } from './tinker-policy.js';
import type { Tokenizer } from '../core/tokenizer.js';

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A fetch that answers from a script, recording each call's path and body. */
function scripted(replies: Array<Reply | Error>): { fetch: FetchFunction; calls: Array<{ path: string; body: unknown; headers: Record<string, string> }> } {
  const calls: Array<{ path: string; body: unknown; headers: Record<string, string> }> = [];
  const fetch: FetchFunction = async (input, init) => {
    calls.push({ path: new URL(input).pathname, body: init.body ? (JSON.parse(String(init.body)) as unknown) : null, headers: init.headers as Record<string, string> });
    const reply = replies.shift();
    if (!reply) throw new Error('script exhausted');
    if (reply instanceof Error) throw reply;
    return new Response(reply.body === undefined ? '' : JSON.stringify(reply.body), { status: reply.status, headers: reply.headers ?? {} });
  };
  return { fetch, calls };
}

function fakeClock(): Clock & { slept: number[] } {
  const slept: number[] = [];
  return { slept, now: () => 0, sleep: async (ms) => void slept.push(ms) };
}

const client = (fetch: FetchFunction, clock: Clock, extra: Partial<ConstructorParameters<typeof TinkerClient>[0]> = {}) =>
  new TinkerClient({ baseUrl: 'http://tinker.test/', apiKey: 'tml-test', fetch, clock, random: () => 0, ...extra });

test('hosted futures: try_again and 408 mean poll again; the raw result is returned', async () => {
  const result = { loss_fn_output_type: 'TensorData', loss_fn_outputs: [], metrics: { 'loss:sum': 1.5 } };
  const { fetch, calls } = scripted([
    { status: 200, body: { request_id: 'req-1', model_id: 'sess:train:0' } },
    { status: 200, body: { type: 'try_again', request_id: 'req-1', queue_state: 'paused_capacity' } },
    { status: 408, body: { detail: 'Timeout waiting for result' } },
    { status: 200, body: result },
  ]);
  const tinker = client(fetch, fakeClock());
  assert.deepEqual(await tinker.submit('/forward_backward', { model_id: 'm', seq_id: 1 }), result);
  assert.deepEqual(calls.map((c) => c.path), ['/api/v1/forward_backward', '/api/v1/retrieve_future', '/api/v1/retrieve_future', '/api/v1/retrieve_future']);
  assert.deepEqual(calls[1]?.body, { request_id: 'req-1', allow_metadata_only: false });
  assert.equal(calls[0]?.headers['x-api-key'], 'tml-test');
  assert.ok(calls[0]?.headers['x-idempotency-key']);
});

test('a failed future is a TinkerFutureError with its category (hosted 200 {error}, SkyRL 400 {detail})', async () => {
  const hosted = scripted([
    { status: 200, body: { request_id: 'req-2' } },
    { status: 200, body: { error: 'Invalid loss_fn_inputs: missing advantages', category: 'user' } },
  ]);
  await assert.rejects(client(hosted.fetch, fakeClock()).submit('/forward_backward', {}), (error: unknown) => error instanceof TinkerFutureError && error.category === 'user' && /missing advantages/.test(error.message));
  const skyrl = scripted([
    { status: 200, body: { request_id: 'req-3', future_id: 'f', status: 'pending' } },
    { status: 400, body: { detail: 'LoadWeights is not permitted with seq_id 4' } },
  ]);
  await assert.rejects(client(skyrl.fetch, fakeClock()).submit('/load_weights', {}), (error: unknown) => error instanceof TinkerFutureError && error.detail === 'LoadWeights is not permitted with seq_id 4');
});

test('an expired promise (410) is resubmitted with the same body', async () => {
  const { fetch, calls } = scripted([
    { status: 200, body: { request_id: 'old' } },
    { status: 410, body: { detail: 'promise expired' } },
    { status: 200, body: { request_id: 'new' } },
    { status: 200, body: { path: 'tinker://m/weights/a' } },
  ]);
  assert.deepEqual(await client(fetch, fakeClock()).submit('/save_weights', { seq_id: 3, path: 'a' }), { path: 'tinker://m/weights/a' });
  assert.deepEqual(calls[2]?.body, { seq_id: 3, path: 'a' });
});

test('5xx, 429 and dropped connections are retried with backoff; retry-after is honoured; the key is reused', async () => {
  const reset = new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
  const { fetch, calls } = scripted([
    { status: 503, body: { detail: 'overloaded' } },
    reset,
    { status: 429, body: {}, headers: { 'retry-after-ms': '1234' } },
    { status: 200, body: { session_id: 's' } },
  ]);
  const clock = fakeClock();
  const tinker = client(fetch, clock);
  assert.deepEqual(await tinker.post('/create_session', {}), { session_id: 's' });
  assert.deepEqual(clock.slept, [500, 1000, 1234]);
  assert.equal(new Set(calls.map((c) => c.headers['x-idempotency-key'])).size, 1);
  assert.equal(tinker.stats.retries, 3);
});

test('the service refusing (4xx) is not retried and the error carries status and detail; exhaustion is reported', async () => {
  const refused = scripted([{ status: 422, body: { detail: [{ loc: ['body', 'seq_id'], msg: 'field required' }] } }]);
  await assert.rejects(client(refused.fetch, fakeClock()).post('/optim_step', {}), (error: unknown) => error instanceof TinkerApiError && error.status === 422 && !error.isRetryable && /field required/.test(error.detail));
  const down = scripted([{ status: 502 }, { status: 502 }, { status: 502 }]);
  await assert.rejects(client(down.fetch, fakeClock(), { maxRetries: 2 }).post('/create_session', {}), (error: unknown) => error instanceof TinkerApiError && error.status === 502 && error.isRetryable);
  const gone = scripted([new TypeError('fetch failed'), new TypeError('fetch failed')]);
  await assert.rejects(client(gone.fetch, fakeClock(), { maxRetries: 1 }).get('/healthz'), (error: unknown) => error instanceof TinkerConnectionError && /after 2 attempts/.test(error.message));
  const never = scripted([{ status: 500, headers: { 'x-should-retry': 'false' }, body: { detail: 'bad' } }]);
  await assert.rejects(client(never.fetch, fakeClock()).post('/x', {}), (error: unknown) => error instanceof TinkerApiError && error.status === 500 && !error.isRetryable);
});

test("retry rules: the project policy (core/retry.ts) with Tinker's permanent 409s", () => {
  const none = new Headers();
  assert.deepEqual([400, 401, 404, 408, 409, 422, 429, 500, 503].map((s) => shouldRetry(s, none)), [false, false, false, true, true, false, true, true, true]);
  assert.equal(shouldRetry(400, new Headers({ 'x-should-retry': 'true' })), true);
  // SkyRL's two permanent 409s (api.py @ a956457) are never retried; a lock conflict is.
  assert.equal(shouldRetry(409, none, 'Training request sequence number was reused'), false);
  assert.equal(shouldRetry(409, none, "Checkpoint 'step-1' already exists for model 'model_1'"), false);
  assert.equal(shouldRetry(409, none, 'lock timeout'), true);
  assert.equal(shouldRetry(409, new Headers({ 'x-should-retry': 'true' }), 'Training request sequence number was reused'), true, 'the server has the last word');
});

test('builtin losses map to Tinker inputs: masks zero the advantages, ratio bounds pass through', () => {
  const data = [{ tokens: [1, 2, 3, 4], lossMask: [0, 1, 1] }];
  const wire = builtinToWire({ kind: 'ppo', advantages: [Float32Array.from([5, 6, 7])], samplingLogprobs: [Float32Array.from([-1, -2, -3])], clipLow: 0.8, clipHigh: 1.28 }, data);
  assert.equal(wire.name, 'ppo');
  assert.deepEqual(Array.from(wire.inputs[0]?.['advantages'] ?? []), [0, 6, 7]);
  assert.ok(Math.abs((wire.config?.['clip_low_threshold'] ?? 0) - 0.8) < 1e-12);
  assert.ok(Math.abs((wire.config?.['clip_high_threshold'] ?? 0) - 1.28) < 1e-12);
  assert.throws(() => builtinToWire({ kind: 'cross_entropy', weights: [new Float32Array(2)] }, data), /needs 3 values for datum 0/);
});

test('stop handling: ids go on the wire, strings with ids are applied client-side and kept', () => {
  assert.deepEqual(stopForWire({ stop: ['```'], stopTokenIds: [0] }), { wire: [0], clientStrings: ['```'] });
  assert.deepEqual(stopForWire({ stop: ['```'] }), { wire: ['```'], clientStrings: [] });
  assert.deepEqual(stopForWire({}), { wire: null, clientStrings: [] });
  const alphabet = 'abc`';
  const tokenizer: Tokenizer = {
    name: 'chars',
    vocabSize: alphabet.length,
    eosTokenId: 0,
    encode: (text) => [...text].map((char) => alphabet.indexOf(char)),
    decode: (ids) => ids.map((id) => alphabet[id] ?? '?').join(''),
  };
  const tokens = tokenizer.encode('ab```cab');
  const cut = applyStopStrings({ tokens, logprobs: tokens.map(() => -1), finishReason: 'length' }, ['```'], tokenizer);
  assert.deepEqual(cut.tokens, tokenizer.encode('ab```'));
  assert.equal(cut.logprobs?.length, 5);
  assert.equal(cut.finishReason, 'stop');
  assert.equal(cut.stopReason, '```');
});

test("/client/config: SkyRL's one flag and a hosted answer both read, with the SDK defaults (ClientConfigResponse @ d595dc2) for what is missing", () => {
  const skyrl = serverConfigFromWire({ pjwt_auth_enabled: false });
  assert.equal(skyrl.protoWriteFwdbwd, null, 'unsaid: SDK 0.25 sends protobuf regardless');
  assert.equal(skyrl.fwdbwdMaxChunkLen, 1024);
  assert.equal(skyrl.fwdbwdMaxChunkBytes, 5_000_000);
  assert.equal(skyrl.billingPauseMaxSec, 3600);
  const hosted = serverConfigFromWire({ proto_write_fwdbwd: false, proto_compress_fwdbwd: true, fwdbwd_max_chunk_len: 64, fwdbwd_max_chunk_bytes_count: 'x' });
  assert.equal(hosted.protoWriteFwdbwd, false);
  assert.equal(hosted.protoCompressFwdbwd, true);
  assert.equal(hosted.fwdbwdMaxChunkLen, 64);
  assert.equal(hosted.fwdbwdMaxChunkBytes, 5_000_000, 'a malformed value falls back to the default');
});
