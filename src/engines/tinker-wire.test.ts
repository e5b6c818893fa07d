import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDatum, encodeDatum, parseTinkerPath, adamFromWire } from './tinker-wire.js';

test('datums round-trip through the wire layout (input = seq[:-1], targets = seq[1:])', () => {
  const wire = encodeDatum([5, 6, 7, 8], { weights: [0, 1, 1] });
  assert.deepEqual(wire.model_input.chunks[0]?.tokens, [5, 6, 7]);
  assert.deepEqual(wire.loss_fn_inputs['target_tokens']?.data, [6, 7, 8]);
  const back = decodeDatum(JSON.parse(JSON.stringify(wire)), 'data[0]');
  assert.deepEqual(back.datum.tokens, [5, 6, 7, 8]);
  assert.deepEqual(Array.from(back.inputs['weights'] ?? []), [0, 1, 1]);
  const shifted = JSON.parse(JSON.stringify(wire)) as typeof wire;
  (shifted.loss_fn_inputs['target_tokens'] as { data: number[] }).data = [6, 9, 8];
  assert.throws(() => decodeDatum(shifted, 'data[0]'), /target 1 is 9 but the next input token is 7/);
  assert.throws(() => encodeDatum([1, 2], { weights: [1, 1] }), /length 2 differs from the 1 targets/);
});

test('tinker paths accept only plain names; Adam settings are range-checked', () => {
  assert.deepEqual(parseTinkerPath('tinker://model_1/weights/step-3', 'path'), { modelId: 'model_1', kind: 'weights', name: 'step-3' });
  for (const bad of ['tinker://m/weights/../x', 'tinker://m/weights/..', 'tinker://m/weights/a%2F..', 'file:///etc/passwd', 'tinker://m/other/x', 'tinker://m/weights/.base']) {
    assert.throws(() => parseTinkerPath(bad, 'path'), /tinker:\/\/|may only use/, bad);
  }
  assert.deepEqual(adamFromWire({ learning_rate: 1e-6, beta2: 0.999, weight_decay: 0.01, grad_clip_norm: 1 }, 'adam_params'), { learningRate: 1e-6, beta1: 0.9, beta2: 0.999, eps: 1e-12, weightDecay: 0.01, gradClip: 1 });
  assert.throws(() => adamFromWire({ beta1: 1 }, 'adam_params'), (error: Error & { input?: string }) => error.input === 'adam_params.beta1');
});
