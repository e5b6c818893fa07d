/**
 * Final-answer extraction from a model response, in one of three modes:
 * - `boxed`: the last box only (the paper's training and validation rewards);
 * - `answer` (default): the last box (`\boxed{}` with balanced braces, `\boxed x`, `\fbox{}`), the
 *   last `<answer>` tag, "the final answer is ...", "Answer: ...", then (multiple-choice mode) a
 *   lone choice letter;
 * - `free-text`: anything a person or model writes, on either side of a comparison: the last box,
 *   then an explicit answer statement ("answer is", "Answer:", `<answer>`), then the last math span
 *   (`\[..\]`, `$$..$$`, `\(..\)`, `$..$`), then the whole text when it is a bare answer with no
 *   prose, then the last number. Prose numbers are read with their separators, currency and units
 *   (number-format.ts), and a percent written after a box (`$\boxed{28}$ pct`) stays with it.
 * The paper's lenient "last number on the last line" is computed only on request and kept in its
 * own field, so a caller can report it separately. Never throws.
 */
import { readDecoratedNumber } from './number-format.js';

export type ExtractionMethod =
  | 'boxed'
  | 'fbox'
  | 'answer-tag'
  | 'final-answer'
  | 'answer-line'
  | 'answer-is'
  | 'math-span'
  | 'whole-text'
  | 'last-number'
  | 'choice'
  | 'none';

/** Which steps may find the answer (see the module comment). */
export type ExtractionMode = 'boxed' | 'answer' | 'free-text';
export const EXTRACTION_MODES: readonly ExtractionMode[] = ['boxed', 'answer', 'free-text'];

export interface Extraction {
  /** The extracted answer, or null when none was found. */
  answer: string | null;
  method: ExtractionMethod;
  /** Why nothing was found (only when `answer` is null). */
  reason?: string;
  /** The last integer on the last non-empty line (the paper's lenient fallback), when requested. */
  lastNumber?: string | null;
  /** Free-text mode: the unit or currency written with a prose number (`m^2`, `€`). */
  unit?: string;
}

export interface ExtractOptions {
  /** Which steps may find the answer; default `answer` (`boxed` when `boxedOnly` is set). */
  mode?: ExtractionMode;
  /** Only boxes count (the paper's training reward: no box means no answer), the same as mode `boxed`. Default false. */
  boxedOnly?: boolean;
  /** Also look for a choice letter: `(B)`, `\text{(B)}`, `Answer: B`. Default false. */
  multipleChoice?: boolean;
  /** Compute the lenient last-number fallback into `lastNumber`. Default false. */
  lastNumber?: boolean;
}

/** The content of the last box, scanning braces; null when none or unbalanced. `end` is the index after the box. */
export function lastBoxed(text: string): { content: string; method: 'boxed' | 'fbox'; end: number } | null {
  const pattern = /\\(boxed|fbox)\s*(\{|\s)/g;
  // An unbalanced last box falls back to the one before it.
  const candidates: RegExpExecArray[] = [];
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) candidates.push(match);
  for (let k = candidates.length - 1; k >= 0; k -= 1) {
    const match = candidates[k] as RegExpExecArray;
    const method = match[1] === 'fbox' ? 'fbox' : 'boxed';
    const start = match.index + match[0].length;
    if (match[2] === '{') {
      const content = balanced(text, start);
      if (content !== null) return { content: content.trim(), method, end: start + content.length + 1 };
    } else {
      // `\boxed 5`: up to the next `$`, or the end of the line.
      const rest = text.slice(start);
      const raw = /^\s*([^$\n]*)/.exec(rest)?.[0] ?? '';
      const content = raw.trim();
      if (content !== '') return { content: content.replace(/[.\s]+$/, ''), method, end: start + raw.length };
    }
  }
  return null;
}

function balanced(text: string, start: number): string | null {
  let depth = 1;
  for (let k = start; k < text.length; k += 1) {
    const ch = text[k];
    if (ch === '\\') {
      k += 1;
      continue;
    }
    if (ch === '{') depth += 1;
    else if (ch === '}') {
      depth -= 1;
      if (depth === 0) return text.slice(start, k);
    }
  }
  return null;
}

const ANSWER_TAG = /<answer>([\s\S]*?)<\/answer>/;
const FINAL_ANSWER = /final answer\s*(?:is|:)\s*[:：]?\s*([^\n]+)/i;
const ANSWER_LINE = /^\s*\**answer\**\s*[:：]\s*([^\n]+)/im;
/** A number glued to a unit or currency sign (`1,000.99m²`, `5€`). */
const GLUED_NUMBER = /(?<![A-Za-z\d.,_^])[+-]?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?)(?=[A-Za-z€$£¥%²³])/;
/** A tuple or interval of plain numbers (`(1, -2)`, `[0, 1)`). */
const PLAIN_TUPLE = /[([]\s*[+-]?\d+(?:\.\d+)?(?:\s*[,;]\s*[+-]?\d+(?:\.\d+)?)+\s*[)\]]/;

