import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { extractAnswer, lastBoxed, lastNumberOnLastLine } from './extract.js';

test('the last balanced \\boxed{} wins, nested braces included', () => {
  const text = 'First $\\boxed{1}$, then \\boxed{\\frac{1}{\\sqrt{2}}} is final.';
  assert.deepEqual(extractAnswer(text), { answer: '\\frac{1}{\\sqrt{2}}', method: 'boxed' });
  assert.equal(extractAnswer('\\boxed{\\{1, 2\\}}').answer, '\\{1, 2\\}');
  assert.equal(extractAnswer('\\boxed{\\text{(B)}}').answer, '\\text{(B)}');
});

test('\\boxed with a space, \\fbox, and an unbalanced last box falling back to the previous one', () => {
  assert.deepEqual(extractAnswer('so $\\boxed 5$.'), { answer: '5', method: 'boxed' });
  assert.deepEqual(extractAnswer('answer \\fbox{42}'), { answer: '42', method: 'fbox' });
  assert.equal(extractAnswer('\\boxed{3} and then \\boxed{4').answer, '3');
  assert.equal(lastBoxed('\\boxed{'), null);
});

test('<answer> tags, "the final answer is", and "Answer:" lines', () => {
  assert.deepEqual(extractAnswer('<think>..</think><answer> 12 </answer>'), { answer: '12', method: 'answer-tag' });
  assert.equal(extractAnswer('<answer>so \\boxed{7}</answer>').answer, '7');
  assert.deepEqual(extractAnswer('Thus, the final answer is $\\frac{3}{4}$. I hope it is correct.'), { answer: '\\frac{3}{4}', method: 'final-answer' });
  assert.deepEqual(extractAnswer('work...\nAnswer: 17'), { answer: '17', method: 'answer-line' });
});

test('boxedOnly ignores everything but boxes (the paper training reward)', () => {
  const extraction = extractAnswer('The final answer is 5', { boxedOnly: true });
  assert.equal(extraction.answer, null);
  assert.equal(extraction.method, 'none');
  assert.match(extraction.reason ?? '', /boxed/);
});

test('multiple-choice letters: (B), \\text{(C)}, "answer is D", a lone letter line', () => {
  assert.equal(extractAnswer('I pick (B) because...', { multipleChoice: true }).answer, 'B');
  assert.equal(extractAnswer('so it is \\text{(C)} here', { multipleChoice: true }).answer, 'C');
  assert.equal(extractAnswer('The correct answer is D.', { multipleChoice: true }).answer, 'D');
  assert.equal(extractAnswer('reasoning\nA\n', { multipleChoice: true }).answer, 'A');
  assert.equal(extractAnswer('I pick (B) because...').answer, null);
});

test('no answer is a result with a reason', () => {
  for (const text of ['', '   ', 'I do not know.']) {
    const extraction = extractAnswer(text);
    assert.equal(extraction.answer, null);
    assert.equal(extraction.method, 'none');
    assert.ok((extraction.reason ?? '').length > 0);
  }
});

test('the lenient last-number fallback is reported separately and only on request', () => {
  const text = 'The area is 12 square units.\nSo we get 3 and 45';
  assert.equal(extractAnswer(text).lastNumber, undefined);
  const extraction = extractAnswer(text, { lastNumber: true });
  assert.equal(extraction.answer, null);
  assert.equal(extraction.lastNumber, '45');
  assert.equal(lastNumberOnLastLine('no digits\n'), null);
  assert.equal(extractAnswer('\\boxed{7}\nthen 8', { lastNumber: true }).lastNumber, '8');
});

test('property: never throws on random text, and a boxed integer is always found', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), fc.integer(), (noise, n) => {
      const extraction = extractAnswer(noise, { multipleChoice: true, lastNumber: true });
      assert.equal(typeof extraction.method, 'string');
      const clean = noise.replace(/\\boxed|\\fbox|[{}$\\]/g, '');
      assert.equal(extractAnswer(`${clean} \\boxed{${n}}`).answer, String(n));
    }),
    { numRuns: 300 },
  );
});

