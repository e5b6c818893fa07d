import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainEngineSpec } from './train.js';

test('train names its policy with --engine; --init and --backend tinker --base-url stay as aliases', () => {
  assert.deepEqual(trainEngineSpec({}), { kind: 'embedded', checkpoint: null });
  assert.deepEqual(trainEngineSpec({ init: 'ckpt' }), { kind: 'embedded', checkpoint: 'ckpt' });
  assert.deepEqual(trainEngineSpec({ engine: 'embedded:ckpt' }), trainEngineSpec({ init: 'ckpt' }));
  assert.deepEqual(trainEngineSpec({ backend: 'tinker', 'base-url': 'http://127.0.0.1:8000' }), { kind: 'tinker', url: 'http://127.0.0.1:8000' });
  assert.deepEqual(trainEngineSpec({ engine: 'tinker:http://127.0.0.1:8000' }), { kind: 'tinker', url: 'http://127.0.0.1:8000' });
});

test('the policy is named once, and the old spelling is checked', () => {
  assert.throws(() => trainEngineSpec({ engine: 'embedded', init: 'ckpt' }), /name the policy once/);
  assert.throws(() => trainEngineSpec({ engine: 'tinker:http://h:1', backend: 'tinker', 'base-url': 'http://h:1' }), /name the policy once/);
  assert.throws(() => trainEngineSpec({ backend: 'tinker' }), /needs --base-url/);
  assert.throws(() => trainEngineSpec({ 'base-url': 'http://h:1' }), /--base-url goes with --backend tinker/);
  assert.throws(() => trainEngineSpec({ backend: 'vllm' }), /--backend must be one of embedded, tinker/);
});
