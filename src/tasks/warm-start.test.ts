import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PolicyBackend, TrainingDatum } from '../core/policy.js';
import { CharTokenizer } from '../model/tokenizer.js';
import { generateTraces } from './index.js';
import { copyDrills, copyFocusDatum, learningRateAt, pretrain, traceToDatum } from './warm-start.js';

const tokenizer = new CharTokenizer();

test('a trace becomes a datum whose loss mask covers exactly the policy text and the end token', () => {
  const trace = generateTraces(40, 2).find((t) => t.kind === 'code-retry')!;
  const datum = traceToDatum(trace, tokenizer);
  const text = trace.prompt + trace.segments.map((s) => s.text).join('');
  assert.equal(tokenizer.decode(datum.tokens), `${text}<|endoftext|>`);
  assert.equal(datum.lossMask.length, datum.tokens.length - 1);
  const trained = datum.tokens.slice(1).filter((_, t) => datum.lossMask[t] === 1);
  const policyText = trace.segments.filter((s) => s.origin === 'policy').map((s) => s.text).join('');
  assert.equal(tokenizer.decode(trained), `${policyText}<|endoftext|>`);
});

test('copy focus marks exactly the digits of the policy text (programs and answers), never the prompt or the output', () => {
  for (const trace of generateTraces(60, 5).filter((t) => t.kind !== 'direct').slice(0, 12)) {
    const datum = copyFocusDatum(trace, tokenizer);
    assert.equal(datum.focus.length, datum.lossMask.length);
    const focused = datum.tokens.slice(1).filter((_, t) => datum.focus[t] === 1);
    const policyDigits = trace.segments.filter((s) => s.origin === 'policy').map((s) => s.text.replace(/[^0-9]/g, '')).join('');
    assert.equal(tokenizer.decode(focused), policyDigits);
    datum.focus.forEach((f, t) => assert.ok(f === 0 || datum.lossMask[t] === 1, `focused target ${t} is outside the loss mask`));
  }
});

test('copy drills train exactly the repeat of the string shown in the prompt', () => {
  for (const datum of copyDrills(20, 3, tokenizer)) {
    const text = tokenizer.decode(datum.tokens);
    const match = /^Q: ([^\n]*)\nA: (.*)$/s.exec(text);
    assert.ok(match && match[1] === match[2], text);
    const trained = datum.tokens.slice(1).filter((_, t) => datum.lossMask[t] === 1);
    assert.equal(tokenizer.decode(trained), match[1]);
  }
});

test('the learning-rate schedule: warm-up, peak, cosine decay to a tenth', () => {
  assert.ok(learningRateAt(0, 100, 1) < learningRateAt(4, 100, 1));
  assert.ok(Math.abs(learningRateAt(5, 100, 1) - 1) < 1e-9);
  assert.ok(Math.abs(learningRateAt(100, 100, 1) - 0.1) < 1e-9);
});

test('pretrain: drills first, then traces; with copy focus the focused digits carry half of each step', async () => {
  const calls: { data: TrainingDatum[]; weights: Float32Array[] }[] = [];
  const rates: number[] = [];
  const recorder = {
    async forwardBackward(data: TrainingDatum[], loss: { kind: string; weights: Float32Array[] }) {
      calls.push({ data, weights: loss.weights });
      return { loss: 1, logprobs: [] };
    },
    async optimStep(params: { learningRate: number }) {
      rates.push(params.learningRate);
      return { gradNorm: 0 };
    },
  } as unknown as PolicyBackend;
  const sum = (arrays: readonly Float32Array[]) => arrays.reduce((total, a) => total + a.reduce((x, y) => x + y, 0), 0);
  const result = await pretrain(recorder, tokenizer, { copySteps: 2, copyFocus: 2, steps: 3, batchSize: 6, seed: 4, learningRate: 1e-3, maxTokens: 384 });
  assert.equal(result.steps, 5);
  assert.equal(calls.length, 5);
  assert.deepEqual(rates, [0, 1, 2, 3, 4].map((step) => learningRateAt(step, 5, 1e-3)));
  for (const call of calls.slice(0, 2)) {
    assert.equal(call.data.length, 6);
    assert.ok(Math.abs(sum(call.weights) - 1) < 1e-5);
    assert.ok(call.data.every((datum) => tokenizer.decode(datum.tokens).startsWith('Q: ') && !tokenizer.decode(datum.tokens).includes('```')));
  }
  for (const call of calls.slice(2)) {
    assert.equal(call.data.length, 6);
    assert.ok(Math.abs(sum(call.weights.slice(0, 4)) - 0.5) < 1e-5, 'plain traces carry half');
    assert.ok(Math.abs(sum(call.weights.slice(4)) - 0.5) < 1e-5, 'focused digits carry half');
    for (const [i, datum] of call.data.slice(4).entries()) {
      const weights = call.weights[4 + i]!;
      weights.forEach((w, t) => assert.ok(w === 0 || /[0-9]/.test(tokenizer.decode([datum.tokens[t + 1]!])), `weight on a non-digit target ${t}`));
    }
  }
});
