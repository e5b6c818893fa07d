import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { gradeOlympiad, loadOlympiad, parseOlympiadRecord, plainNumber, splitTopLevel, stripUnit } from './olympiadbench.js';

const datasets = join(fileURLToPath(new URL('../../', import.meta.url)), '..', 'shared', 'datasets');

const make = (fields: Record<string, unknown>) =>
  parseOlympiadRecord({ id: 'olympiadbench-x', problem: 'p', is_multiple_answer: false, unit: null, answer_type: 'Numerical', ...fields }, 'test:1');

test('splitTopLevel splits only at top-level commas', () => {
  assert.deepEqual(splitTopLevel('(1,8,19), (2,7,13),(4,5,7)'), ['(1,8,19)', '(2,7,13)', '(4,5,7)']);
  assert.deepEqual(splitTopLevel('-2,0,2'), ['-2', '0', '2']);
  assert.deepEqual(splitTopLevel('\\{1,2\\}, [3,4)'), ['\\{1,2\\}', '[3,4)']);
});

test('several final answers: all must match, in any order, and no extra one', () => {
  const r = make({ answer: '69$,$84', final_answer: ['$69$,$84$'], is_multiple_answer: true });
  assert.deepEqual(r.answers, ['69', '84']);
  assert.equal(gradeOlympiad(r, 'So \\boxed{84, 69}').correct, true);
  assert.equal(gradeOlympiad(r, '\\boxed{69,84}').correct, true);
  assert.equal(gradeOlympiad(r, '\\boxed{69}').reason, 'answer-count');
  assert.equal(gradeOlympiad(r, '\\boxed{69, 84, 100}').correct, false);
  assert.equal(gradeOlympiad(r, '\\boxed{69, 85}').correct, false);
  const functions = make({ answer: 'f(x)=-1$,$f(x)=x+1', final_answer: ['$f(x)=-1$,$f(x)=x+1$'], is_multiple_answer: true, answer_type: 'Expression' });
  assert.equal(gradeOlympiad(functions, '\\boxed{f(x)=x+1, f(x)=-1}').correct, true);
  assert.equal(gradeOlympiad(functions, '\\boxed{f(x)=x-1, f(x)=-1}').correct, false);
});

test('tuples: the set of tuples must match; order inside a tuple matters', () => {
  const r = make({ answer: '(6,3),(9,3),(9,5),(54,5)', final_answer: ['$(6,3),(9,3),(9,5),(54,5)$'], is_multiple_answer: true, answer_type: 'Tuple' });
  assert.equal(gradeOlympiad(r, '\\boxed{(54,5), (9,5), (9,3), (6,3)}').correct, true);
  assert.equal(gradeOlympiad(r, '\\boxed{(3,6), (9,3), (9,5), (54,5)}').correct, false);
  const single = make({ answer: '(2,4)', final_answer: ['$(2,4)$'], answer_type: 'Tuple' });
  assert.equal(gradeOlympiad(single, '\\boxed{(2, 4)}').correct, true);
  assert.equal(gradeOlympiad(single, '\\boxed{(4, 2)}').correct, false);
});

test('intervals and expressions', () => {
  const interval = make({ answer: '(-\\infty, 0) \\cup\\{1\\}$.', final_answer: ['$(-\\infty, 0) \\cup\\{1\\}$.'], answer_type: 'Interval' });
  assert.equal(gradeOlympiad(interval, '\\boxed{(-\\infty,0)\\cup\\{1\\}}').correct, true);
  assert.equal(gradeOlympiad(interval, '\\boxed{(-\\infty,0]\\cup\\{1\\}}').correct, false);
  const closed = make({ answer: '[\\frac{1}{2}, 8]', final_answer: ['$[\\frac{1}{2}, 8]$'], answer_type: 'Interval' });
  assert.equal(gradeOlympiad(closed, '\\boxed{[0.5, 8]}').correct, true);
  assert.equal(gradeOlympiad(closed, '\\boxed{[8, 0.5]}').correct, false);
  const expression = make({ answer: '\\frac{1}{2 n+2}', final_answer: ['$\\frac{1}{2 n+2}$'], answer_type: 'Expression' });
  assert.equal(gradeOlympiad(expression, '\\boxed{\\frac{1}{2(n+1)}}').correct, true);
  assert.equal(gradeOlympiad(expression, '\\boxed{\\frac{1}{2n+1}}').correct, false);
});