test('free-text mode: box, then an answer statement, then the last math span, then a bare text, then the last number', () => {
  const free = { mode: 'free-text' as const };
  assert.deepEqual(extractAnswer('We get $x=2$, the answer is 7, and \\boxed{9}.', free), { answer: '9', method: 'boxed' });
  assert.deepEqual(extractAnswer('We get $x=2$ and $y=5$; the answer is 7.', free), { answer: '7', method: 'answer-is' });
  assert.deepEqual(extractAnswer('We get $x=2$ and then 4 more, so $y = 5$', free), { answer: 'y = 5', method: 'math-span' });
  assert.deepEqual(extractAnswer('x = 3', free), { answer: 'x = 3', method: 'whole-text' });
  assert.deepEqual(extractAnswer('\\text{Evelyn}', free), { answer: '\\text{Evelyn}', method: 'whole-text' });
  assert.deepEqual(extractAnswer('There were 12, then 3 left.', free), { answer: '3', method: 'last-number' });
  assert.equal(extractAnswer('no numbers here at all', free).method, 'none');
  // The same texts in the default mode keep today's behaviour.
  assert.equal(extractAnswer('We get $x=2$ and then 4 more, so $y = 5$').answer, null);
  assert.equal(extractAnswer('There were 12, then 3 left.').answer, null);
});

test('free-text mode: inline math does not cross lines, display math does; an escaped \\$ is text', () => {
  const free = { mode: 'free-text' as const };
  assert.equal(extractAnswer('Answer $ \n 9 \n $', free).method, 'last-number');
  assert.deepEqual(extractAnswer('Answer \\[ \n 9 \n \\]', free), { answer: '9', method: 'math-span' });
  assert.deepEqual(extractAnswer('Answer $$ \n 9 \n $$', free), { answer: '9', method: 'math-span' });
  assert.equal(extractAnswer('pay \\$5 then $\\frac{1}{2}$ of it', free).answer, '\\frac{1}{2}');
});

test('free-text mode: percent written after a box or a span stays with the answer; units and currency are read apart', () => {
  const free = { mode: 'free-text' as const };
  assert.equal(extractAnswer('so $\\boxed{28}$ pct', free).answer, '28\\%');
  assert.equal(extractAnswer('so $28$ percent of them', free).answer, '28\\%');
  assert.equal(extractAnswer('so \\boxed{28} of them', free).answer, '28');
  assert.deepEqual(extractAnswer('the area is 1,000.99m²', free), { answer: '1000.99', method: 'last-number', unit: 'm^2' });
  assert.deepEqual(extractAnswer('Il reste 2,74 $ après.', free), { answer: '2.74', method: 'last-number', unit: '$' });
  assert.deepEqual(extractAnswer('The point is (1, -2).', free), { answer: '(1, -2)', method: 'last-number' });
  assert.deepEqual(extractAnswer('AZYUK2A and x_3', free), { answer: null, method: 'none', reason: 'no box, answer statement, math span or number found' });
});

test('extraction mode boxed is boxedOnly', () => {
  assert.equal(extractAnswer('The final answer is 5', { mode: 'boxed' }).answer, null);
  assert.equal(extractAnswer('The final answer is \\boxed{5}', { mode: 'boxed' }).answer, '5');
  assert.equal(extractAnswer('The answer is 5', { mode: 'free-text', boxedOnly: true }).answer, null);
});

test('free-text mode: an answer stated as a run of math spans is one list', () => {
  const free = { mode: 'free-text' as const };
  assert.equal(extractAnswer('Therefore, the answer is $1$, $2$ and $-2$. Then $x$ is done.', free).answer, '1, 2, -2');
  assert.equal(extractAnswer('The answer is $3$ because $x = 1$.', free).answer, '3');
});
