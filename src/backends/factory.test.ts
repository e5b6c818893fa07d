import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError, UnsupportedError } from '../core/errors.js';
import { OpenAICompatibleEngine } from '../engines/openai-compatible.js';
import { SandboxFusionExecutor } from '../interpreter/index.js';
import { EmbeddedPolicy } from '../model/index.js';
import { qwen3TokenizerDir } from '../tokenizers/testing/qwen3.js';
import { openExecutor, openPolicyBackend, openSamplingEngine } from './factory.js';
import { parseEngineSpec } from './spec.js';

test('embedded opens the committed warm start with its own tokenizer and the tasks prompt format', async () => {
  const opened = await openSamplingEngine(parseEngineSpec('embedded'), { threads: 1 });
  try {
    assert.ok(opened.engine instanceof EmbeddedPolicy);
    assert.equal(opened.tokenizer.name, 'cir-char-ascii');
    assert.equal(opened.trainedPromptFormat, 'tasks');
    assert.equal(opened.chatTokenizer, null);
    assert.equal(opened.description['engine'], 'embedded');
  } finally {
    await opened.close();
  }
});

test('a missing checkpoint folder is named', async () => {
  await assert.rejects(openSamplingEngine(parseEngineSpec('embedded:/nonexistent/ckpt')), (error: unknown) => error instanceof InputError && error.input === '/nonexistent/ckpt');
});

test('an OpenAI-compatible engine needs the model name and a tokenizer, and balances the endpoints it was given', async () => {
  const spec = parseEngineSpec('http://127.0.0.1:1,http://127.0.0.1:2');
  await assert.rejects(openSamplingEngine(spec, {}), (error: unknown) => error instanceof InputError && error.input === '--model');
  const opened = await openSamplingEngine(spec, { model: 'm', tokenizer: qwen3TokenizerDir(), wire: 'text', env: {} });
  assert.ok(opened.engine instanceof OpenAICompatibleEngine);
  assert.equal(opened.engine.tokenExact, false);
  assert.deepEqual(opened.description['endpoints'], ['http://127.0.0.1:1', 'http://127.0.0.1:2']);
  assert.ok(opened.chatTokenizer?.chatTemplate);
});

test('llamacpp:FILE is a named registration point that refuses until the in-process engine is plugged in', async () => {
  await assert.rejects(openSamplingEngine(parseEngineSpec('llamacpp:model.gguf')), (error: unknown) => error instanceof UnsupportedError && /not built yet/.test(error.message));
});

test('only embedded and tinker engines can be trained', async () => {
  for (const text of ['http://127.0.0.1:1', 'ollama:http://127.0.0.1:1', 'llamacpp-server:http://127.0.0.1:1', 'llamacpp:x.gguf']) {
    await assert.rejects(openPolicyBackend(parseEngineSpec(text)), (error: unknown) => error instanceof UnsupportedError && /can sample but not train/.test(error.message), text);
  }
  const policy = await openPolicyBackend(parseEngineSpec('embedded'), { randomInit: true, threads: 1 });
  try {
    assert.equal(policy.description['checkpoint'], 'random-init');
  } finally {
    await policy.close();
  }
});

test('fusion:URL opens the SandboxFusion client', async () => {
  const executor = await openExecutor({ kind: 'fusion', url: 'http://127.0.0.1:1' }, { concurrency: 2 });
  assert.ok(executor instanceof SandboxFusionExecutor);
  await executor.close();
});
