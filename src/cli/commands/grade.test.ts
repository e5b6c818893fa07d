import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const mainPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'main.js');
const runCli = (args: string[], input?: string) => spawnSync(process.execPath, [mainPath, 'grade', ...args], { encoding: 'utf8', input });

test('cir grade --jsonl --extract reads both sides as free text; without --extract "pred" stays a final answer', () => {
  const lines = [
    { gold: 'We find $x = \\boxed{4}$.', pred: 'So the answer is 4.' },
    { gold: '1000.99', pred: 'it costs 1,000.99€' },
    { gold: '12 cm', pred: 'The side is 12 m.' },
    { gold: '9', response: 'Answer \\( 9 \\)' },
  ];
  const input = lines.map((line) => JSON.stringify(line)).join('\n');
  const extracted = runCli(['--jsonl', '--extract'], input).stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.deepEqual(
    extracted.map((row) => [row['correct'], row['extracted_by'], row['gold_extracted']]),
    [
      [true, 'answer-is', ['4']],
      [true, 'last-number', ['1000.99']],
      [false, 'last-number', ['12']],
      [true, 'math-span', ['9']],
    ],
  );
  const plain = runCli(['--jsonl'], input).stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.deepEqual(
    plain.map((row) => row['correct']),
    [false, false, false, false],
  );
});

test('cir grade GOLD PRED --extract says which step read the answer; --extract with --response is refused', () => {
  const result = runCli(['--extract', '--', '28\\%', 'so it is $\\boxed{28}$ pct']);
  assert.equal(result.status, 0);
  assert.match(result.stdout, /correct \(string; read "28\\\\%" by boxed\)/);
  const refused = runCli(['--extract', '--response', '1', '1']);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /--extract/);
});