/** Global twins of the patterns, compiled once (extraction runs for every sampled response). */
const globalPatterns = new Map<RegExp, RegExp>();

function lastMatch(text: string, pattern: RegExp): RegExpExecArray | null {
  let last: RegExpExecArray | null = null;
  let global = globalPatterns.get(pattern);
  if (global === undefined) {
    global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
    globalPatterns.set(pattern, global);
  }
  global.lastIndex = 0;
  for (let match = global.exec(text); match; match = global.exec(text)) {
    last = match;
    if (match[0].length === 0) global.lastIndex += 1;
  }
  return last;
}

/** Trims a sentence-style answer: surrounding `$`, a trailing period, bold markers. */
function cleanPhrase(phrase: string): string {
  let answer = phrase.trim();
  answer = answer.replace(/^\*+|\*+$/g, '').trim();
  const math = /^\$+([^$]+)\$+/.exec(answer) ?? /^\\\((.+?)\\\)/.exec(answer) ?? /^\\\[(.+?)\\\]/.exec(answer);
  if (math?.[1]) answer = math[1];
  return answer.replace(/[.\s]+$/, '').trim();
}

const CHOICE_PATTERNS = [
  /(?:answer|choice|option)\s*(?:is|:)?\s*[:：]?\s*\**\s*\(?\\?(?:text\{|textbf\{|mathrm\{)?\(?([A-J])\)?\}?\)?(?![A-Za-z])/i,
  /\\text(?:bf)?\{\s*\(([A-J])\)/,
  /\(([A-J])\)/,
  /^\s*([A-J])\s*[.)]?\s*$/m,
];

export function extractAnswer(text: string, options: ExtractOptions = {}): Extraction {
  const source = typeof text === 'string' ? text : String(text);
  const result = (options.mode ?? 'answer') === 'free-text' && !options.boxedOnly ? extractFreeText(source, options) : extractStrict(source, { ...options, boxedOnly: options.boxedOnly === true || options.mode === 'boxed' });
  if (options.lastNumber) result.lastNumber = lastNumberOnLastLine(typeof text === 'string' ? text : '');
  return result;
}

function extractStrict(text: string, options: ExtractOptions): Extraction {
  if (text.trim() === '') return { answer: null, method: 'none', reason: 'empty response' };
  const box = lastBoxed(text);
  if (box && box.content !== '') return { answer: box.content, method: box.method };
  if (options.boxedOnly === true) return { answer: null, method: 'none', reason: box ? 'the last box is empty' : 'no \\boxed{} in the response' };
  const tag = lastMatch(text, ANSWER_TAG);
  if (tag?.[1] !== undefined && tag[1].trim() !== '') {
    const inner = lastBoxed(tag[1]);
    return { answer: inner ? inner.content : cleanPhrase(tag[1]), method: 'answer-tag' };
  }
  const final = lastMatch(text, FINAL_ANSWER);
  if (final?.[1]) {
    const phrase = cleanPhrase(final[1].replace(/^\s*(?:that\s+)?/, ''));
    if (phrase !== '') return { answer: phrase, method: 'final-answer' };
  }
  const line = lastMatch(text, ANSWER_LINE);
  if (line?.[1]) {
    const phrase = cleanPhrase(line[1]);
    if (phrase !== '') return { answer: phrase, method: 'answer-line' };
  }
  if (options.multipleChoice) {
    for (const pattern of CHOICE_PATTERNS) {
      const match = lastMatch(text, pattern);
      if (match?.[1]) return { answer: match[1].toUpperCase(), method: 'choice' };
    }
  }
  return { answer: null, method: 'none', reason: 'no box, answer tag or "final answer" phrase found' };
}

/** The paper's lenient fallback: the last run of digits on the last non-empty line. */
export function lastNumberOnLastLine(text: string): string | null {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const lastLine = lines[lines.length - 1] ?? '';
  const numbers = lastLine.match(/\d+/g);
  return numbers ? (numbers[numbers.length - 1] ?? null) : null;
}

/** A percent sign or word written right after an answer (`$\boxed{28}$ pct`, `$28$ percent`). */
const PERCENT_AFTER = /^\s*(?:\$+|\\\)|\\\])?\s*(?:\\%|%|percent\b|per\s?cent\b|pct\b)/i;

function withPercent(answer: string, after: string): string {
  return PERCENT_AFTER.test(after) && !/%|\\percent/.test(answer) ? `${answer}\\%` : answer;
}

interface MathSpan {
  content: string;
  start: number;
  end: number;
}

