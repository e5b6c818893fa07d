/**
 * GPQA-Diamond: four choices in the record's order, graded by the letter. The letter is taken
 * robustly from `\boxed{C}`, `Answer: C`, `(C)`, "the correct answer is C", or the text of a
 * choice. The questions must not be published: items expose only ids and non-textual groups, and
 * nothing here logs or stores question or choice text.
 */
import { InputError } from '../core/errors.js';
import { isEquivalent, lastBoxed } from '../grader/index.js';
import { readJsonl, RecordReader } from './jsonl.js';
import { CIR_INSTRUCTION, type ReasoningMode } from '../prompts/index.js';
import type { BenchmarkGrade, BenchmarkItem, BenchmarkSpec } from './types.js';

export const LETTERS = ['A', 'B', 'C', 'D'] as const;
export type Letter = (typeof LETTERS)[number];

export interface GpqaRecord {
  id: string;
  problem: string;
  choices: [string, string, string, string];
  answer: Letter;
  domain?: string;
  subject?: string;
}

export function parseGpqaRecord(value: Record<string, unknown>, where: string): GpqaRecord {
  const r = new RecordReader(value, where);
  const choices = r.stringArray('choices') as string[];
  if (choices.length !== 4) throw new InputError(`field "choices" must hold 4 options, got ${choices.length}`, where);
  const answer = r.string('answer').trim().toUpperCase();
  if (!(LETTERS as readonly string[]).includes(answer)) throw new InputError(`field "answer" must be one of A-D, got ${JSON.stringify(answer)}`, where);
  const record: GpqaRecord = {
    id: r.string('id'),
    problem: r.string('problem'),
    choices: choices as [string, string, string, string],
    answer: answer as Letter,
  };
  const domain = r.optionalString('domain');
  if (domain) record.domain = domain;
  const subject = r.optionalString('subject');
  if (subject) record.subject = subject;
  return record;
}

function choiceLines(record: GpqaRecord): string {
  return record.choices.map((choice, i) => `${LETTERS[i]}) ${choice.trim()}`).join('\n');
}

/**
 * Direct mode follows the simple-evals layout (question, lettered choices, last line
 * `Answer: LETTER`); code-integrated mode puts the CIR instruction first and asks for the letter
 * in the box.
 */
export function gpqaPrompt(record: GpqaRecord, mode: ReasoningMode): string {
  if (mode === 'text') {
    return `Answer the following multiple choice question. The last line of your response should be of the following format: 'Answer: $LETTER' (without quotes) where LETTER is one of ABCD. Think step by step before answering.\n\n${record.problem.trim()}\n\n${choiceLines(record)}`;
  }
  return `${CIR_INSTRUCTION} The final answer is the letter (A, B, C or D) of the correct choice.\n${record.problem.trim()}\n\n${choiceLines(record)}`;
}

/** Strips markup around a candidate answer: `\text{}`, bold, `$`, parentheses, "Answer:" and trailing punctuation. */
function unwrap(candidate: string): string {
  let text = candidate.trim();
  for (let i = 0; i < 4; i++) {
    const before = text;
    text = text
      .replace(/^\\(?:text|textbf|mathrm|mathbf|textit)\s*\{([\s\S]*)\}$/, '$1')
      .replace(/^\*\*([\s\S]*)\*\*$/, '$1')
      .replace(/^\$+([\s\S]*?)\$+$/, '$1')
      .replace(/^(?:the\s+)?(?:final\s+|correct\s+)?(?:answer|choice|option)\s*(?:is|:)?\s*:?\s*/i, '')
      .replace(/[.\s]+$/, '')
      .trim();
    if (text === before) break;
  }
  return text;
}

const normalizeText = (text: string) =>
  text
    .replace(/\\(?:text|mathrm)\s*\{([^{}]*)\}/g, '$1')
    .replace(/[$\s]+/g, ' ')
    .replace(/[.\s]+$/, '')
    .trim();

/**
 * The letter a candidate stands for: a bare letter (`C`, `(c)`), a letter with punctuation
 * (`C) text`, `C. text`, `(C) text`), the text of exactly one choice, or finally a letter followed
 * by words (`B is correct`). Choice text is tried before the loose rule so that an answer that is
 * a choice starting with "A " is read as that choice.
 */
