import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractFinalCodeBlock, extractFinalProgram, parseFunctionalResult, FUNCTIONAL_MARKER } from './lcb-program.js';

test('direct mode takes the text between the last two lines holding ``` (LCB extract_code)', () => {
  const response = 'Idea.\n```python\nprint(1)\n```\nBetter:\n```python\nimport sys\nprint(2)\n```\nDone.';
  assert.equal(extractFinalCodeBlock(response), 'import sys\nprint(2)');
  assert.equal(extractFinalCodeBlock('no code here'), '');
  assert.equal(extractFinalCodeBlock('```python\nprint(1)'), '');
  // LCB's rule is line-based: a fence mentioned inside prose counts as a fence line.
  assert.equal(extractFinalCodeBlock('```python\nx=1\n```\nsee the ``` above\n'), '');
});

test('code-integrated mode skips interpreter output blocks', () => {
  const trajectory = [
    'Let me test.',
    '```python',
    'def f(): return 3',
    'print(f())',
    '```',
    '```output',
    '3',
    '```',
    'Final:',
    '```python',
    'print(int(input()) * 2)',
    '```',
    '```output',
    "EOFError: EOF when reading a line",
    '```',
  ].join('\n');
  assert.equal(extractFinalProgram(trajectory), 'print(int(input()) * 2)');
  assert.equal(extractFinalProgram('```output\n1\n```'), '');
});

test('the functional result is read from the last marker line only, and only as a value', () => {
  const stdout = `debug\n${FUNCTIONAL_MARKER}[1]\nnoise\n${FUNCTIONAL_MARKER}{"t":[2,{"f":"0.5"}]}\n`;
  assert.deepEqual(parseFunctionalResult(stdout), { type: 'tuple', items: [{ type: 'int', value: 2n }, { type: 'float', value: 0.5 }] });
  assert.equal(parseFunctionalResult('no marker'), undefined);
  assert.equal(parseFunctionalResult(`${FUNCTIONAL_MARKER}{broken`), undefined);
  // A verdict-shaped line is not a serialised value.
  assert.equal(parseFunctionalResult(`${FUNCTIONAL_MARKER}{"passed": true, "got": "2"}`), undefined);
});