/**
 * Math spans in reading order: `\[..\]` and `$$..$$` may cross lines, `\(..\)` and `$..$` may not
 * (a lone `$` then is a currency sign). An escaped `\$` is text.
 */
export function mathSpans(text: string): MathSpan[] {
  const spans: MathSpan[] = [];
  let k = 0;
  while (k < text.length) {
    const ch = text[k];
    const next = text[k + 1];
    let close: string | null = null;
    let open = 0;
    if (ch === '\\' && next === '[') [close, open] = ['\\]', 2];
    else if (ch === '\\' && next === '(') [close, open] = ['\\)', 2];
    else if (ch === '\\') {
      k += 2;
      continue;
    } else if (ch === '$' && next === '$') [close, open] = ['$$', 2];
    else if (ch === '$') [close, open] = ['$', 1];
    if (close === null) {
      k += 1;
      continue;
    }
    const inline = close === '$' || close === '\\)';
    const end = findClose(text, k + open, close, inline);
    if (end < 0) {
      k += open;
      continue;
    }
    spans.push({ content: text.slice(k + open, end), start: k, end: end + close.length });
    k = end + close.length;
  }
  return spans;
}

function findClose(text: string, from: number, close: string, inline: boolean): number {
  for (let k = from; k < text.length; k += 1) {
    const ch = text[k];
    if (inline && ch === '\n') return -1;
    if (text.startsWith(close, k)) return k;
    if (ch === '\\') k += 1;
  }
  return -1;
}

/** Words that may stand next to a bare answer without making it prose. */
const NON_PROSE_WORDS = /^(?:percent|pct|dollars?|euros?|cents?|units?|sq|square|cubic|cm|mm|km|kg|mg|ml|ft|in|mph|kph|hrs?|min|sec|and|or)$/i;

/** A bare answer has no prose around it: `\text{Evelyn}`, `x = 3`, `1,000.99€`, `28 percent`, `North America`. */
function isBareAnswer(text: string): boolean {
  const trimmed = text.trim();
  if (trimmed.length > 1000) return false;
  if (/^[A-Za-z][A-Za-z' -]*$/.test(trimmed) && trimmed.split(/\s+/).length <= 3) return true;
  const outsideCommands = trimmed.replace(/\\(?:begin|end)\s*\{[a-zA-Z*]*\}/g, ' ').replace(/\\(?:text|textbf|mathrm|mbox|operatorname)\s*\{[^{}]*\}/g, ' ').replace(/\\[a-zA-Z]+/g, ' ');
  const words = outsideCommands.match(/[A-Za-z]{2,}/g) ?? [];
  return words.every((word) => NON_PROSE_WORDS.test(word));
}

const NUMBER_WORDS = 'zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty'.split(' ');

/** An answer written in plain words: a prose number with its decorations, a number word, or the phrase itself. */
function plainAnswer(phrase: string, method: ExtractionMethod): Extraction {
  const cleaned = phrase.trim().replace(/^\*+|\*+$/g, '').replace(/[.;:!\s]+$/, '').trim();
  const word = NUMBER_WORDS.indexOf(cleaned.toLowerCase());
  if (word >= 0) return { answer: String(word), method };
  const number = readDecoratedNumber(cleaned);
  if (number) {
    const result: Extraction = { answer: number.percent ? `${number.number}\\%` : number.number, method };
    if (number.unit !== undefined) result.unit = number.unit;
    return result;
  }
  // Words are words (`Yes`, `North America`), not a product of variables.
  if (/^[A-Za-z]{2,}(?:[\s-]+[A-Za-z]+)*$/.test(cleaned)) return { answer: `\\text{${cleaned}}`, method };
  return { answer: cleaned, method };
}

/** The end of the sentence that states an answer: a full stop, or a clause that gives a reason. */
const CLAUSE_END = /[,;]?\s+(?:i\.e\.|e\.g\.|that is)|\.(?=\s|$)|[,;]\s+(?=[A-Za-z]{2,})|\s+(?:because|since|as|which|so|where|when|for)\s/;

function statedAnswer(phrase: string, method: ExtractionMethod): Extraction | null {
  const spans = mathSpans(phrase);
  const first = spans[0];
  // The answer follows the statement directly: its first math span, or the words up to the end of the clause.
  if (first && phrase.slice(0, first.start).trim().replace(/^(?:that|:)\s*/, '') === '' && first.content.trim() !== '') {
    // Several answers stated as a run of spans (`$1$, $2$ and $-2$`) are one list.
    let last = 0;
    while (last + 1 < spans.length && /^\s*(?:,|,?\s*and|,?\s*or)?\s*$/.test(phrase.slice((spans[last] as MathSpan).end, (spans[last + 1] as MathSpan).start))) last += 1;
    const contents = spans.slice(0, last + 1).map((span) => span.content.trim());
    return { answer: withPercent(contents.join(', '), phrase.slice((spans[last] as MathSpan).end)), method };
  }
  const cut = CLAUSE_END.exec(phrase);
  const clause = cut ? phrase.slice(0, cut.index) : phrase;
  const inner = lastBoxed(clause);
  if (inner) return { answer: inner.content, method };
  if (clause.trim() === '') return null;
  return plainAnswer(clause.replace(/^\s*(?:that\s+)?/, ''), method);
}

const STATEMENTS: readonly { pattern: RegExp; method: ExtractionMethod }[] = [
  { pattern: /final answer\s*(?:is|:)\s*[:：]?\s*([^\n]+)/i, method: 'final-answer' },
  { pattern: /^\s*\**answer\**\s*[:：]\s*([^\n]+)/im, method: 'answer-line' },
  { pattern: /\banswer\s*(?:is|should be|would be|will be|=|:)\s*[:：]?\s*([^\n]+)/i, method: 'answer-is' },
];

/** A prose number: thousands groups, a decimal comma or point; not glued to letters (`AZ2A`, `x_2`). */
const PROSE_NUMBER = /(?<![A-Za-z\d.,_^])[+-]?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{1,3}(?:\.\d{3})+,\d+|\d+(?:[.,]\d+)?|\.\d+)(?![A-Za-z\d]|[.,]\d)/g;

function lastNumberInText(text: string): Extraction | null {
  let last: RegExpExecArray | null = null;
  PROSE_NUMBER.lastIndex = 0;
  for (let match = PROSE_NUMBER.exec(text); match; match = PROSE_NUMBER.exec(text)) last = match;
  // A number glued to a unit (`1,000.99m²`) fails the look-ahead above; try again allowing letters after it.
  const glued = lastMatch(text, GLUED_NUMBER);
  if (glued && (!last || glued.index >= last.index)) last = glued;
  if (!last) return null;
  // The last number closes a plain tuple or interval (`(1, -2)`, `[0, 1)`): the group is the answer.
  const group = lastMatch(text.slice(0, last.index + last[0].length + 3), PLAIN_TUPLE);
  if (group && group.index + group[0].length >= last.index + last[0].length) return { answer: group[0], method: 'last-number' };
  const before = text.slice(Math.max(0, last.index - 2), last.index);
  const currency = /(?:\\\$|[$€£¥₹])\s?$/.exec(before)?.[0].trim() ?? '';
  const after = text.slice(last.index + last[0].length);
  const suffix = /^\s?(?:[^\s.,;:!?)]+(?:\s+units?)?)/.exec(after)?.[0] ?? '';
  for (const candidate of [`${currency}${last[0]}${suffix}`, `${currency}${last[0]}`, last[0]]) {
    const read = readDecoratedNumber(candidate);
    if (read) return plainAnswer(candidate, 'last-number');
  }
  return { answer: last[0], method: 'last-number' };
}

