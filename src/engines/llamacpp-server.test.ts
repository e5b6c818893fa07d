import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadHfTokenizer } from '../tokenizers/index.js';
import { qwen3TokenizerDir } from '../tokenizers/testing/qwen3.js';
import type { SampleChunk, SamplingParams } from '../core/sampling.js';
import { EngineRequestError } from './http-retry.js';
import { alignLogprobs, LlamaCppServerEngine } from './llamacpp-server.js';
import { fakeLlamaLogprob, startFakeLlamaCpp, type FakeLlamaCppOptions, type FakeLlamaCppServer } from './testing/fake-llamacpp.js';

const tokenizer = await loadHfTokenizer(qwen3TokenizerDir());
// "𝒳" ends mid-character on its first tokens: llama.cpp streams neither their ids nor probabilities.
const ANSWER = 'x² = 4 → 𝒳 done. ```python\nprint(1)\n```\nrest';
const planned = [...tokenizer.encode(ANSWER), tokenizer.eosTokenId];
const prompt = tokenizer.encode('What is 2+2?');
const params: SamplingParams = { temperature: 1, topP: 1, topK: 0, maxTokens: 200 };
const servers: FakeLlamaCppServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));
async function fake(extra: Partial<FakeLlamaCppOptions> = {}) {
  const server = await startFakeLlamaCpp({ tokenizer, respond: () => ANSWER, ...extra });
  servers.push(server);
  return server;
}
const engine = (url: string) => new LlamaCppServerEngine({ url, sleep: async () => {}, random: () => 0.5 });
async function collect(stream: AsyncIterable<SampleChunk>): Promise<SampleChunk[]> {
  const chunks: SampleChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

test('non-streaming: token ids in, every sampled id out, neutral samplers on the wire', async () => {
  const server = await fake();
  const [sequence] = await engine(server.url).sample({ promptTokens: prompt, params: { ...params, seed: 3 } });
  assert.deepEqual(sequence?.tokens, planned);
  assert.equal(sequence?.finishReason, 'stop');
  // The split character's tokens have no probability upstream: no log-probs rather than misaligned ones.
  assert.equal(sequence?.logprobs, null);
  const body = server.requests[0]?.body ?? {};
  assert.deepEqual(body['prompt'], prompt);
  assert.equal(body['return_tokens'], true);
  assert.equal(body['n_probs'], 1);
  assert.equal(body['post_sampling_probs'], false);
  for (const [field, value] of Object.entries({ min_p: 0, repeat_penalty: 1, presence_penalty: 0, frequency_penalty: 0, dry_multiplier: 0, xtc_probability: 0, top_k: 0, seed: 3 })) assert.equal(body[field], value, field);
});

test('log-probabilities when every token has one; a stop word keeps its tokens', async () => {
  const server = await fake({ respond: () => 'Plain ascii. ```python\nx\n```\nafter' });
  const [sequence] = await engine(server.url).sample({ promptTokens: prompt, params: { ...params, stop: ['```\n'] } });
  const text = tokenizer.decode(sequence?.tokens ?? []);
  assert.ok(text.endsWith('x\n```\n'), text);
  assert.equal(sequence?.finishReason, 'stop');
  assert.equal(sequence?.stopReason, '```\n');
  // upstream trims the stop word's probabilities without streaming: reported as unknown, not shifted
  assert.equal(sequence?.logprobs, null);
  const [plain] = await engine(server.url).sample({ promptTokens: prompt, params: { ...params, maxTokens: 4 } });
  assert.equal(plain?.finishReason, 'length');
  assert.deepEqual(plain?.logprobs, plain?.tokens.map((id, i) => fakeLlamaLogprob(id, i)));
});

test('streaming: ids the server never streamed (a split character) are bridged, so the sequence is exact', async () => {
  const server = await fake();
  const llama = engine(server.url);
  const chunks = await collect(llama.stream({ promptTokens: prompt, params }));
  assert.deepEqual(chunks.flatMap((c) => c.tokens), planned);
  assert.equal(chunks.at(-1)?.finishReason, 'stop');
  assert.ok(llama.counters.bridges >= 1);
  const ascii = chunks.filter((c) => c.logprobs !== null && c.tokens.length > 0);
  assert.ok(ascii.length > 0 && ascii.every((c) => c.logprobs?.length === c.tokens.length));
});

test('a dropped stream resumes from the delivered ids; leaving early cancels generation', async () => {
  const server = await fake({ respond: () => 'One two three four five six seven eight nine ten.', fault: (_r, index) => (index === 0 ? { kind: 'drop', afterTokens: 3 } : null) });
  const chunks = await collect(engine(server.url).stream({ promptTokens: prompt, params }));
  assert.equal(tokenizer.decode(chunks.flatMap((c) => c.tokens)), 'One two three four five six seven eight nine ten.<|im_end|>');
  assert.deepEqual(server.requests[1]?.promptTokens.slice(prompt.length), tokenizer.encode('One two three'));
  const early = await fake({ respond: () => 'word '.repeat(150) });
  for await (const chunk of engine(early.url).stream({ promptTokens: prompt, params })) if (chunk.tokens.length > 0) break;
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(early.requests[0]?.cancelled);
});

test('errors carry the server message; an old server without return_tokens is named', async () => {
  const bad = await fake({ fault: () => ({ kind: 'status', status: 400 }) });
  await assert.rejects(engine(bad.url).sample({ promptTokens: prompt, params }), (error: unknown) => error instanceof EngineRequestError && error.status === 400 && /injected failure/.test(error.message));
  const old = await fake({ returnsTokens: false });
  await assert.rejects(engine(old.url).sample({ promptTokens: prompt, params }), /too old for return_tokens/);
  const ok = await fake({ contextSize: 2048 });
  const llama = engine(ok.url);
  await llama.verify(tokenizer.eosTokenId);
  assert.equal(llama.contextWindow, 2048);
});

test('log-probabilities align by id or not at all', () => {
  assert.deepEqual(alignLogprobs([5, 6], [{ id: 5, logprob: -1 }, { id: 6, logprob: -2 }]), [-1, -2]);
  assert.equal(alignLogprobs([5, 6], [{ id: 6, logprob: -2 }]), null);
  assert.equal(alignLogprobs([5, 6], [{ id: 6, logprob: -1 }, { id: 5, logprob: -2 }]), null);
});
