/**
 * The rollout engine over the two native-API engines: llama.cpp's server (token-exact through
 * `/completion`, a split UTF-8 character in the turn) and Ollama (text mode), each against its fake,
 * with the real Qwen3 tokenizer and the real sandbox.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadHfTokenizer } from '../tokenizers/index.js';
import { qwen3TokenizerDir } from '../tokenizers/testing/qwen3.js';
import { createSandboxExecutor } from '../interpreter/index.js';
import { LlamaCppServerEngine } from '../engines/llamacpp-server.js';
import { OllamaEngine } from '../engines/ollama.js';
import { startFakeLlamaCpp } from '../engines/testing/fake-llamacpp.js';
import { startFakeOllama } from '../engines/testing/fake-ollama.js';
import { RolloutEngine } from './index.js';

const tokenizer = await loadHfTokenizer(qwen3TokenizerDir());
const executor = await createSandboxExecutor({ concurrency: 1 });
const FIRST = 'x² → 𝒳: compute.\n```python\nprint(6*7)\n```\nand the model keeps talking for a while';
const SECOND = 'So the answer is \\boxed{42}.';
const respond = (text: string) => (text.includes('```output') ? SECOND : FIRST);
const llama = await startFakeLlamaCpp({ tokenizer, respond });
const ollama = await startFakeOllama({ model: 'qwen3', respond });
after(async () => {
  await Promise.all([llama.close(), ollama.close(), executor.close()]);
});
const prompt = tokenizer.encodeChat([{ role: 'user', content: 'What is 6*7?' }], { enableThinking: false });
const rolloutWith = (engine: LlamaCppServerEngine | OllamaEngine) =>
  new RolloutEngine({ engine, tokenizer, executor, sampling: { temperature: 1, topP: 1, topK: 0, seed: 5 }, maxTokensPerCall: 512, maxToolCalls: 2 });

test('llama.cpp server: token-exact trajectory, cut at the fence, the split character bridged', async () => {
  const engine = new LlamaCppServerEngine({ url: llama.url, contextWindow: 8192 });
  const [trajectory] = await rolloutWith(engine).rollout(prompt);
  assert.ok(trajectory);
  assert.equal(trajectory.status, 'finished', trajectory.error);
  assert.equal(trajectory.tokenExact, true);
  assert.equal(trajectory.toolCalls[0]?.feedback, '42');
  const [first, , last] = trajectory.segments.filter((s) => s.origin !== 'prompt');
  // The first policy turn is exactly the scripted ids up to the closing fence.
  const scripted = tokenizer.encode(FIRST);
  assert.deepEqual(first?.tokens, scripted.slice(0, first?.tokens.length));
  assert.ok(tokenizer.decode(first?.tokens ?? []).endsWith('```\n'));
  assert.ok(last?.text.includes('\\boxed{42}'));
  assert.ok(engine.counters.bridges >= 1);
});

test('Ollama: the same rollout in text mode, marked not token-exact', async () => {
  const engine = new OllamaEngine({ url: ollama.url, model: 'qwen3', tokenizer });
  const [trajectory] = await rolloutWith(engine).rollout(prompt);
  assert.ok(trajectory);
  assert.equal(trajectory.status, 'finished', trajectory.error);
  assert.equal(trajectory.tokenExact, false);
  assert.equal(trajectory.toolCalls[0]?.feedback, '42');
  assert.ok(ollama.requests.every((r) => r.body['raw'] === true && !r.modelInput.includes('<|im_start|>user\n<|im_start|>')));
});
