import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadHfTokenizer } from '../tokenizers/index.js';
import { qwen3TokenizerDir } from '../tokenizers/testing/qwen3.js';
import type { SamplingParams } from '../core/sampling.js';
import { EngineRequestError } from './http-retry.js';
import { stopEnd } from '../core/stop-strings.js';
import { OllamaEngine } from './ollama.js';
import { startFakeOllama, type FakeOllamaOptions, type FakeOllamaServer } from './testing/fake-ollama.js';

const tokenizer = await loadHfTokenizer(qwen3TokenizerDir());
const ANSWER = 'Let me compute.\n```python\nprint(2+2)\n```\nThe answer is 4.';
const templated = tokenizer.encodeChat([{ role: 'user', content: 'What is 2+2?' }], {});
const params: SamplingParams = { temperature: 0.6, topP: 0.95, topK: 20, maxTokens: 500, seed: 11 };
const servers: FakeOllamaServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));
async function fake(extra: Partial<FakeOllamaOptions> = {}) {
  const server = await startFakeOllama({ model: 'qwen3:0.6b', respond: () => ANSWER, ...extra });
  servers.push(server);
  return server;
}
const engine = (url: string, model = 'qwen3:0.6b') => new OllamaEngine({ url, model, tokenizer, sleep: async () => {}, random: () => 0.5 });

test('text mode: the templated prompt goes raw (no second template), the sampling is stated in full', async () => {
  const server = await fake();
  const ollama = engine(server.url);
  assert.equal(ollama.tokenExact, false);
  const [sequence] = await ollama.sample({ promptTokens: templated, params });
  assert.equal(sequence?.text, ANSWER);
  assert.deepEqual(sequence?.tokens, tokenizer.encode(ANSWER));
  assert.equal(sequence?.logprobs, null);
  assert.equal(sequence?.finishReason, 'stop');
  const request = server.requests[0];
  assert.equal(request?.body['raw'], true);
  assert.equal(request?.modelInput, tokenizer.decode(templated));
  assert.deepEqual(request?.body['options'], { temperature: 0.6, top_k: 20, top_p: 0.95, min_p: 0, typical_p: 1, repeat_penalty: 1, presence_penalty: 0, frequency_penalty: 0, num_predict: 500, seed: 11 });
});

test('stop strings are watched here and kept in the text; the request is closed at once', async () => {
  const server = await fake({ respond: () => `${ANSWER} ${'more text '.repeat(100)}` });
  const [sequence] = await engine(server.url).sample({ promptTokens: templated, params: { ...params, stop: ['```\n'] } });
  assert.equal(sequence?.text, 'Let me compute.\n```python\nprint(2+2)\n```\n');
  assert.equal(sequence?.stopReason, '```\n');
  assert.equal(server.requests[0]?.body['options'] && (server.requests[0].body['options'] as Record<string, unknown>)['stop'], undefined);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(server.requests[0]?.cancelled);
});

test('a dropped stream resumes from its text; the length limit is reported', async () => {
  const server = await fake({ dropAfter: (index) => (index === 0 ? 8 : null) });
  const [sequence] = await engine(server.url).sample({ promptTokens: templated, params });
  assert.equal(sequence?.text, ANSWER);
  assert.equal(server.requests[1]?.modelInput, tokenizer.decode(templated) + ANSWER.slice(0, 8));
  const [short] = await engine(server.url).sample({ promptTokens: templated, params: { ...params, maxTokens: 2 } });
  assert.equal(short?.finishReason, 'length');
});

test('an unknown model is named with the server message and not retried', async () => {
  const server = await fake();
  await assert.rejects(engine(server.url, 'llama9').verify(), (error: unknown) => error instanceof EngineRequestError && error.status === 404 && /model "llama9" not found/.test(error.message));
  assert.equal(server.requests.length, 0);
});

test('stopEnd finds the earliest stop across chunk boundaries', () => {
  assert.deepEqual(stopEnd('abc```\nrest', ['```\n'], 4), { end: 7, stop: '```\n' });
  assert.deepEqual(stopEnd('abc', ['x'], 0), { end: -1, stop: null });
  assert.deepEqual(stopEnd('a STOP b END', ['END', 'STOP'], 0), { end: 6, stop: 'STOP' });
});
