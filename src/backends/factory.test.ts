import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError, UnsupportedError } from '../core/errors.js';
import { OpenAICompatibleEngine } from '../engines/openai-compatible.js';
import { SandboxFusionExecutor } from '../interpreter/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '../model/checkpoint.js';
import { exportGguf } from '../model/export.js';
import { charTokenizer, DEFAULT_CHECKPOINT_PATH, EmbeddedPolicy } from '../model/index.js';
import { qwen3TokenizerDir } from '../tokenizers/testing/qwen3.js';
import { openExecutor, openPolicyBackend, openSamplingEngine } from './factory.js';
import { parseEngineSpec } from './spec.js';
import { LlamaCppServerEngine } from '../engines/llamacpp-server.js';
import { OllamaEngine } from '../engines/ollama.js';
import { startFakeLlamaCpp } from '../engines/testing/fake-llamacpp.js';
import { startFakeOllama } from '../engines/testing/fake-ollama.js';
import { startFakeVllm } from '../engines/testing/fake-vllm.js';
import { loadHfTokenizer } from '../tokenizers/index.js';

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
  // With a tokenizer given nothing asks the server, so the missing name is the error (a cir serve would state it).
  await assert.rejects(openSamplingEngine(spec, { tokenizer: qwen3TokenizerDir() }), (error: unknown) => error instanceof InputError && error.input === '--model');
  const opened = await openSamplingEngine(spec, { model: 'm', tokenizer: qwen3TokenizerDir(), wire: 'text', env: {} });
  assert.ok(opened.engine instanceof OpenAICompatibleEngine);
  assert.equal(opened.engine.tokenExact, false);
  assert.deepEqual(opened.description['endpoints'], ['http://127.0.0.1:1', 'http://127.0.0.1:2']);
  assert.ok(opened.chatTokenizer?.chatTemplate);
});

test('llamacpp:FILE opens a cir export with the char tokenizer and its trained prompt format; bad files are refused by name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cir-factory-gguf-'));
  const checkpoint = loadCheckpoint(DEFAULT_CHECKPOINT_PATH);
  const file = exportGguf(checkpoint, join(dir, 'model.gguf'), { promptTemplate: 'Q: {problem}\nA: ' });
  const fractions: number[] = [];
  const opened = await openSamplingEngine(parseEngineSpec(`llamacpp:${file}`), { onLoadProgress: (f) => fractions.push(f) });
  try {
    assert.equal(opened.tokenizer, charTokenizer);
    assert.equal(opened.trainedPromptFormat, 'tasks');
    assert.equal(opened.engine.contextWindow, 384);
    assert.equal(fractions.at(-1), 1);
  } finally {
    await opened.close();
  }
  await assert.rejects(openSamplingEngine(parseEngineSpec(`llamacpp:${join(dir, 'missing.gguf')}`)), (error: unknown) => error instanceof InputError && /GGUF file not found/.test(error.message));
  const other = exportGguf(checkpoint, join(dir, 'other.gguf'), { promptTemplate: 'Question: {problem}\nAnswer:' });
  await assert.rejects(openSamplingEngine(parseEngineSpec(`llamacpp:${other}`)), (error: unknown) => error instanceof InputError && /records the prompt format "Question: \{problem\}/.test(error.message));
  rmSync(dir, { recursive: true, force: true });
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

test('server engines are asked once at open: the llama.cpp context size, an Ollama model that exists, ids from an http server', async () => {
  const tokenizer = await loadHfTokenizer(qwen3TokenizerDir());
  const llama = await startFakeLlamaCpp({ tokenizer, respond: () => 'ok', contextSize: 3072 });
  const ollama = await startFakeOllama({ model: 'qwen3', respond: () => 'ok' });
  const noIds = await startFakeVllm({ tokenizer, respond: () => 'ok', flavour: 'llamacpp-oai' });
  try {
    const opened = await openSamplingEngine(parseEngineSpec(`llamacpp-server:${llama.url}`), { tokenizer: qwen3TokenizerDir() });
    assert.ok(opened.engine instanceof LlamaCppServerEngine);
    assert.equal(opened.engine.contextWindow, 3072);
    assert.notEqual(opened.engine.tokenExact, false);
    const text = await openSamplingEngine(parseEngineSpec(`ollama:${ollama.url}`), { model: 'qwen3', tokenizer: qwen3TokenizerDir() });
    assert.ok(text.engine instanceof OllamaEngine);
    assert.equal(text.engine.tokenExact, false);
    assert.equal(text.description['wire'], 'text');
    await assert.rejects(openSamplingEngine(parseEngineSpec(`ollama:${ollama.url}`), { model: 'missing', tokenizer: qwen3TokenizerDir() }), /model "missing" not found/);
    await assert.rejects(openSamplingEngine(parseEngineSpec(`ollama:${ollama.url}`), { model: 'qwen3', tokenizer: qwen3TokenizerDir(), wire: 'tokens', wireExplicit: true }), (error: unknown) => error instanceof UnsupportedError && /text mode only/.test(error.message));
    await assert.rejects(openSamplingEngine(parseEngineSpec(noIds.url), { model: 'm', tokenizer: qwen3TokenizerDir() }), (error: unknown) => error instanceof UnsupportedError && /llamacpp-server:URL/.test(error.message));
  } finally {
    await Promise.all([llama.close(), ollama.close(), noIds.close()]);
  }
});
