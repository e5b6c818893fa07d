/**
 * End to end: the rollout engine, the OpenAI-compatible engine talking to a local server that speaks
 * /v1/completions as vLLM does, the real Qwen3 tokenizer and the real sandboxed interpreter.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadHfTokenizer } from '../tokenizers/index.js';
import { qwen3TokenizerDir } from '../tokenizers/testing/qwen3.js';
import { createSandboxExecutor } from '../interpreter/index.js';
import { OpenAICompatibleEngine } from '../engines/openai-compatible.js';
import { startFakeVllm, type FakeFault, type FakeRequest, type FakeVllmServer } from '../engines/testing/fake-vllm.js';
import { RolloutEngine, trajectoryText, type RolloutConfig, type RolloutTrajectory } from './index.js';

const tokenizer = await loadHfTokenizer(qwen3TokenizerDir());
const executor = await createSandboxExecutor({ concurrency: 2 });
const servers: FakeVllmServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await executor.close();
});

const JUNK = ' and then the model keeps talking about things nobody will read'.repeat(20);
const turns: Record<string, string[]> = {
  basic: ['I will compute.\n```python\nprint(6*7)\n```' + JUNK, 'The answer is \\boxed{42}.'],
  error: ['Try:\n```python\nprint(1/0)\n```\n', 'Division failed, so the answer is \\boxed{0}.'],
  huge: ['Big:\n```python\nprint("ab"*50000)\n```\n', 'Long output, answer \\boxed{1}.'],
  nested: ['Fence in a string:\n```python\nfence = "```"\nprint(len(fence))\n```\nmore', 'Done \\boxed{3}.'],
  unterminated: ['Start:\n```python\nprint(5)\n``', 'never used'],
  broken: ['Wrong tags:\n```Python\nprint(1)\n```\n```py\nprint(2)\n```\nSo \\boxed{2}.', 'never used'],
};
const scriptFor = (request: FakeRequest) => {
  const name = Object.keys(turns).find((key) => request.promptText.includes(`[${key}]`)) ?? 'basic';
  const script = turns[name] as string[];
  const seen = request.promptText.split('```output').length - 1;
  return script[Math.min(seen, script.length - 1)] as string;
};
async function server(fault?: (request: FakeRequest) => FakeFault | null) {
  const fake = await startFakeVllm({ tokenizer, respond: scriptFor, ...(fault ? { fault } : {}) });
  servers.push(fake);
  return fake;
}
const promptFor = (name: string) => tokenizer.encodeChat([{ role: 'user', content: `[${name}] Solve it.` }], { enableThinking: false });

function rollout(url: string | string[], extra: Partial<RolloutConfig> = {}) {
  const engine = new OpenAICompatibleEngine({ endpoints: url, model: 'qwen3', contextWindow: 8192, sleep: async () => {}, idleTimeoutMs: 300 });
  return new RolloutEngine({ engine, tokenizer, executor, sampling: { temperature: 1, topP: 1, topK: 0 }, maxTokensPerCall: 2048, ...extra });
}

function assertExact(trajectory: RolloutTrajectory) {
  assert.equal(trajectory.tokenExact, true);
  for (const segment of trajectory.segments) assert.equal(tokenizer.decode(segment.tokens), segment.text);
  for (const segment of trajectory.segments.filter((s) => s.origin === 'policy')) assert.equal(segment.logprobs?.length, segment.tokens.length);
}

test('streaming against a vLLM-like server: cut at the fence, real execution, server stops generating', async () => {
  const fake = await server();
  const [trajectory] = await rollout(fake.url).rollout(promptFor('basic'));
  assert.ok(trajectory);
  assert.equal(trajectory.status, 'finished');
  assert.equal(trajectory.toolCalls[0]?.feedback, '42');
  assert.equal(trajectory.segments[1]?.text, 'I will compute.\n```python\nprint(6*7)\n```');
  assert.equal(trajectory.segments[2]?.text, '\n```output\n42\n```\n');
  assert.ok(trajectoryText(trajectory).endsWith('The answer is \\boxed{42}.<|im_end|>'));
  assertExact(trajectory);
  const first = fake.requests[0];
  assert.ok(first);
  assert.equal(first.cancelled, true, 'the stream was aborted after the fence');
  assert.ok(first.tokensSent < first.plannedTokens / 2, `only ${first.tokensSent}/${first.plannedTokens} tokens were generated`);
  // The continuation request carries prompt + kept ids + tool ids, exactly.
  assert.deepEqual(fake.requests[1]?.promptTokens, trajectory.segments.slice(0, 3).flatMap((s) => s.tokens));
});

test('non-streaming with stop strings and verification yields the same ids as streaming', async () => {
  const fake = await server();
  const [streamed] = await rollout(fake.url).rollout(promptFor('basic'));
  const [plain] = await rollout(fake.url, { streaming: false }).rollout(promptFor('basic'));
  assert.ok(streamed && plain);
  assert.deepEqual(plain.segments.map((s) => s.tokens), streamed.segments.map((s) => s.tokens));
  assert.ok(fake.requests.some((r) => JSON.stringify(r.body['stop']) === '["```\\n"]'));
  assertExact(plain);
});

test('errors, huge outputs, nested backticks, unterminated and wrongly tagged blocks', async () => {
  const fake = await server();
  const engine = rollout(fake.url);
  const [[error], [huge], [nested], [unterminated], [broken]] = (await engine.rolloutMany(['error', 'huge', 'nested', 'unterminated', 'broken'].map(promptFor), 1)) as RolloutTrajectory[][] as [
    [RolloutTrajectory],
    [RolloutTrajectory],
    [RolloutTrajectory],
    [RolloutTrajectory],
    [RolloutTrajectory],
  ];
  assert.equal(error.toolCalls[0]?.feedback, 'ZeroDivisionError: division by zero');
  assert.equal(huge.toolCalls[0]?.feedback.length, 403, 'stripped output cut to 200 + "..." + 200');
  assert.equal(nested.toolCalls[0]?.code, '\nfence = "', 'the first ``` closes the block, as in the paper');
  assert.equal(nested.toolCalls[0]?.outcome.kind, 'error');
  assert.equal(unterminated.toolCalls.length, 0);
  assert.equal(unterminated.status, 'finished');
  assert.equal(broken.toolCalls.length, 0);
  for (const trajectory of [error, huge, nested, unterminated, broken]) assertExact(trajectory);
});

test('server faults: retried transparently with identical ids; a dead request fails only its trajectory', async () => {
  const clean = await server();
  const [reference] = await rollout(clean.url).rollout(promptFor('basic'));
  const flaky = await server((r) => (r.index === 0 ? { kind: 'status', status: 500 } : r.index === 1 ? { kind: 'drop', afterTokens: 4 } : r.index === 3 ? { kind: 'stall', afterTokens: 3 } : null));
  const [recovered] = await rollout(flaky.url).rollout(promptFor('basic'));
  assert.ok(reference && recovered);
  assert.equal(recovered.status, 'finished');
  assert.deepEqual(recovered.segments.map((s) => s.tokens), reference.segments.map((s) => s.tokens));
  assertExact(recovered);

  const dying = await server((r) => (r.promptText.includes('[error]') ? { kind: 'status', status: 503 } : null));
  const engine = new OpenAICompatibleEngine({ endpoints: dying.url, model: 'qwen3', maxRetries: 1, sleep: async () => {} });
  const results = await new RolloutEngine({ engine, tokenizer, executor, sampling: { temperature: 1, topP: 1, topK: 0 } }).rolloutMany([promptFor('error'), promptFor('basic')], 2);
  assert.deepEqual(results.map((group) => group.map((t) => t.status)), [['error', 'error'], ['finished', 'finished']]);
  assert.match(results[0]?.[0]?.error ?? '', /503/);
  assert.ok(results[0]?.every((t) => t.infraFailure));
});
