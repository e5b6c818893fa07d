import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { gradeMinerva, loadMinerva, minerva, parseMinervaRecord, type MinervaRecord } from './minerva.js';

const datasets = join(fileURLToPath(new URL('../../', import.meta.url)), '..', 'shared', 'datasets');

const record = (answer: string, altAnswers: string[] = []): MinervaRecord => ({ id: 'minerva-x', problem: 'p', answer, altAnswers });

test('scientific notation: any spelling of the number, within 1e-4 relative', () => {
  const r = record('4.5e33', ['4.5e33']);
  assert.equal(gradeMinerva(r, 'L = \\boxed{4.5 \\times 10^{33}} erg/s').correct, true);
  assert.equal(gradeMinerva(r, 'The final answer is $4.5\\cdot 10^{33}$.').correct, true);
  assert.equal(gradeMinerva(r, '\\boxed{4.50e33}').correct, true);
  assert.equal(gradeMinerva(r, '\\boxed{4.6 \\times 10^{33}}').correct, false);
  assert.equal(gradeMinerva(r, '\\boxed{4.5 \\times 10^{32}}').correct, false);
  // 0.7% off: Qwen's math_equal (rel_tol 1e-4) rejects it, and so do we.
  assert.equal(gradeMinerva(r, '\\boxed{4.47e33}').correct, false);
});

test('alt_answers are accepted: a symbolic alternative to a numpy-style reference', () => {
  const r = record('np.arcsin(10/13)', ['\\arcsin{\\frac{1}{1.3}}', '\\arcsin{\\frac{10}{13}}']);
  const grade = gradeMinerva(r, 'so $\\theta = \\boxed{\\arcsin\\left(\\frac{10}{13}\\right)}$');
  assert.equal(grade.correct, true);
  assert.equal(typeof grade.detail?.['matchedGold'], 'string');
  assert.equal(gradeMinerva(r, '\\boxed{\\arccos\\left(\\frac{10}{13}\\right)}').correct, false);
  // Either listed answer is fine when the source accepts two values.
  const two = record('0.01', ['0.01', '0.02']);
  assert.equal(gradeMinerva(two, '\\boxed{0.02}').correct, true);
  assert.equal(gradeMinerva(two, '\\boxed{0.03}').correct, false);
});

test('units and degrees around the number do not matter; a missing answer is no-answer', () => {
  assert.equal(gradeMinerva(record('1.6'), '\\boxed{1.6 \\text{ cm}}').correct, true);
  assert.equal(gradeMinerva(record('41.8', ['41.8^\\circ']), '\\boxed{41.8^{\\circ}}').correct, true);
  assert.equal(gradeMinerva(record('-1./3', ['-\\frac{1}{3}']), '\\boxed{-1/3}').correct, true);
  const none = gradeMinerva(record('1.6'), 'I am not sure.');
  assert.equal(none.correct, false);
  assert.equal(none.reason, 'no-answer');
});

test('every reference and alternative in the dataset grades as correct against itself', async () => {
  const records = await loadMinerva(join(datasets, 'minerva_math.jsonl'));
  assert.equal(records.length, 272);
  for (const r of records) {
    for (const answer of [r.answer, ...r.altAnswers]) {
      assert.equal(gradeMinerva(r, `Thus \\boxed{${answer}}.`).correct, true, `${r.id}: ${answer}`);
    }
  }
  const items = await minerva.load(join(datasets, 'minerva_math.jsonl'));
  assert.match(items[0]?.prompt('code') ?? '', /^Please solve the following problem step by step\. During your reasoning process/);
  assert.match(items[0]?.prompt('text') ?? '', /^Please solve the following problem step by step and put the final answer within \\boxed\{\}\.\n/);
});

test('a malformed record names the file, the line and the field', () => {
  assert.throws(() => parseMinervaRecord({ id: 'm', problem: 'p', answer: 3 }, 'f.jsonl:7'), /field "answer" must be a string/);
  assert.throws(() => parseMinervaRecord({ id: 'm', problem: 'p', answer: '3', alt_answers: [1] }, 'f.jsonl:7'), (e: Error) => {
    assert.equal((e as { input?: string }).input, 'f.jsonl:7');
    return /alt_answers/.test(e.message);
  });
});