function extractFreeText(text: string, options: ExtractOptions): Extraction {
  if (text.trim() === '') return { answer: null, method: 'none', reason: 'empty text' };
  const box = lastBoxed(text);
  if (box && box.content !== '') return { answer: withPercent(box.content, text.slice(box.end)), method: box.method };
  const tag = lastMatch(text, ANSWER_TAG);
  if (tag?.[1] !== undefined && tag[1].trim() !== '') {
    const stated = statedAnswer(tag[1].trim(), 'answer-tag');
    if (stated) return stated;
  }
  for (const { pattern, method } of STATEMENTS) {
    const match = lastMatch(text, pattern);
    const stated = match?.[1] ? statedAnswer(match[1], method) : null;
    if (stated?.answer) return stated;
  }
  if (options.multipleChoice) {
    for (const pattern of CHOICE_PATTERNS) {
      const match = lastMatch(text, pattern);
      if (match?.[1]) return { answer: match[1].toUpperCase(), method: 'choice' };
    }
  }
  const spans = mathSpans(text);
  if (isBareAnswer(text)) {
    // A clean answer such as a dataset reference: the text itself, or its one math span.
    const only = spans.length === 1 ? spans[0] : undefined;
    if (spans.length === 0) return plainAnswer(text, 'whole-text');
    if (only && text.slice(0, only.start).trim() === '' && text.slice(only.end).trim().replace(/^[.,]$/, '') === '' && only.content.trim() !== '') {
      return { answer: only.content.trim(), method: 'whole-text' };
    }
  }
  for (let k = spans.length - 1; k >= 0; k -= 1) {
    const span = spans[k] as MathSpan;
    if (span.content.trim() !== '') return { answer: withPercent(span.content.trim(), text.slice(span.end)), method: 'math-span' };
  }
  const number = lastNumberInText(text);
  if (number) return number;
  return { answer: null, method: 'none', reason: 'no box, answer statement, math span or number found' };
}
