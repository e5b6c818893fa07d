import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdamW } from './adamw.js';
import type { ModelConfig } from './config.js';
import { referenceMatmul } from './kernels/matmul.js';
import { Rng } from '../core/rng.js';
import { Transformer } from './transformer.js';

const tiny: ModelConfig = {
  vocabSize: 16,
  hiddenSize: 8,
  numLayers: 2,
  numHeads: 2,
  numKvHeads: 1,
  intermediateSize: 16,
  contextLength: 8,
  ropeTheta: 10000,
  rmsNormEps: 1e-5,
};

function batch(seed: number, B: number, T: number, V: number) {
  const rng = new Rng(seed);
  const tokens = Array.from({ length: B * T }, () => rng.int(0, V - 1));
  const targets = Array.from({ length: B * T }, (_, i) => (i % T === T - 1 ? -1 : rng.int(0, V - 1)));
  const weights = new Float32Array(B * T).map(() => rng.normal());
  return { tokens, targets, weights };
}

test('every parameter gradient of the whole model matches finite differences', () => {
  const model = new Transformer(tiny, referenceMatmul);
  model.initialize(1);
  // Larger weights than the default init so every path carries signal.
  for (let i = 0; i < model.params.length; i++) model.params[i] = model.params[i]! * 3;
  const B = 2;
  const T = 6;
  const { tokens, targets, weights } = batch(2, B, T, tiny.vocabSize);
  const loss = (): number => {
    const logprobs = model.forward(tokens, targets, B, T);
    let sum = 0;
    for (let i = 0; i < logprobs.length; i++) sum += weights[i]! * logprobs[i]!;
    return sum;
  };
  model.zeroGrad();
  loss();
  model.backward(weights);
  const rng = new Rng(3);
  for (const spec of model.layout.tensors) {
    for (let trial = 0; trial < 6; trial++) {
      const index = spec.offset + rng.int(0, spec.size - 1);
      const original = model.params[index]!;
      const eps = 3e-3;
      model.params[index] = original + eps;
      const plus = loss();
      model.params[index] = original - eps;
      const minus = loss();
      model.params[index] = original;
      const numeric = (plus - minus) / (2 * eps);
      const analytic = model.grads[index]!;
      const tolerance = 5e-3 + 1e-2 * Math.abs(numeric);
      assert.ok(Math.abs(numeric - analytic) <= tolerance, `${spec.name}[${index - spec.offset}]: numeric ${numeric} vs analytic ${analytic}`);
    }
  }
});

test('a tiny model overfits one batch with AdamW', () => {
  const model = new Transformer(tiny, referenceMatmul);
  model.initialize(4);
  const B = 2;
  const T = 8;
  const { tokens } = batch(5, B, T, tiny.vocabSize);
  const targets = tokens.map((_, i) => (i % T === T - 1 ? -1 : tokens[i + 1]!));
  const dlogprobs = new Float32Array(B * T).map((_, i) => (targets[i]! >= 0 ? -1 / (B * (T - 1)) : 0));
  const optimizer = new AdamW(model.params.length, model.layout.tensors);
  const meanNll = (logprobs: Float32Array) => -logprobs.reduce((a, b) => a + b, 0) / (B * (T - 1));
  const first = meanNll(model.forward(tokens, targets, B, T));
  let last = first;
  for (let step = 0; step < 150; step++) {
    model.zeroGrad();
    last = meanNll(model.forward(tokens, targets, B, T));
    model.backward(dlogprobs);
    optimizer.update(model.params, model.grads, { learningRate: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, gradClip: 1 });
  }
  assert.ok(first > 2, `initial loss ${first} should be near ln(16)`);
  assert.ok(last < 0.1, `loss after 150 steps is ${last}, expected the batch memorised`);
});

test('activations regrown for ever larger batches reuse their arena block instead of leaking it', () => {
  const model = new Transformer(tiny, referenceMatmul);
  const shapes: [number, number][] = [];
  for (let B = 1; B <= 24; B++) shapes.push([B, 8]);
  const forward = ([B, T]: [number, number]) => {
    const { tokens, targets } = batch(B, B, T, tiny.vocabSize);
    model.forward(tokens, targets, B, T);
  };
  forward(shapes[shapes.length - 1]!);
  const oneLargestBlock = model.arena.mark();
  const fresh = new Transformer(tiny, referenceMatmul);
  const before = fresh.arena.mark();
  for (const [B, T] of shapes) {
    const { tokens, targets } = batch(B, B, T, tiny.vocabSize);
    fresh.forward(tokens, targets, B, T);
  }
  // Growing 24 times without reuse would take ~12x the largest block; with reuse at most the
  // geometric over-allocation (x1.5) of one block remains.
  const parameterBytes = before;
  assert.ok(fresh.arena.mark() - parameterBytes <= 1.6 * (oneLargestBlock - parameterBytes), `${fresh.arena.mark()} vs ${oneLargestBlock}`);
});
