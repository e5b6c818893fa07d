/**
 * Every reference answer of ../shared/datasets must equal itself boxed, re-spaced and in its
 * common alternative spellings. Reads the datasets in place (never copied into the repo).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isEquivalent } from './equivalence.js';
import { gradeResponse } from './grade.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const datasets = join(repoRoot, '..', 'shared', 'datasets');

interface Row {
  id: string;
  answer: string;
  alt_answers?: string[];
  choices?: string[];
  answer_text?: string;
}

function load(name: string): Row[] {
  const path = join(datasets, `${name}.jsonl`);
  assert.ok(existsSync(path), `dataset missing: ${path}`);
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Row);
}

/** Spacing a reader ignores: around operators and brackets, never inside digit groups or after a command. */
function respaced(answer: string): string[] {
  const spread = answer.replace(/([+=<>()[\]])/g, ' $1 ').replace(/(?<![\d\\{]),(?!\d{3})/g, ' , ');
  const squeezed = answer.replace(/\s*([+=()[\]{}^_])\s*/g, '$1');
  return [spread, `  ${squeezed}  `];
}

/** Common alternative spellings, by the answer's shape. */
function alternatives(answer: string): string[] {
  const out: string[] = [];
  const trimmed = answer.trim();
  if (/^-?\d+$/.test(trimmed)) {
    const n = BigInt(trimmed);
    out.push(`${trimmed}.0`, `x = ${trimmed}`, `\\text{${trimmed}}`);
    if (n >= 0n) out.push(`0${trimmed}`);
    if (n >= 1000n) out.push(n.toLocaleString('en-US'));
  }
  const fraction = /^(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}$/.exec(trimmed);
  if (fraction) {
    const [, sign, num, den] = fraction;
    out.push(`${sign}${num}/${den}`, `${sign}\\dfrac{${num}}{${den}}`, `\\frac{${sign}${num}}{${den}}`);
    const value = Number(num) / Number(den);
    const decimal = (sign === '-' ? -value : value).toString();
    if (decimal.length < 12) out.push(decimal);
  }
  if (/\\dfrac/.test(trimmed)) out.push(trimmed.replace(/\\dfrac/g, '\\frac'));
  else if (/\\frac/.test(trimmed)) out.push(trimmed.replace(/\\frac/g, '\\dfrac'));
  const scientific = /^(-?\d+(?:\.\d+)?)e([-+]?\d+)$/.exec(trimmed);
  if (scientific) out.push(`${scientific[1] ?? ''} \\times 10^{${scientific[2] ?? ''}}`, `${scientific[1] ?? ''}\\cdot10^{${scientific[2] ?? ''}}`);
  if (/^\(.*\)$/.test(trimmed) && !trimmed.includes('\\left')) out.push(`\\left${trimmed.slice(0, -1)}\\right)`);
  const degrees = /^(.*)\^\{?\\circ\}?$/.exec(trimmed);
  if (degrees) out.push(degrees[1] ?? '', `${degrees[1] ?? ''}°`);
  if (/^\\sqrt\{\d+\}$/.test(trimmed)) out.push(trimmed.replace(/\\sqrt\{(\d+)\}/, '$1^{1/2}'));
  return out;
}

function failures(rows: Row[], extra: (row: Row) => string[] = () => []): string[] {
  const bad: string[] = [];
  for (const row of rows) {
    const gold = row.answer;
    const boxed = gradeResponse(gold, `Therefore the answer is $\\boxed{${gold}}$.`);
    if (!boxed.correct) bad.push(`${row.id} boxed: ${gold} (${boxed.verdict.reason})`);
    for (const variant of [gold, ...respaced(gold), ...alternatives(gold), ...extra(row)]) {
      const verdict = isEquivalent(gold, variant);
      if (!verdict.correct) bad.push(`${row.id}: ${JSON.stringify(gold)} vs ${JSON.stringify(variant)} (${verdict.reason}${verdict.detail ? `: ${verdict.detail}` : ''})`);
    }
  }
  return bad;
}

for (const name of ['aime24', 'aime25', 'amc23', 'math500', 'olympiadbench', 'olymmath_en_easy', 'olymmath_en_hard', 'train_aime_1983_2023']) {
  test(`every ${name} reference equals itself boxed, re-spaced and respelled`, () => {
    assert.deepEqual(failures(load(name)), []);
  });
}

test('every minerva reference and each of its alt_answers equals itself boxed and re-spaced', () => {
  const rows = load('minerva_math');
  const expanded = rows.flatMap((row) => [row, ...(row.alt_answers ?? []).map((alt, k) => ({ id: `${row.id}#alt${k}`, answer: alt }))]);
  assert.deepEqual(failures(expanded), []);
});

test('every train_math reference equals itself boxed and re-spaced', () => {
  assert.deepEqual(failures(load('train_math')), []);
});

test('every gpqa letter is accepted as a letter, (letter), \\text{(letter)} and as its choice text', () => {
  const bad: string[] = [];
  for (const row of load('gpqa_diamond')) {
    const options = { multipleChoice: true, choices: row.choices ?? [] };
    for (const response of [`\\boxed{${row.answer}}`, `The answer is (${row.answer}).`, `\\boxed{\\text{(${row.answer})}}`, `\\boxed{${row.answer_text ?? ''}}`]) {
      if (!gradeResponse(row.answer, response, options).correct) bad.push(`${row.id}: ${response.slice(0, 60)}`);
    }
    const wrongLetter = 'ABCD'.replace(row.answer, '')[0] ?? 'A';
    if (gradeResponse(row.answer, `\\boxed{${wrongLetter}}`, options).correct) bad.push(`${row.id}: accepted ${wrongLetter}`);
  }
  assert.deepEqual(bad, []);
});
