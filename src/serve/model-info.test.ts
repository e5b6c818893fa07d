/**
 * GET /cir/v1/model_info against the engine factory: a client that is given no tokenizer learns the
 * served model's tokenizer, context window and prompt format from `cir serve`, behind the same auth.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { openSamplingEngine } from '../backends/index.js';
import { fetchServedModel } from '../engines/served-model.js';
import { charTokenizer, charTokenizerFiles, createEmbeddedPolicy } from '../model/index.js';
import { startServer } from './server.js';

const checkpointDir = mkdtempSync(join(tmpdir(), 'cir-serve-model-info-'));
const backend = createEmbeddedPolicy({ hiddenSize: 32, numLayers: 2, numHeads: 2, numKvHeads: 1, intermediateSize: 64, contextLength: 96 }, { seed: 3, maxConcurrentSequences: 8, checkpointDir });
const apiKey = 'model-info-test-key';
const server = await startServer({ backend, tokenizer: backend.tokenizer, modelName: 'cir-small', checkpointDir, apiKey, modelInfo: { promptFormat: 'tasks', tokenizerFiles: charTokenizerFiles() } });
const bare = await startServer({ backend, tokenizer: backend.tokenizer, modelName: 'cir-small', checkpointDir });
after(async () => {
  await server.close();
  await bare.close();
  await backend.close();
});

test('the route states the model, its window and format, and a tokenizer that encodes and decodes as the char tokenizer', async () => {
  assert.equal((await fetch(`${server.url}/cir/v1/model_info`)).status, 401, 'behind the same auth as every route');
  const served = await fetchServedModel(`${server.url}/v1`, { apiKey });
  assert.ok(served);
  assert.deepEqual([served.model, served.contextWindow, served.promptFormat], ['cir-small', 96, 'tasks']);
  assert.equal(served.tokenizer.eosTokenId, charTokenizer.eosTokenId);
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...'abc XYZ 0123456789+-*/=?\n\t`{}\\$é'.split('')) }), (text) => {
      const ids = served.tokenizer.encode(text);
      assert.deepEqual(ids, charTokenizer.encode(text));
      assert.equal(served.tokenizer.decode(ids), charTokenizer.decode(ids));
    }),
  );
  assert.equal(await fetchServedModel(bare.url), null, 'a server without the route: the caller needs a tokenizer');
});

test('an OpenAI-compatible engine opened with no tokenizer samples through cir serve exactly as the model in process', async () => {
  const opened = await openSamplingEngine({ kind: 'openai', endpoints: [`${server.url}/v1`] }, { env: { OPENAI_API_KEY: apiKey } });
  try {
    assert.equal(opened.trainedPromptFormat, 'tasks');
    assert.equal(opened.description['model'], 'cir-small');
    const prompt = opened.tokenizer.encode('Q: 12*34?\nA: ');
    const params = { temperature: 0, topP: 1, topK: 0, maxTokens: 12 };
    const [remote] = await opened.engine.sample({ promptTokens: prompt, params });
    const [local] = await backend.sample({ promptTokens: prompt, params });
    assert.deepEqual(remote?.tokens, local?.tokens);
  } finally {
    await opened.close();
  }
  await assert.rejects(openSamplingEngine({ kind: 'openai', endpoints: [`${bare.url}/v1`] }, { model: 'not-a-hub-id' }), /not a folder and not a Hub id/);
});
