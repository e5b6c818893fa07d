/**
 * GPQA grading on made-up records (the real questions must not appear in the repository), plus
 * checks over the real file that refer to records by id only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { extractChoice, gpqa, gpqaPrompt, gradeGpqa, loadGpqa, parseGpqaRecord, type GpqaRecord } from './gpqa.js';

const datasets = join(fileURLToPath(new URL('../../', import.meta.url)), '..', 'shared', 'datasets');

const record: GpqaRecord = {
  id: 'gpqa-test-1',
  problem: 'Which particle mediates the electromagnetic force?',
  choices: ['Gluon', 'Photon', 'W boson', 'A Higgs boson'],
  answer: 'B',
};
const numeric: GpqaRecord = { id: 'gpqa-test-2', problem: 'What is 1/2 + 1/4?', choices: ['$\\frac{1}{4}$', '$\\frac{3}{4}$', '$1$', '$\\frac{1}{2}$'], answer: 'B' };

test('the prompt lists the four choices in record order and asks for the letter', () => {
  const direct = gpqaPrompt(record, 'text');
  assert.match(direct, /'Answer: \$LETTER'/);
  assert.ok(direct.indexOf('A) Gluon') < direct.indexOf('B) Photon'));
  assert.ok(direct.indexOf('C) W boson') < direct.indexOf('D) A Higgs boson'));
  assert.match(gpqaPrompt(record, 'code'), /write python code[\s\S]*letter \(A, B, C or D\)[\s\S]*D\) A Higgs boson$/);
});

test('letters are found in every usual format', () => {
  const correct = [
    'Reasoning...\nAnswer: B',
    'Reasoning...\n**Answer:** (B)',
    'so the answer is $\\boxed{B}$.',
    'so \\boxed{\\text{(B)}}',
    '\\boxed{B) Photon}',
    'The correct answer is B.',
    'I conclude the answer is (B) Photon, since ...',
    'Both are plausible, but the photon it is: (B)',
    'Final answer: b',
    'Answer: B is correct because photons couple to charge.',
  ];
  for (const response of correct) assert.equal(gradeGpqa(record, response).correct, true, response);
  const wrong = ['Answer: C', '\\boxed{A}', 'The answer is (D).', 'Answer: Gluon'];
  for (const response of wrong) assert.equal(gradeGpqa(record, response).correct, false, response);
});

test('the last answer wins over earlier ones', () => {
  assert.equal(gradeGpqa(record, 'Answer: A\nWait, that is wrong.\nAnswer: B').correct, true);
  assert.equal(gradeGpqa(record, 'Maybe \\boxed{A}... no: \\boxed{B}').correct, true);
});

test("the choice's text is read as its letter, including choices starting with 'A '", () => {
  assert.equal(gradeGpqa(record, 'Answer: Photon').correct, true);
  assert.equal(gradeGpqa(record, 'It must be the\nphoton').correct, true);
  assert.equal(extractChoice('\\boxed{\\text{Photon}}', record.choices).letter, 'B');
  assert.equal(extractChoice('Answer: A Higgs boson', record.choices).letter, 'D');
  // Numeric choices written differently still select exactly one choice.
  assert.equal(gradeGpqa(numeric, '\\boxed{0.75}').correct, true);
  assert.equal(gradeGpqa(numeric, '\\boxed{\\frac{1}{4}}').correct, false);
});

test('no letter: no-answer, and nothing but the letter is reported', () => {
  const none = gradeGpqa(record, 'I do not know.');
  assert.deepEqual(none, { correct: false, extracted: '', reason: 'no-answer' });
  const found = gradeGpqa(record, 'Answer: Photon');
  assert.equal(found.extracted, 'B');
  assert.equal(JSON.stringify(found).includes('Photon'), false);
});

test('the real file: every correct letter and correct choice text is accepted, a neighbour rejected (ids only)', async () => {
  const records = await loadGpqa(join(datasets, 'gpqa_diamond.jsonl'));
  assert.equal(records.length, 198);
  for (const r of records) {
    const index = 'ABCD'.indexOf(r.answer);
    const other = 'ABCD'[(index + 1) % 4] as string;
    assert.equal(gradeGpqa(r, `Thinking.\nAnswer: ${r.answer}`).correct, true, r.id);
    assert.equal(gradeGpqa(r, `\\boxed{${r.answer}}`).correct, true, r.id);
    assert.equal(gradeGpqa(r, `Thinking.\nAnswer: ${r.choices[index] ?? ''}`).correct, true, r.id);
    assert.equal(gradeGpqa(r, `Answer: ${other}`).correct, false, r.id);
    assert.equal(gradeGpqa(r, `Answer: ${r.choices['ABCD'.indexOf(other)] ?? ''}`).correct, false, r.id);
  }
});

test('items expose ids and groups, never question text', async () => {
  const items = await gpqa.load(join(datasets, 'gpqa_diamond.jsonl'));
  const records = await loadGpqa(join(datasets, 'gpqa_diamond.jsonl'));
  const serialized = JSON.stringify(items);
  for (const r of records.slice(0, 20)) assert.equal(serialized.includes(r.problem.slice(0, 40)), false, r.id);
  assert.equal(gpqa.confidentialText, true);
  assert.deepEqual(Object.keys(items[0]?.groups ?? {}).sort(), ['domain', 'subject']);
});

test('malformed records are named', () => {
  assert.throws(() => parseGpqaRecord({ id: 'g', problem: 'q', choices: ['a', 'b', 'c'], answer: 'A' }, 'g.jsonl:3'), /must hold 4 options/);
  assert.throws(() => parseGpqaRecord({ id: 'g', problem: 'q', choices: ['a', 'b', 'c', 'd'], answer: 'E' }, 'g.jsonl:3'), /one of A-D/);
});
