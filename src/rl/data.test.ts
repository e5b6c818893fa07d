import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../core/errors.js';
import type { CodeExecutor } from '../core/execution.js';
import type { SampleChunk, SamplingEngine } from '../core/sampling.js';
import type { Trajectory } from '../core/trajectory.js';
import { RolloutEngine } from '../rollout/index.js';
import { loadHfTokenizer } from '../tokenizers/index.js';
import { qwen3TokenizerDir } from '../tokenizers/testing/qwen3.js';
import { assembleBatch, checkDatumAlignment, fillMissingLogprobs, trajectoryToDatum } from './data.js';

function trajectory(overrides: Partial<Trajectory> = {}): Trajectory {
  return {
    segments: [
      { origin: 'prompt', tokens: [10, 11, 12], text: 'Q' },
      { origin: 'policy', tokens: [20, 21], logprobs: [-0.1, -0.2], text: 'code' },
      { origin: 'tool', tokens: [30, 31, 32], text: 'output' },
      { origin: 'policy', tokens: [22, 23], logprobs: [-0.3, -0.4], text: 'answer' },
    ],
    toolCalls: [],
    status: 'finished',
    infraFailure: false,
    ...overrides,
  };
}

const sameNumbers = (actual: ArrayLike<number>, expected: readonly number[]) =>
  assert.deepEqual(Array.from(actual, (v) => (Number.isNaN(v) ? 'NaN' : Math.round(v * 1e6) / 1e6)), expected.map((v) => (Number.isNaN(v) ? 'NaN' : v)));

test('tokens, masks and log-probs are aligned with the targets', () => {
  // tokens 10 11 12 | 20 21 | 30 31 32 | 22 23 → 9 targets: 11 12 20 21 30 31 32 22 23
  // origins of the targets:  p  p  P  P  T  T  T  P  P
  const assembled = trajectoryToDatum(trajectory(), { maskToolOutput: true });
  assert.deepEqual(assembled.datum.tokens, [10, 11, 12, 20, 21, 30, 31, 32, 22, 23]);
  sameNumbers(assembled.datum.lossMask, [0, 0, 1, 1, 0, 0, 0, 1, 1]);
  sameNumbers(assembled.responseMask, [0, 0, 1, 1, 1, 1, 1, 1, 1]);
  sameNumbers(assembled.samplingLogprobs, [NaN, NaN, -0.1, -0.2, NaN, NaN, NaN, -0.3, -0.4]);
  assert.deepEqual([assembled.promptTokens, assembled.policyTokens, assembled.toolTokens], [3, 4, 3]);
  // Habit 6: every array has tokens − 1 entries, and every tool target has loss mask 0.
  for (const array of [assembled.datum.lossMask, assembled.responseMask, assembled.samplingLogprobs]) assert.equal(array.length, 9);
  [4, 5, 6].forEach((t) => assert.equal(assembled.datum.lossMask[t], 0));
});

test('masking off (the ablation): tool targets enter the loss, the response mask is unchanged', () => {
  const assembled = trajectoryToDatum(trajectory(), { maskToolOutput: false });
  sameNumbers(assembled.datum.lossMask, [0, 0, 1, 1, 1, 1, 1, 1, 1]);
  sameNumbers(assembled.responseMask, [0, 0, 1, 1, 1, 1, 1, 1, 1]);
  // Their old log-probs are unknown until filled from a forward pass.
  const filled = fillMissingLogprobs([assembled.samplingLogprobs], [[-9, -9, -9, -9, -1.5, -2.5, -3.5, -9, -9]]);
  sameNumbers(filled[0]!, [-9, -9, -0.1, -0.2, -1.5, -2.5, -3.5, -0.3, -0.4]);
});

test('a policy segment without log-probs leaves NaN for the trainer to fill', () => {
  const base = trajectory();
  const withoutLogprobs: Trajectory = { ...base, segments: base.segments.map(({ logprobs: _drop, ...segment }) => segment) };
  const assembled = trajectoryToDatum(withoutLogprobs, { maskToolOutput: true });
  assert.ok(Array.from(assembled.samplingLogprobs).every(Number.isNaN));
});

test('the alignment check catches a tampered datum', () => {
  const original = trajectory();
  const assembled = trajectoryToDatum(original, { maskToolOutput: true });
  const wrongToken = { ...assembled, datum: { ...assembled.datum, tokens: assembled.datum.tokens.map((t, i) => (i === 3 ? 99 : t)) } };
  assert.throws(() => checkDatumAlignment(original, wrongToken, { maskToolOutput: true }), /token 3 is 99 but segment 1 sampled 20/);
  const unmaskedTool = { ...assembled, datum: { ...assembled.datum, lossMask: assembled.datum.lossMask.map((v, t) => (t === 4 ? 1 : v)) } };
  assert.throws(() => checkDatumAlignment(original, unmaskedTool, { maskToolOutput: true }), /lossMask\[4\] is 1 for a tool token/);
  const short = { ...assembled, responseMask: assembled.responseMask.subarray(1) };
  assert.throws(() => checkDatumAlignment(original, short, { maskToolOutput: true }), /responseMask has length 8, expected 9/);
});

