import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../core/errors.js';
import { parameterLayout } from './config.js';
import { createEmbeddedPolicy, deepenEmbeddedPolicy } from './index.js';
import { charTokenizer } from './tokenizer.js';
import { tensorView } from './transformer.js';

const small = { hiddenSize: 16, numLayers: 2, numHeads: 2, numKvHeads: 1, intermediateSize: 24, contextLength: 64 };
const data = ['Q: What is 12*34?\nA: ```python\nprint(12*34)\n```', 'Q: Is 7 even or odd?\nA: \\boxed{odd}'].map((text) => {
  const tokens = charTokenizer.encode(text);
  return { tokens, lossMask: new Float32Array(tokens.length - 1).fill(1) };
});

test('a deepened policy computes what the trained one computes, then learns with its new layers', async () => {
  const source = createEmbeddedPolicy(small, { seed: 3, threads: 1 });
  source.info = { trained_by: 'test' };
  const deeper = deepenEmbeddedPolicy(source, 4, { seed: 9, threads: 1 });
  try {
    assert.equal(deeper.config.numLayers, 4);
    assert.deepEqual(deeper.info, { trained_by: 'test' });
    const before = await source.forward(data);
    const after = await deeper.forward(data);
    before.forEach((row, i) => row.forEach((logprob, t) => assert.ok(Math.abs(logprob - after[i]![t]!) < 1e-5, `datum ${i} target ${t}: ${logprob} vs ${after[i]![t]}`)));
    const top = parameterLayout(deeper.config).layers[3]!;
    assert.ok(tensorView(deeper.model.params, top.qProj).some((w) => w !== 0), 'new layers keep a fresh initialisation');
    await deeper.forwardBackward(data, { kind: 'cross_entropy', weights: data.map((d) => Float32Array.from(d.lossMask)) });
    await deeper.optimStep({ learningRate: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 1 });
    assert.ok(tensorView(deeper.model.params, top.oProj).some((w) => w !== 0), 'the new output projections train');
  } finally {
    await source.close();
    await deeper.close();
  }
  assert.throws(() => deepenEmbeddedPolicy(source, 2), (e: unknown) => e instanceof InputError && /more than the checkpoint's 2 layers/.test(e.message));
});