export function interpretChoice(candidate: string, choices: readonly string[]): Letter | undefined {
  const text = unwrap(candidate);
  if (text === '') return undefined;
  const bare = /^\(?([A-Da-d])\)?$/.exec(text) ?? /^\(?([A-D])[).:]/.exec(text) ?? /^\(([A-D])\)/.exec(text);
  if (bare?.[1]) return bare[1].toUpperCase() as Letter;
  // Unwrapping can eat `$` that belong to the choice's own math, so the raw candidate counts too.
  // Case-sensitive first: some choices differ only in the case of a symbol (`Q` vs `q`).
  for (const caseSensitive of [true, false]) {
    const norm = (t: string) => (caseSensitive ? normalizeText(t) : normalizeText(t).toLowerCase());
    const wanted = new Set([norm(text), norm(candidate)]);
    const byText = choices.flatMap((choice, i) => (wanted.has(norm(choice)) ? [i] : []));
    if (byText.length === 1) return LETTERS[byText[0] as number];
    if (byText.length > 1) return undefined;
  }
  // Numeric or LaTeX choices written another way (`0.5` for `1/2`): only when exactly one matches.
  const equivalent = choices.flatMap((choice, i) => (isEquivalent(choice, text, { timeBudgetMs: 20 }).correct ? [i] : []));
  if (equivalent.length === 1) return LETTERS[equivalent[0] as number];
  const loose = /^([A-D])\s+[-–—]?\s*\S/.exec(text);
  return loose?.[1] as Letter | undefined;
}

function lastMatch(text: string, pattern: RegExp): RegExpExecArray | undefined {
  let last: RegExpExecArray | undefined;
  for (const match of text.matchAll(pattern)) last = match as RegExpExecArray;
  return last;
}

export interface LetterExtraction {
  letter: Letter | undefined;
  /** Which rule found it. */
  method: 'boxed' | 'answer-line' | 'answer-phrase' | 'parenthesized' | 'choice-text' | 'none';
  /** The raw candidate text (may be a choice's text; do not log it for GPQA). */
  candidate: string;
}

/**
 * Finds the chosen letter. Order: the last `\boxed{}`; the last `Answer: …` line; the last
 * "answer is …" phrase; the last parenthesized letter `(C)` on the last non-empty line; the last
 * line equal to one choice's text.
 */
export function extractChoice(responseText: string, choices: readonly string[]): LetterExtraction {
  const box = lastBoxed(responseText);
  if (box) {
    const letter = interpretChoice(box.content, choices);
    if (letter) return { letter, method: 'boxed', candidate: box.content };
  }
  const line = lastMatch(responseText, /^[ \t>#*_]*(?:final\s+)?answer[ \t*_]*[:：][ \t]*(.+)$/gim);
  if (line?.[1]) {
    // A choice's text may span lines: then the rest of the response is the candidate.
    const rest = responseText.slice((line.index ?? 0) + line[0].length - line[1].length);
    const letter = interpretChoice(line[1], choices) ?? interpretChoice(rest, choices);
    if (letter) return { letter, method: 'answer-line', candidate: line[1] };
  }
  const phrase = lastMatch(responseText, /(?:answer|choice|option)\s+is\s*:?\s*([^\n]+)/gi);
  if (phrase?.[1]) {
    const letter = interpretChoice(phrase[1].split(/(?<=[.)])\s/)[0] ?? phrase[1], choices);
    if (letter) return { letter, method: 'answer-phrase', candidate: phrase[1] };
  }
  const lines = responseText.split('\n').filter((l) => l.trim() !== '');
  const lastLine = lines[lines.length - 1] ?? '';
  const parenthesized = lastMatch(lastLine, /\(([A-D])\)/g);
  if (parenthesized?.[1]) return { letter: parenthesized[1] as Letter, method: 'parenthesized', candidate: parenthesized[0] };
  const byText = interpretChoice(lastLine, choices);
  if (byText && lastLine.trim().length > 2) return { letter: byText, method: 'choice-text', candidate: lastLine };
  return { letter: undefined, method: 'none', candidate: '' };
}

export function gradeGpqa(record: GpqaRecord, responseText: string): BenchmarkGrade {
  const found = extractChoice(responseText, record.choices);
  // Only the letter is reported: the candidate may quote a choice's text.
  return {
    correct: found.letter === record.answer,
    extracted: found.letter ?? '',
    reason: found.letter === undefined ? 'no-answer' : `letter-${found.method}`,
  };
}

export function gpqaItem(record: GpqaRecord): BenchmarkItem {
  const groups: Record<string, string> = {};
  if (record.domain) groups['domain'] = record.domain;
  if (record.subject) groups['subject'] = record.subject;
  return {
    id: record.id,
    groups,
    reference: record.answer,
    prompt: (mode) => gpqaPrompt(record, mode),
    grade: async (responseText) => gradeGpqa(record, responseText),
  };
}

export async function loadGpqa(path: string): Promise<GpqaRecord[]> {
  return (await readJsonl(path)).map(({ line, value }) => parseGpqaRecord(value, `${path}:${line}`));
}

export const gpqa: BenchmarkSpec = {
  name: 'gpqa',
  description: 'GPQA-Diamond (198), multiple choice graded by letter; question text never written out by default',
  defaultFile: 'gpqa_diamond.jsonl',
  needsExecutor: false,
  load: async (path) => (await loadGpqa(path)).map(gpqaItem),
  confidentialText: true,
  caveats: () => ['GPQA-Diamond questions must not be published: write ids, letters and verdicts, not question or choice text.'],
};
