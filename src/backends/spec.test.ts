import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InputError } from '../core/errors.js';
import { formatEngineSpec, formatSandboxSpec, parseEngineSpec, parseSandboxSpec, type EngineSpec } from './spec.js';

test('every engine form parses to its kind', () => {
  const cases: [string, EngineSpec][] = [
    ['embedded', { kind: 'embedded', checkpoint: null }],
    ['embedded:runs/train/checkpoints/step-40', { kind: 'embedded', checkpoint: 'runs/train/checkpoints/step-40' }],
    ['http://127.0.0.1:8000', { kind: 'openai', endpoints: ['http://127.0.0.1:8000'] }],
    ['https://a:1/v1, http://b:2', { kind: 'openai', endpoints: ['https://a:1/v1', 'http://b:2'] }],
    ['llamacpp-server:http://127.0.0.1:8080', { kind: 'llamacpp-server', url: 'http://127.0.0.1:8080' }],
    ['ollama:http://127.0.0.1:11434', { kind: 'ollama', url: 'http://127.0.0.1:11434' }],
    ['llamacpp:models/cir.gguf', { kind: 'llamacpp', file: 'models/cir.gguf' }],
    ['tinker:http://gpu:8000', { kind: 'tinker', url: 'http://gpu:8000' }],
  ];
  for (const [text, spec] of cases) assert.deepEqual(parseEngineSpec(text), spec, text);
});

test('bad engine names are refused naming the flag and what is wrong', () => {
  const refusals: [string, RegExp][] = [
    ['', /is empty; one of:/],
    ['vllm', /"vllm" is not an engine; one of:\n.*embedded/],
    ['localhost:8000', /is not an engine/],
    ['embedded:', /needs a checkpoint folder after "embedded:"/],
    ['ollama:', /needs the server URL/],
    ['ollama:localhost:11434', /must be an http:\/\/ or https:\/\/ URL/],
    ['tinker:not a url', /is not a URL/],
    ['llamacpp:http://127.0.0.1:8080', /for a llama.cpp server use llamacpp-server:http/],
    ['http://a:1,,http://b:2', /empty endpoint between commas/],
  ];
  for (const [text, message] of refusals) {
    assert.throws(
      () => parseEngineSpec(text, '--engine'),
      (error: unknown) => error instanceof InputError && error.input === '--engine' && message.test(error.message),
      text,
    );
  }
});

test('an engine spec written back parses to the same spec', () => {
  const url = fc.webUrl({ validSchemes: ['http', 'https'] }).filter((u) => !u.includes(','));
  const path = fc.stringMatching(/^[\w./-]{1,40}$/);
  const spec: fc.Arbitrary<EngineSpec> = fc.oneof(
    fc.option(path, { nil: null }).map((checkpoint) => ({ kind: 'embedded' as const, checkpoint })),
    fc.array(url, { minLength: 1, maxLength: 3 }).map((endpoints) => ({ kind: 'openai' as const, endpoints })),
    url.map((u) => ({ kind: 'llamacpp-server' as const, url: u })),
    url.map((u) => ({ kind: 'ollama' as const, url: u })),
    url.map((u) => ({ kind: 'tinker' as const, url: u })),
    path.map((file) => ({ kind: 'llamacpp' as const, file })),
  );
  fc.assert(fc.property(spec, (s) => assert.deepEqual(parseEngineSpec(formatEngineSpec(s)), s)));
});

test('sandbox names: local, fusion:URL, and nothing else', () => {
  assert.deepEqual(parseSandboxSpec('local'), { kind: 'local' });
  assert.deepEqual(parseSandboxSpec('fusion:http://127.0.0.1:8080'), { kind: 'fusion', url: 'http://127.0.0.1:8080' });
  assert.equal(formatSandboxSpec(parseSandboxSpec('fusion:http://h:1')), 'fusion:http://h:1');
  assert.throws(() => parseSandboxSpec('fusion:'), /needs the service URL/);
  assert.throws(() => parseSandboxSpec('fusion:h:1'), /must be an http/);
  assert.throws(() => parseSandboxSpec('docker'), (error: unknown) => error instanceof InputError && error.input === '--sandbox' && /"docker" is not a sandbox/.test(error.message));
});
