import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadHfTokenizer } from '../tokenizers/index.js';
import { qwen3TokenizerDir } from '../tokenizers/testing/qwen3.js';
import type { SampleChunk, SamplingParams } from '../core/sampling.js';
import { InputError, UnsupportedError } from '../core/errors.js';
import { startFakeVllm, type FakeFault, type FakeRequest, type FakeVllmServer } from './testing/fake-vllm.js';
import { retryAfterMs, retryDelayMs } from '../core/retry.js';
import { EngineRequestError } from './http-retry.js';
import { OpenAICompatibleEngine, mapFinishReason, type OpenAICompatibleOptions } from './openai-compatible.js';

const tokenizer = await loadHfTokenizer(qwen3TokenizerDir());
const ANSWER = 'The sum is 4, computed carefully step by step.';
const planned = [...tokenizer.encode(ANSWER), tokenizer.eosTokenId];
const prompt = tokenizer.encode('What is 2+2?');
const params: SamplingParams = { temperature: 1, topP: 1, topK: 0, maxTokens: 100 };

const servers: FakeVllmServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});
async function server(fault?: (request: FakeRequest) => FakeFault | null, extra: { tokenIds?: boolean; flavour?: 'vllm' | 'sglang' | 'llamacpp-oai' } = {}) {
  const started = await startFakeVllm({ tokenizer, respond: () => ANSWER, ...(fault ? { fault } : {}), ...extra });
  servers.push(started);
  return started;
}
const delays: number[] = [];
function engine(urls: string | string[], extra: Partial<OpenAICompatibleOptions> = {}) {
  return new OpenAICompatibleEngine({
    endpoints: urls,
    model: 'qwen',
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 0.5,
    ...extra,
  });
}
async function collect(stream: AsyncIterable<SampleChunk>): Promise<SampleChunk[]> {
  const chunks: SampleChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

test('non-streaming: ids in, ids and logprobs out, vLLM fields on the wire', async () => {
  const fake = await server();
  const [sequence] = await engine(fake.url).sample({ promptTokens: prompt, params: { ...params, seed: 7, stop: ['```\n'], stopTokenIds: [151643] } });
  assert.deepEqual(sequence?.tokens, planned);
  assert.equal(sequence?.finishReason, 'stop');
  assert.equal(sequence?.stopReason, null);
  assert.equal(sequence?.logprobs?.length, planned.length);
  const body = fake.requests[0]?.body;
  assert.deepEqual(body?.['prompt'], prompt);
  assert.equal(body?.['return_token_ids'], true);
  assert.equal(body?.['top_k'], -1);
  assert.equal(body?.['seed'], 7);
  assert.equal(body?.['include_stop_str_in_output'], true);
  assert.deepEqual(body?.['stop_token_ids'], [151643]);
  const short = await engine(`${fake.url}/v1/`).sample({ promptTokens: prompt, params: { ...params, maxTokens: 3 }, n: 2 });
  assert.equal(short.length, 2);
  assert.deepEqual(short[1]?.tokens, planned.slice(0, 3));
  assert.equal(short[0]?.finishReason, 'length');
});

test('streaming: delta ids concatenate to the sampled sequence, finish on the last chunk', async () => {
  const fake = await server();
  const chunks = await collect(engine(fake.url).stream({ promptTokens: prompt, params }));
  assert.deepEqual(chunks.flatMap((c) => c.tokens), planned);
  assert.deepEqual(chunks.flatMap((c) => c.logprobs ?? []).length, planned.length);
  assert.equal(chunks.at(-1)?.finishReason, 'stop');
  assert.ok(chunks.slice(0, -1).every((c) => c.finishReason === undefined));
});

/** Waits until `condition` holds, polling; gives up after 10 s (the assertion that follows then fails). */
async function until(condition: () => boolean): Promise<void> {
  for (const started = Date.now(); !condition() && Date.now() - started < 10_000; ) await new Promise((resolve) => setTimeout(resolve, 5));
}

test('leaving the stream early aborts the request, so the server stops generating', async () => {
  const fake = await startFakeVllm({ tokenizer, respond: () => 'word '.repeat(400), chunkDelayMs: 2 });
  servers.push(fake);
  let received = 0;
  for await (const chunk of engine(fake.url).stream({ promptTokens: prompt, params: { ...params, maxTokens: 1000 } })) {
    received += chunk.tokens.length;
    if (received >= 6) break;
  }
  await until(() => fake.requests[0]?.cancelled === true);
  const request = fake.requests[0];
  assert.ok(request);
  assert.equal(request.cancelled, true);
  assert.ok(request.tokensSent < request.plannedTokens / 2, `sent ${request.tokensSent} of ${request.plannedTokens}`);
});

test('429/5xx are retried with backoff and retry-after; 4xx fail at once with their data', async () => {
  const fake = await server((r) => (r.index === 0 ? { kind: 'status', status: 503 } : r.index === 1 ? { kind: 'status', status: 429, retryAfter: '2' } : null));
  delays.length = 0;
  const client = engine(fake.url);
  const [sequence] = await client.sample({ promptTokens: prompt, params });
  assert.deepEqual(sequence?.tokens, planned);
  assert.equal(client.counters.retries, 2);
  assert.deepEqual(delays, [500 * (1 - 0.25 * 0.5), 2000]);

  const bad = await server(() => ({ kind: 'status', status: 400, message: 'max_tokens too large' }));
  await assert.rejects(engine(bad.url).sample({ promptTokens: prompt, params }), (error: unknown) => {
    assert.ok(error instanceof EngineRequestError);
    assert.equal(error.status, 400);
    assert.equal(error.isRetryable, false);
    assert.match(error.message, /max_tokens too large/);
    return true;
  });
  assert.equal(bad.requests.length, 1);

  const down = await server(() => ({ kind: 'status', status: 500 }));
  await assert.rejects(engine(down.url, { maxRetries: 2 }).sample({ promptTokens: prompt, params }), (error: unknown) => error instanceof EngineRequestError && /after 3 attempts/.test(error.message) && error.status === 500);
  assert.equal(down.requests.length, 3);
});

test('a hanging server times out and the retry succeeds', async () => {
  const fake = await server((r) => (r.index === 0 ? { kind: 'hang' } : null));
  const [sequence] = await engine(fake.url, { timeoutMs: 1000 }).sample({ promptTokens: prompt, params });
  assert.deepEqual(sequence?.tokens, planned);
  assert.equal(fake.requests.length, 2);
});

test('broken streams (dropped, truncated, stalled, error event) resume from the delivered ids', async () => {
  const faults: FakeFault[] = [
    { kind: 'drop', afterTokens: 6 },
    { kind: 'truncate', afterTokens: 3 },
    { kind: 'stall', afterTokens: 6 },
    { kind: 'stream-error', afterTokens: 3, status: 503 },
  ];
  for (const fault of faults) {
    const fake = await server((r) => (r.index === 0 ? fault : null));
    // The idle limit only has to tell a stall from a slow machine: a resumed stream that pauses under load
    // must not count as a second stall.
    const client = engine(fake.url, { idleTimeoutMs: 1000 });
    const chunks = await collect(client.stream({ promptTokens: prompt, params }));
    assert.deepEqual(chunks.flatMap((c) => c.tokens), planned, fault.kind);
    assert.equal(client.counters.resumes, 1, fault.kind);
    const resumed = fake.requests[1];
    const delivered = 'afterTokens' in fault ? fault.afterTokens : 0;
    assert.deepEqual(resumed?.body['prompt'], [...prompt, ...planned.slice(0, delivered)], `${fault.kind}: resumed from delivered ids`);
    assert.equal(resumed?.body['max_tokens'], params.maxTokens - delivered);
  }
  const dropped = await server((r) => (r.index === 0 ? { kind: 'drop', afterTokens: 0 } : null));
  const [sequence] = await engine(dropped.url).sample({ promptTokens: prompt, params });
  assert.deepEqual(sequence?.tokens, planned, 'a body cut mid-JSON is retried');
});

test('several endpoints share the load; a dead one is skipped', async () => {
  const first = await server();
  const second = await server();
  const client = engine([first.url, second.url]);
  await Promise.all(Array.from({ length: 6 }, () => client.sample({ promptTokens: prompt, params })));
  assert.equal(first.requests.length, 3);
  assert.equal(second.requests.length, 3);
  const dead = await server();
  await dead.close();
  const withDead = engine([dead.url, first.url]);
  const before = first.requests.length;
  const results = await Promise.all(Array.from({ length: 4 }, () => withDead.sample({ promptTokens: prompt, params })));
  assert.ok(results.every(([s]) => s?.tokens.length === planned.length));
  assert.equal(first.requests.length - before, 4);
});

test('text mode for servers without ids; token mode there fails with a clear message', async () => {
  const fake = await server(undefined, { tokenIds: false });
  const text = engine(fake.url, { mode: 'text', tokenizer });
  assert.equal(text.tokenExact, false);
  const [sequence] = await text.sample({ promptTokens: prompt, params });
  assert.equal(sequence?.text, ANSWER);
  assert.equal(fake.requests[0]?.body['prompt'], 'What is 2+2?');
  const chunks = await collect(text.stream({ promptTokens: prompt, params }));
  assert.equal(chunks.map((c) => c.text).join(''), ANSWER);
  await assert.rejects(engine(fake.url).sample({ promptTokens: prompt, params }), (error: unknown) => error instanceof EngineRequestError && error.status === 400);
  assert.throws(() => engine(fake.url, { mode: 'text' }), InputError);
  assert.throws(() => engine('ftp://x'), InputError);
});

test('aborting the caller signal stops the request without retries', async () => {
  const fake = await server(() => ({ kind: 'hang' }));
  const controller = new AbortController();
  const pending = engine(fake.url).sample({ promptTokens: prompt, params, signal: controller.signal });
  // Abort once the server holds the request (a fixed delay can fire before it arrives on a busy machine).
  await until(() => fake.requests.length === 1);
  controller.abort();
  await assert.rejects(pending, (error: unknown) => error instanceof EngineRequestError && error.kind === 'aborted' && !error.isRetryable);
  assert.equal(fake.requests.length, 1);
});

test('finish reasons and retry-after parsing', () => {
  assert.equal(mapFinishReason('stop'), 'stop');
  assert.equal(mapFinishReason('length'), 'length');
  assert.equal(mapFinishReason('abort'), 'abort');
  assert.equal(mapFinishReason(null), null);
  assert.equal(retryAfterMs(new Headers({ 'retry-after-ms': '120' })), 120);
  assert.equal(retryAfterMs(new Headers({ 'retry-after': '3' })), 3000);
  assert.equal(retryAfterMs(new Headers({ 'retry-after': '9999' })), 60000);
  assert.equal(retryAfterMs(new Headers({ 'retry-after': new Date(10_000).toUTCString() }), 4_000), 6000);
  assert.equal(retryDelayMs(10, { serverDelayMs: null, backoff: { initialMs: 500, maxMs: 8000, jitter: 0.25 }, random: () => 1 }), 6000);
});

test('every request states the distribution: neutral penalties and min_p, ids asked both ways, stop kept both ways', async () => {
  const fake = await server();
  await engine(fake.url).sample({ promptTokens: prompt, params: { ...params, stop: ['```\n'] } });
  const body = fake.requests[0]?.body ?? {};
  assert.equal(body['repetition_penalty'], 1);
  assert.equal(body['min_p'], 0);
  assert.equal(body['presence_penalty'], 0);
  assert.equal(body['frequency_penalty'], 0);
  assert.equal(body['return_tokens_as_token_ids'], true);
  assert.equal(body['include_stop_str_in_output'], true);
  assert.equal(body['no_stop_trim'], true);
});

test('SGLang: the stop cause comes from matched_stop, the stop string is kept through no_stop_trim', async () => {
  const fake = await server(undefined, { flavour: 'sglang' });
  const [sequence] = await engine(fake.url).sample({ promptTokens: prompt, params: { ...params, stop: ['computed'] } });
  assert.equal(sequence?.finishReason, 'stop');
  assert.equal(sequence?.stopReason, 'computed');
  assert.match(tokenizer.decode(sequence?.tokens ?? []), /computed$/);
  const chunks = await collect(engine(fake.url).stream({ promptTokens: prompt, params: { ...params, stopTokenIds: [tokenizer.encode(' sum')[0] as number] } }));
  assert.equal(chunks.at(-1)?.stopReason, tokenizer.encode(' sum')[0]);
});

test('a server that cannot be token-exact is named before any rollout, with what to use instead', async () => {
  await engine((await server()).url, { tokenizer }).verifyTokenIds();
  const llamacppOai = await server(undefined, { flavour: 'llamacpp-oai' });
  await assert.rejects(engine(llamacppOai.url, { tokenizer }).verifyTokenIds(), (error: unknown) => error instanceof UnsupportedError && /returned no token ids/.test(error.message) && /llamacpp-server:URL/.test(error.message) && /--wire text/.test(error.message));
  const ollamaLike = await server(undefined, { tokenIds: false });
  await assert.rejects(engine(ollamaLike.url, { tokenizer }).verifyTokenIds(), (error: unknown) => error instanceof UnsupportedError && /refused a prompt of token ids/.test(error.message) && /ollama:URL/.test(error.message));
  await engine(ollamaLike.url, { tokenizer, mode: 'text' }).verifyTokenIds();
});
