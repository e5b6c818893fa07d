import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradeResponse, trainingReward, validationReward } from './grade.js';

const right = 'We compute carefully.\n\\[ \\boxed{\\frac{1}{2}} \\]';
const wrong = 'We compute carefully.\n\\[ \\boxed{\\frac{1}{3}} \\]';
const unboxed = 'We compute carefully. The final answer is 0.5';

test('gradeResponse extracts then compares, reporting the extraction and verdict', () => {
  const result = gradeResponse('0.5', right);
  assert.equal(result.correct, true);
  assert.equal(result.via, 'answer');
  assert.equal(result.extraction.method, 'boxed');
  assert.equal(result.verdict.reason, 'numeric');
  assert.equal(gradeResponse('0.5', wrong).correct, false);
  const none = gradeResponse('0.5', 'no idea');
  assert.deepEqual({ correct: none.correct, via: none.via, reason: none.verdict.reason }, { correct: false, via: 'none', reason: 'no-answer' });
});

test('a gold array accepts any of its answers (Minerva alt_answers)', () => {
  const golds = ['3.83e35', '3.83 \\times 10^{35}'];
  const result = gradeResponse(golds, 'so \\boxed{3.83\\times10^{35}}');
  assert.equal(result.correct, true);
  assert.equal(gradeResponse(['188', '566'], '\\boxed{566}').matchedGold, '566');
  assert.equal(gradeResponse([], '\\boxed{1}').correct, false);
});

test('multiple choice: the letter, or the text of the right choice when choices are given', () => {
  const choices = ['10^-9 eV', '10^-11 eV', '10^-4 eV', '10^-8 eV'];
  assert.equal(gradeResponse('C', 'The answer is (C).', { multipleChoice: true }).correct, true);
  assert.equal(gradeResponse('C', 'The answer is (B).', { multipleChoice: true }).correct, false);
  assert.equal(gradeResponse('C', '\\boxed{C}', { multipleChoice: true }).correct, true);
  assert.equal(gradeResponse('C', '\\boxed{10^-4 eV}', { multipleChoice: true, choices }).correct, true);
  assert.equal(gradeResponse('C', '\\boxed{10^-8 eV}', { multipleChoice: true, choices }).correct, false);
});

test('lenient mode adds the last number on the last line, reported as via last-number', () => {
  const text = 'Long work without a box.\nSo the count is 25';
  assert.equal(gradeResponse('025', text).correct, false);
  const result = gradeResponse('025', text, { lenient: true });
  assert.equal(result.correct, true);
  assert.equal(result.via, 'last-number');
  assert.equal(result.extraction.lastNumber, '25');
});

test('training reward: +1 correct, -1 wrong or unboxed; format-aware gives -0.5 to a wrong box', () => {
  assert.equal(trainingReward(right, '\\frac12'), 1);
  assert.equal(trainingReward(wrong, '\\frac12'), -1);
  assert.equal(trainingReward(unboxed, '\\frac12'), -1);
  assert.equal(trainingReward('', '\\frac12'), -1);
  assert.equal(trainingReward(wrong, '\\frac12', { formatAware: true }), -0.5);
  assert.equal(trainingReward(unboxed, '\\frac12', { formatAware: true }), -1);
  assert.equal(trainingReward(right, '\\frac12', { formatAware: true }), 1);
});

test('validation reward: 1 correct, 0 otherwise', () => {
  assert.equal(validationReward(right, '1/2'), 1);
  assert.equal(validationReward(wrong, '1/2'), 0);
  assert.equal(validationReward(unboxed, '1/2'), 0);
});

test('the verdict names the extraction step (extracted_by); reason keeps its values', () => {
  const free = { extraction: 'free-text' as const };
  const boxed = gradeResponse('9', 'so \\boxed{9}', free).verdict;
  assert.deepEqual([boxed.reason, boxed.extracted_by], ['string', 'boxed']);
  assert.equal(gradeResponse('9', 'Answer \\( 9 \\)', free).verdict.extracted_by, 'math-span');
  assert.equal(gradeResponse('1000.99', 'it is 1,000.99€', free).verdict.extracted_by, 'last-number');
  assert.equal(gradeResponse('9', 'Answer \\( 9 \\)').correct, false);
  assert.equal(gradeResponse('0.5', unboxed).verdict.extracted_by, 'final-answer');
});

test('goldAsText reads a worked solution on the reference side; units on both sides must agree', () => {
  const solution = 'Each side is $\\sqrt{144} = 12$, so the perimeter is $4 \\cdot 12 = \\boxed{48}$ cm.';
  const options = { extraction: 'free-text' as const, goldAsText: true };
  const result = gradeResponse(solution, 'The perimeter is 48 cm.', options);
  assert.equal(result.correct, true);
  assert.equal(result.goldExtractions?.[0]?.answer, '48');
  assert.equal(gradeResponse(solution, 'The perimeter is 12 cm.', options).correct, false);
  assert.equal(gradeResponse(solution, 'The perimeter is 48 cm.', { extraction: 'free-text' }).correct, false);
  const units = gradeResponse('The side is 12 cm.', 'The side is 12 m.', options);
  assert.deepEqual([units.correct, units.verdict.detail], [false, 'unit cm vs m']);
  assert.equal(gradeResponse('12', 'The side is 12 m.', options).correct, true);
});

test('training rewards keep the strict boxed-only mode whatever the text states', () => {
  assert.equal(trainingReward('The answer is 5. Answer: 5', '5'), -1);
  assert.equal(trainingReward('so $5$', '5'), -1);
  assert.equal(validationReward('It is 5', '5'), 0);
  assert.equal(trainingReward('so \\boxed{5}', '5'), 1);
});

test('digits glued to a word or letter make another answer, so a near-miss earns no training reward', () => {
  // `odd1` once parsed as o·d·d·1 and scored +1 against `odd`.
  for (const [response, gold] of [['\\boxed{odd1}', 'odd'], ['\\boxed{x1}', 'x'], ['\\boxed{a1}', 'a'], ['\\boxed{even2}', 'even'], ['\\boxed{x2}', '2x']] as const) {
    assert.equal(trainingReward(response, gold), -1, `${response} against ${gold}`);
    assert.equal(validationReward(response, gold), 0, `${response} against ${gold}`);
  }
  assert.equal(trainingReward('\\boxed{odd}', 'odd'), 1);
  assert.equal(trainingReward('\\boxed{x1}', 'x_1'), 1, 'x1 is the plain-text spelling of x_1');
});