test('units named by the record are removed from answers', () => {
  assert.equal(stripUnit('\\frac{600}{7} \\mathrm{~km/h}', 'km/h'), '\\frac{600}{7}');
  assert.equal(stripUnit('41/12 km', 'km'), '41/12');
  assert.equal(stripUnit('166 \\text{ cm}^2', '$cm^2$'), '166');
  assert.equal(stripUnit('45 minutes', 'minute'), '45');
  assert.equal(stripUnit('45 minutes', undefined), '45 minutes');
  const speed = make({ answer: '\\frac{600}{7}', final_answer: ['$\\frac{600}{7}$'], unit: 'km/h' });
  assert.equal(gradeOlympiad(speed, 'speed \\boxed{\\frac{600}{7} \\text{ km/h}}').correct, true);
  assert.equal(gradeOlympiad(speed, '\\boxed{600/7\\,\\mathrm{km/h}}').correct, true);
  assert.equal(gradeOlympiad(speed, '\\boxed{\\frac{600}{7} \\text{ km/h} + 1}').correct, false);
  const area = make({ answer: '166', final_answer: ['$166$'], unit: '$cm^2$' });
  assert.equal(gradeOlympiad(area, '\\boxed{166 \\mathrm{cm}^2}').correct, true);
  const angle = make({ answer: '45', final_answer: ['45'], unit: '^{\\circ}' });
  assert.equal(gradeOlympiad(angle, '\\boxed{45^\\circ}').correct, true);
  assert.equal(gradeOlympiad(angle, '\\boxed{46^\\circ}').correct, false);
});

test('plainNumber reads the plain numeric spellings used with a stated tolerance', () => {
  assert.equal(plainNumber('-3.2'), -3.2);
  assert.equal(plainNumber('3.2 \\times 10^{5}'), 320000);
  assert.equal(plainNumber('\\frac{1}{4}'), 0.25);
  assert.equal(plainNumber('-\\dfrac{3}{2}'), -1.5);
  assert.equal(plainNumber('x+1'), undefined);
});

test('a stated error tolerance is absolute (|a-b| <= 1.01 error), per answer when listed', () => {
  const r = make({ answer: '3.14', final_answer: ['3.14'], error: '1e-2' });
  assert.deepEqual(r.errors, [0.01]);
  assert.equal(gradeOlympiad(r, '\\boxed{3.15}').correct, true);
  assert.equal(gradeOlympiad(r, '\\boxed{3.1415}').correct, true);
  assert.equal(gradeOlympiad(r, '\\boxed{3.16}').correct, false);
  // Without a stated tolerance the same answers are compared tightly.
  const strict = make({ answer: '3.14', final_answer: ['3.14'] });
  assert.equal(gradeOlympiad(strict, '\\boxed{3.15}').correct, false);
  const two = make({ answer: '1.0, 200', final_answer: ['1.0, 200'], is_multiple_answer: true, error: '0.1,5' });
  assert.equal(gradeOlympiad(two, '\\boxed{1.05, 204}').correct, true);
  assert.equal(gradeOlympiad(two, '\\boxed{1.05, 206}').correct, false);
  assert.throws(() => make({ answer: '1', final_answer: ['1'], error: 'tiny' }), /field "error" must be a non-negative number/);
});

test('every reference in the dataset grades as correct against itself, also with its answers reversed', async () => {
  const records = await loadOlympiad(join(datasets, 'olympiadbench.jsonl'));
  assert.equal(records.length, 675);
  for (const r of records) {
    assert.equal(gradeOlympiad(r, `The final answer is \\boxed{${r.answers.join(', ')}}`).correct, true, r.id);
    if (r.answers.length > 1) assert.equal(gradeOlympiad(r, `\\boxed{${[...r.answers].reverse().join(', ')}}`).correct, true, r.id);
  }
  assert.ok(records.some((r) => r.unit) && records.some((r) => r.answers.length > 1));
});

test('malformed records are named', () => {
  assert.throws(() => make({ answer_type: 'Essay', answer: '1' }), /answer_type/);
  assert.throws(() => make({ answer: '$$', final_answer: ['$$'] }), /empty answer/);
});
