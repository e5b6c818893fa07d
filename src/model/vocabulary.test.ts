import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Tokenizer } from '../core/tokenizer.js';
import { createEmbeddedPolicyForTokenizer } from './index.js';

/** A vocabulary of 100 ids (not a multiple of 8): ASCII below 100, anything else is `?`. */
const hundred: Tokenizer = {
  name: 'ascii-100',
  vocabSize: 100,
  eosTokenId: 0,
  encode: (text) => [...text].map((ch) => (ch.charCodeAt(0) > 0 && ch.charCodeAt(0) < 100 ? ch.charCodeAt(0) : 63)),
  decode: (ids) => ids.map((id) => (id === 0 ? '<eos>' : String.fromCharCode(id))).join(''),
};

test('over a tokenizer whose size is not a multiple of 8, padding ids are never sampled and the trainer\'s log-probs equal the sampler\'s', async () => {
  const policy = createEmbeddedPolicyForTokenizer(hundred, { contextLength: 64 }, { kernels: 'typescript', seed: 5 });
  try {
    assert.equal(policy.config.vocabSize, 104);
    assert.equal(policy.contextWindow, 64);
    const prompt = hundred.encode('Q: 2+2?');
    const samples = await policy.sample({ promptTokens: prompt, params: { temperature: 1, topP: 1, topK: 0, maxTokens: 40, seed: 3 }, n: 6 });
    for (const sample of samples) {
      assert.ok(sample.tokens.every((id) => id >= 0 && id < 100), `sampled ${sample.tokens.filter((id) => id >= 100).join(',')}`);
      const datum = { tokens: [...prompt, ...sample.tokens], lossMask: new Float32Array(prompt.length + sample.tokens.length - 1) };
      const [logprobs] = await policy.forward([datum]);
      const trainer = Array.from(logprobs!.subarray(prompt.length - 1));
      trainer.forEach((value, i) => assert.ok(Math.abs(value - sample.logprobs![i]!) < 1e-4, `token ${i}: trainer ${value}, sampler ${sample.logprobs![i]}`));
    }
  } finally {
    await policy.close();
  }
});
