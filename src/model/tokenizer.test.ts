import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { InputError } from '../core/errors.js';
import { createEmbeddedPolicy, loadEmbeddedPolicy } from './index.js';
import { charTokenizer, embeddedTokenizer, numberChunkTokenizer } from './tokenizer.js';

const ascii = fc.string({ unit: fc.constantFrom(...'0123456789 abcxyz+-*^(),.=\n`{}\\?'.split('')), maxLength: 60 });

test('both tokenizers round-trip ASCII text exactly', () => {
  fc.assert(
    fc.property(ascii, (text) => {
      assert.equal(charTokenizer.decode(charTokenizer.encode(text)), text);
      assert.equal(numberChunkTokenizer.decode(numberChunkTokenizer.encode(text)), text);
    }),
  );
});

test('cir-char-num3 splits digit runs into threes from the left; each token is its own text', () => {
  const pieces = (text: string) => numberChunkTokenizer.encode(text).map((id) => numberChunkTokenizer.tokenText(id));
  assert.deepEqual(pieces('print(716457*4)'), ['p', 'r', 'i', 'n', 't', '(', '716', '457', '*', '4', ')']);
  assert.deepEqual(pieces('1234 05'), ['123', '4', ' ', '05']);
  assert.deepEqual(pieces('0009'), ['000', '9']);
  fc.assert(
    fc.property(ascii, (text) => {
      const ids = numberChunkTokenizer.encode(text);
      for (const id of ids) assert.ok(id > 0 && id < 1228, `id ${id}`);
      // No token run of digits is longer than three, and only the last chunk of a run is shorter.
      assert.ok(ids.length <= text.length);
    }),
  );
  assert.equal(numberChunkTokenizer.vocabSize % 8, 0);
});

test('a checkpoint remembers its tokenizer; the vocabulary must cover the tokenizer', async () => {
  const small = { hiddenSize: 16, numLayers: 1, numHeads: 2, numKvHeads: 1, intermediateSize: 32, contextLength: 32 };
  const policy = createEmbeddedPolicy(small, { tokenizer: numberChunkTokenizer, kernels: 'typescript' });
  assert.equal(policy.config.vocabSize, 1232);
  const path = policy.saveTo(join(mkdtempSync(join(tmpdir(), 'cir-tok-')), 'ckpt'));
  const loaded = await loadEmbeddedPolicy(path, { kernels: 'typescript' });
  assert.equal(loaded.tokenizer.name, 'cir-char-num3');
  const prompt = loaded.tokenizer.encode('Q: 123+45?\nA: ');
  const [a] = await policy.sample({ promptTokens: prompt, params: { temperature: 0, topP: 1, topK: 0, maxTokens: 6 } });
  const [b] = await loaded.sample({ promptTokens: prompt, params: { temperature: 0, topP: 1, topK: 0, maxTokens: 6 } });
  assert.deepEqual(a!.tokens, b!.tokens);
  assert.throws(() => createEmbeddedPolicy({ ...small, vocabSize: 128 }, { tokenizer: numberChunkTokenizer, kernels: 'typescript' }), (e: unknown) => e instanceof InputError && /vocabSize 128/.test(e.message));
  assert.throws(() => embeddedTokenizer('gpt2'), (e: unknown) => e instanceof InputError && /cir-char-ascii, cir-char-num3/.test(e.message));
  await Promise.all([policy.close(), loaded.close()]);
});