test('malformed trajectories are rejected with the reason', () => {
  const base = trajectory();
  assert.throws(() => trajectoryToDatum(trajectory({ infraFailure: true }), { maskToolOutput: true }), /infrastructure failure/);
  assert.throws(() => trajectoryToDatum({ ...base, segments: base.segments.slice(1) }, { maskToolOutput: true }), /start with a prompt segment/);
  const badLogprobs: Trajectory = { ...base, segments: [base.segments[0]!, { origin: 'policy', tokens: [1, 2], logprobs: [-1], text: '' }] };
  assert.throws(() => trajectoryToDatum(badLogprobs, { maskToolOutput: true }), (error: unknown) => error instanceof InputError && /2 tokens but 1 log-probs/.test(error.message));
  const latePrompt: Trajectory = { ...base, segments: [...base.segments, { origin: 'prompt', tokens: [1], text: '' }] };
  assert.throws(() => trajectoryToDatum(latePrompt, { maskToolOutput: true }), /prompt segment after the response began/);
});

test('assembleBatch excludes and counts infra failures, and reports loss coverage', () => {
  const batch = assembleBatch(
    [
      { trajectory: trajectory(), reward: 1, groupId: 'a' },
      { trajectory: trajectory({ infraFailure: true }), reward: -1, groupId: 'a' },
      { trajectory: trajectory(), reward: -1, groupId: 'b' },
    ],
    { maskToolOutput: true },
  );
  assert.equal(batch.data.length, 2);
  assert.deepEqual(batch.rewards_B, [1, -1]);
  assert.deepEqual(batch.groupIds_B, ['a', 'b']);
  // Per sequence: 4 loss tokens of 7 response tokens.
  assert.deepEqual(batch.metrics, {
    'data/trajectories': 3,
    'data/excludedInfraFailure': 1,
    'data/sequences': 2,
    'data/lossTokens': 8,
    'data/responseTokens': 14,
    'data/lossCoverage': 8 / 14,
  });
});

test('trained equals sampled: through a real rollout, the loss-mask-1 targets are the ids the engine emitted, in order', async () => {
  const tokenizer = await loadHfTokenizer(qwen3TokenizerDir());
  const prompt = tokenizer.encodeChat([{ role: 'user', content: 'What is 2+2?' }], { enableThinking: false });
  const codeTurn = 'Let me compute.\n```python\nprint(2+2)\n```\n\nJunk past the fence\n```output\n5\n```\n';
  // The engine samples one token per character: the same text as the tokenizer's own encoding, other
  // ids. Anything that re-encodes text on the way to the trainer would train ids that were never sampled.
  const emitted: number[][] = [];
  const engine: SamplingEngine = {
    name: 'char-by-char',
    contextWindow: 4096,
    sample: () => Promise.reject(new Error('this engine streams')),
    stream: async function* (request) {
      const turn = tokenizer.decode(request.promptTokens).includes('```output') ? 'So \\boxed{4}.' : codeTurn;
      const ids = [...[...turn].flatMap((char) => tokenizer.encode(char)), tokenizer.eosTokenId].slice(0, request.params.maxTokens);
      emitted.push(ids);
      for (const [index, id] of ids.entries()) {
        const chunk: SampleChunk = { tokens: [id], logprobs: [-0.25] };
        if (index === ids.length - 1) chunk.finishReason = 'stop';
        yield chunk;
      }
    },
  };
  assert.notDeepEqual([...codeTurn].flatMap((char) => tokenizer.encode(char)), tokenizer.encode(codeTurn), 'the sampled ids are not the canonical encoding');
  const executor: CodeExecutor = {
    name: 'fixed',
    execute: async () => ({ kind: 'ok', stdout: '4\n', stderr: '', durationMs: 1 }),
    openSession: () => Promise.reject(new Error('no sessions')),
    close: async () => {},
  };
  const [rolled] = await new RolloutEngine({ engine, tokenizer, executor, formatFeedback: (o) => (o.kind === 'ok' ? o.stdout.trim() : o.kind), sampling: { temperature: 1, topP: 1, topK: 0 } }).rollout(prompt);
  assert.ok(rolled && rolled.status === 'finished');
  assert.equal(emitted.length, 2);

  const { datum } = trajectoryToDatum(rolled, { maskToolOutput: true });
  const trained: number[] = [];
  datum.lossMask.forEach((mask, t) => {
    if (mask === 1) trained.push(datum.tokens[t + 1]!);
  });
  // The first call is cut just after the closing fence: what is trained is a prefix of what was emitted, ending there.
  const [first, second] = emitted as [number[], number[]];
  const kept = trained.length - second.length;
  assert.ok(kept > 0 && kept < first.length, `kept ${kept} of ${first.length}`);
  assert.deepEqual(trained, [...first.slice(0, kept), ...second]);
  assert.match(tokenizer.decode(first.slice(0, kept)), /print\(2\+2\)\n```\n*$/);
  // The prompt and the tool block are in the datum but never trained.
  assert.deepEqual(datum.tokens.slice(0, prompt.length), prompt);
  const tool = rolled.segments.find((segment) => segment.origin === 'tool');
  assert.ok(tool && tool.tokens.length > 0);
});
