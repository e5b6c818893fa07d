// The real llama.cpp (node-llama-cpp's prebuilt CPU binary) against the embedded engine, on the
// committed warm start exported to GGUF.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { loadCheckpoint } from '../model/checkpoint.js';
import { exportGguf } from '../model/export.js';
import { charTokenizer, DEFAULT_CHECKPOINT_PATH, loadEmbeddedPolicy, type EmbeddedPolicy } from '../model/index.js';
import { generateTasks, renderPrompt } from '../tasks/index.js';
import { LlamaCppEngine } from './llamacpp.js';

/**
 * Largest difference allowed between the two engines' log-probabilities of the same token. Both are
 * float32 (the engine turns off llama.cpp's float16 KV cache and flash attention) and sum in other
 * orders; measured here: at most 2.6e-6 (with flash attention and a float16 cache: 9.4e-3).
 */
const LOGPROB_TOLERANCE = 1e-4;

const file = join(mkdtempSync(join(tmpdir(), 'cir-llamacpp-')), 'warm-start.gguf');
let engine: LlamaCppEngine;
let policy: EmbeddedPolicy;
const progress: number[] = [];

before(async () => {
  exportGguf(loadCheckpoint(DEFAULT_CHECKPOINT_PATH), file, { promptTemplate: 'Q: {problem}\nA: ' });
  engine = await LlamaCppEngine.load({ modelPath: file, sequences: 4, onLoadProgress: (f) => progress.push(f) });
  policy = await loadEmbeddedPolicy();
});
after(async () => {
  await engine?.close();
  await policy?.close();
});

const prompts = generateTasks({ split: 'test', count: 8, seed: 11 }).map((task) => charTokenizer.encode(renderPrompt(task)));
const greedy = { temperature: 0, topP: 1, topK: 0, maxTokens: 48 };

test('loads with progress and reads the export metadata', () => {
  assert.equal(engine.contextWindow, 384);
  assert.deepEqual(engine.cir, { format: 'cir-export', tokenizer: 'cir-char-ascii', promptTemplate: 'Q: {problem}\nA: ' });
  assert.ok(progress.length > 0 && progress.at(-1) === 1);
});

test("llama.cpp's tokenizer of the export gives the char tokenizer's ids on ASCII text, and decodes them back", () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.integer({ min: 1, max: 127 }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 60 }), (text) => {
      const ids = charTokenizer.encode(text);
      assert.deepEqual(engine.tokenizer.encode(text), ids);
      assert.equal(engine.tokenizer.decode(ids), text);
    }),
    { numRuns: 150 },
  );
});

test('greedy tokens equal the embedded engine on every prompt; log-probs within the tolerance', async () => {
  let worst = 0;
  for (const prompt of prompts) {
    const [ours] = await policy.sample({ promptTokens: prompt, params: greedy });
    const [theirs] = await engine.sample({ promptTokens: prompt, params: greedy });
    assert.deepEqual(theirs!.tokens, ours!.tokens, charTokenizer.decode(prompt));
    assert.equal(theirs!.finishReason, ours!.finishReason);
    theirs!.logprobs!.forEach((lp, i) => (worst = Math.max(worst, Math.abs(lp - ours!.logprobs![i]!))));
  }
  assert.ok(worst < LOGPROB_TOLERANCE, `largest log-prob difference ${worst}`);
});

test('sampled at temperature 1, the reported log-probs are what the embedded forward pass gives those tokens', async () => {
  const prompt = prompts[0]!;
  const params = { temperature: 1, topP: 1, topK: 0, maxTokens: 30, seed: 4 };
  const [first] = await engine.sample({ promptTokens: prompt, params });
  const [again] = await engine.sample({ promptTokens: prompt, params });
  assert.deepEqual(again!.tokens, first!.tokens, 'a seed reproduces the sample');
  const tokens = [...prompt, ...first!.tokens];
  const [forward] = await policy.forward([{ tokens, lossMask: new Array<number>(tokens.length - 1).fill(1) }]);
  const reference = forward!.subarray(prompt.length - 1);
  first!.logprobs!.forEach((lp, i) => assert.ok(Math.abs(lp - reference[i]!) < LOGPROB_TOLERANCE, `token ${i}: ${lp} vs ${reference[i]}`));
});

test('concurrent calls beyond the slots give the same tokens as one at a time', async () => {
  const together = await Promise.all(prompts.map((prompt) => engine.sample({ promptTokens: prompt, params: greedy })));
  for (const [i, prompt] of prompts.entries()) {
    const [alone] = await engine.sample({ promptTokens: prompt, params: greedy });
    assert.deepEqual(together[i]![0]!.tokens, alone!.tokens);
  }
});

test('a continuation reuses the cached prefix and gives what a fresh prompt gives', async () => {
  const prompt = prompts[1]!;
  const [first] = await engine.sample({ promptTokens: prompt, params: { ...greedy, maxTokens: 5 } });
  const extended = [...prompt, ...first!.tokens, ...charTokenizer.encode('\n')];
  const [continued] = await engine.sample({ promptTokens: extended, params: greedy });
  const [fresh] = await policy.sample({ promptTokens: extended, params: greedy });
  assert.deepEqual(continued!.tokens, fresh!.tokens);
});

test('stops after a stop string (kept), at stop tokens, at maxTokens, and at a full context', async () => {
  const prompt = prompts[0]!;
  const [full] = await engine.sample({ promptTokens: prompt, params: greedy });
  const text = charTokenizer.decode(full!.tokens);
  assert.ok(text.length >= 4, text);
  const stop = text.slice(1, 3);
  const [stopped] = await engine.sample({ promptTokens: prompt, params: { ...greedy, stop: [stop] } });
  // Generation ends where the stop string first appears (a warm start that opens with ``` repeats it).
  assert.equal(charTokenizer.decode(stopped!.tokens), text.slice(0, text.indexOf(stop) + stop.length));
  assert.equal(stopped!.finishReason, 'stop');
  assert.equal(stopped!.stopReason, stop);
  const stopId = full!.tokens[1]!;
  const [byId] = await engine.sample({ promptTokens: prompt, params: { ...greedy, stopTokenIds: [stopId] } });
  assert.deepEqual(byId!.tokens, full!.tokens.slice(0, full!.tokens.indexOf(stopId) + 1));
  const [short] = await engine.sample({ promptTokens: prompt, params: { ...greedy, maxTokens: 2 } });
  assert.equal(short!.tokens.length, 2);
  assert.equal(short!.finishReason, 'length');
  const [none] = await engine.sample({ promptTokens: new Array<number>(384).fill(32), params: greedy });
  assert.deepEqual([none!.tokens, none!.finishReason], [[], 'length']);
  await assert.rejects(engine.sample({ promptTokens: [500], params: greedy }), /outside the vocabulary of 128/);
});

test('streaming yields token by token and stops when the caller breaks out', async () => {
  const seen: number[] = [];
  for await (const chunk of engine.stream({ promptTokens: prompts[2]!, params: { ...greedy, maxTokens: 40 } })) {
    seen.push(...chunk.tokens);
    if (seen.length === 3) break;
  }
  assert.equal(seen.length, 3);
  const [again] = await engine.sample({ promptTokens: prompts[2]!, params: { ...greedy, maxTokens: 3 } });
  assert.deepEqual(again!.tokens, seen);
});

test('a file that is not GGUF is refused naming it', async () => {
  await assert.rejects(LlamaCppEngine.load({ modelPath: join(tmpdir(), 'no-such-model.gguf') }), (error: Error) => error.message.includes('no-such-model.gguf') || /no-such-model/.test(String((error as { source?: string }).source)));
});
