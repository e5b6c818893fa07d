import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CIR_INSTRUCTION, instructedQuestion, leftTruncate, renderMessages, stripInstruction, TEXT_INSTRUCTION } from './index.js';
import { InputError } from '../core/errors.js';

// RUCAIBox/CIR @ 6d27817eac016f6d277f97e33379afcb652d9932, evaluation/run.py lines 275 and 282: the
// instruction, then "\n", then the question (the `cir` prompt type); the text twin is the same file's `origin`.
test('the CIR instruction and its text twin are the reference strings, one newline before the question', () => {
  assert.equal(CIR_INSTRUCTION.length, 316);
  assert.match(CIR_INSTRUCTION, /^Please solve the following problem step by step\. During your reasoning process, if needed, you can choose to write python code to enhance your reasoning\./);
  assert.ok(CIR_INSTRUCTION.endsWith('Please put the final answer within \\boxed{}.'));
  assert.equal(instructedQuestion('What is 1+1?', 'code'), `${CIR_INSTRUCTION}\nWhat is 1+1?`);
  assert.equal(instructedQuestion('What is 1+1?', 'text'), `${TEXT_INSTRUCTION}\nWhat is 1+1?`);
});

test('stripping the instruction gives back the question in either mode, and leaves other text alone', () => {
  fc.assert(
    fc.property(fc.string(), fc.constantFrom('code' as const, 'text' as const), (question, mode) => {
      assert.equal(stripInstruction(instructedQuestion(question, mode)), question);
    }),
  );
  assert.equal(stripInstruction('Find x.'), 'Find x.');
});

test('left truncation keeps the last tokens, as verl truncation=left does, and never fails on long prompts', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 60 }), fc.integer({ min: 1, max: 40 }), (tokens, max) => {
      const { tokens: kept, dropped } = leftTruncate(tokens, max);
      assert.equal(kept.length, Math.min(tokens.length, max));
      assert.equal(dropped, tokens.length - kept.length);
      assert.deepEqual(kept, tokens.slice(tokens.length - kept.length));
    }),
  );
  assert.deepEqual(leftTruncate([1, 2, 3, 4], 2), { tokens: [3, 4], dropped: 2 });
  assert.throws(() => leftTruncate([1], 0), InputError);
});

test('a system message is a chat turn, or text before the user message in raw format', () => {
  assert.deepEqual(renderMessages('S', 'U', 'raw'), { format: 'raw', text: 'S\n\nU' });
  assert.deepEqual(renderMessages(undefined, 'U', 'chat'), { format: 'chat', messages: [{ role: 'user', content: 'U' }] });
  assert.deepEqual(renderMessages('S', 'U', 'chat').format, 'chat');
});
