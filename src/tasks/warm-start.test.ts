import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PolicyBackend, TrainingDatum } from '../core/policy.js';
import type { Tokenizer } from '../core/tokenizer.js';
import { CharTokenizer } from '../model/tokenizer.js';
import { generateTraces, heldOutCodeTraces, splitOf } from './index.js';
import { copyDrills, copyFocusDatum, learningRateAt, pretrain, probeCopying, traceToDatum } from './warm-start.js';

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

/** The digits of the numbers in `text` that are among `seen`, in order. */
const copiedDigitsOf = (text: string, seen: ReadonlySet<string>) => (text.match(/[0-9]+/g) ?? []).filter((n) => seen.has(n)).join('');

test('copy focus marks exactly the copied digits: problem numbers in the programs, the printed result in \\boxed{}; never the prompt, the output or a constant', () => {
  const traces = generateTraces(300, 5).filter((t) => t.kind !== 'direct');
  assert.ok(traces.some((t) => t.task.family === 'linear') && traces.some((t) => t.kind === 'code-retry'));
  for (const trace of traces) {
    const datum = copyFocusDatum(trace, tokenizer);
    assert.equal(datum.focus.length, datum.lossMask.length);
    const focused = tokenizer.decode(datum.tokens.slice(1).filter((_, t) => datum.focus[t] === 1));
    const seen = new Set(trace.task.problem.match(/[0-9]+/g) ?? []);
    let expected = '';
    for (const segment of trace.segments) {
      if (segment.origin === 'tool') for (const n of segment.text.match(/[0-9]+/g) ?? []) seen.add(n);
      else expected += copiedDigitsOf(segment.text, seen);
    }
    assert.equal(focused, expected, trace.segments.map((s) => s.text).join(''));
    assert.ok(focused.endsWith(trace.task.answer.replace(/[^0-9]/g, '')), 'the boxed answer is a copy of the output');
    datum.focus.forEach((f, t) => assert.ok(f === 0 || datum.lossMask[t] === 1, `focused target ${t} is outside the loss mask`));
  }
  // linear's search box -100..100 and the [0] are constants, not copies (unless the problem holds them)
  const linear = traces.find((t) => t.task.family === 'linear' && !/\b(100|101|0)\b/.test(t.task.problem))!;
  const datum = copyFocusDatum(linear, tokenizer);
  assert.ok(!tokenizer.decode(datum.tokens.slice(1).filter((_, t) => datum.focus[t] === 1)).includes('100'));
});

test('copy focus over a tokenizer with multi-character tokens marks the tokens that hold copied digits', () => {
  // Two characters per token ("12", "3*", ...): ids are the char codes packed in pairs.
  const pairs: Tokenizer = {
    name: 'pairs',
    vocabSize: 128 * 129,
    eosTokenId: 0,
    encode: (text) => Array.from({ length: Math.ceil(text.length / 2) }, (_, i) => 1 + text.charCodeAt(2 * i) * 128 + (text.charCodeAt(2 * i + 1) || 0)),
    decode: (ids) => ids.map((id) => (id === 0 ? '' : String.fromCharCode(Math.floor((id - 1) / 128)) + ((id - 1) % 128 ? String.fromCharCode((id - 1) % 128) : ''))).join(''),
  };
  const trace = heldOutCodeTraces(20, 3).find((t) => t.task.family === 'multiply')!;
  const datum = copyFocusDatum(trace, pairs);
  const marked = datum.tokens.slice(1).filter((_, t) => datum.focus[t] === 1).map((id) => pairs.decode([id]));
  const char = copyFocusDatum(trace, tokenizer);
  const markedDigits = tokenizer.decode(char.tokens.slice(1).filter((_, t) => char.focus[t] === 1));
  assert.equal(marked.join('').replace(/[^0-9]/g, ''), markedDigits, marked.join('|'));
});

test('the copy probe reads held-out code traces and counts digits right, their NLL and whole traces right', async () => {
  const traces = heldOutCodeTraces(30, 7);
  assert.ok(traces.every((t) => t.kind === 'code' && t.task.codeHelps && splitOf(t.task.problem) === 'test'));
  // A policy sure of every copied digit except the first of each gcd trace (p = 0.1 there, 0.9 elsewhere).
  const forward = async (data: readonly TrainingDatum[]) =>
    data.map((datum, i) => {
      const focus = copyFocusDatum(traces[i]!, tokenizer).focus;
      const first = focus.indexOf(1);
      return Float32Array.from({ length: datum.tokens.length - 1 }, (_, t) => Math.log(traces[i]!.task.family === 'gcd' && t === first ? 0.1 : 0.9));
    });
  const probe = await probeCopying({ forward }, tokenizer, { traces: 30, seed: 7, maxTokens: 384 });
  const digits = traces.reduce((sum, t) => sum + copyFocusDatum(t, tokenizer).focus.reduce((a, b) => a + b, 0), 0);
  const gcd = traces.filter((t) => t.task.family === 'gcd').length;
  assert.ok(gcd > 0);
  assert.equal(probe.traces, 30);
  assert.equal(probe.digits, digits);
  assert.ok(Math.abs(probe.accuracy - (digits - gcd) / digits) < 1e-9);
  assert.ok(Math.abs(probe.nll - (gcd * -Math.log(0.1) + (digits - gcd) * -Math.log(0.9)) / digits) < 1e-5);
  assert.ok(Math.abs(probe.allRight - (30 - gcd) / 30) < 1e-9);
  assert.deepEqual(probe.byFamily['gcd'], { traces: gcd, accuracy: probe.byFamily['gcd']!.accuracy, allRight: 0 });
  assert.equal(probe.byFamily['multiply']?.allRight, 1);
  assert.deepEqual(Object.keys(probe.byFamily).sort(), ['count', 'gcd', 'lcm', 'linear', 'modpow', 'multiply', 'seqsum']);
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
