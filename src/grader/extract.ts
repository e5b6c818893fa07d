/**
 * Final-answer extraction from a model response. Order of preference: the last box
 * (`\boxed{}` with balanced braces, `\boxed x`, `\fbox{}`), the last `<answer>` tag,
 * "the final answer is ...", "Answer: ...", then (multiple-choice mode) a lone choice letter.
 * The paper's lenient "last number on the last line" is computed only on request and kept in its
 * own field, so a caller can report it separately. Never throws.
 */

export type ExtractionMethod = 'boxed' | 'fbox' | 'answer-tag' | 'final-answer' | 'answer-line' | 'choice' | 'none';

export interface Extraction {
  /** The extracted answer, or null when none was found. */
  answer: string | null;
  method: ExtractionMethod;
  /** Why nothing was found (only when `answer` is null). */
  reason?: string;
  /** The last integer on the last non-empty line (the paper's lenient fallback), when requested. */
  lastNumber?: string | null;
}

export interface ExtractOptions {
  /** Only boxes count (the paper's training reward: no box means no answer). Default false. */
  boxedOnly?: boolean;
  /** Also look for a choice letter: `(B)`, `\text{(B)}`, `Answer: B`. Default false. */
  multipleChoice?: boolean;
  /** Compute the lenient last-number fallback into `lastNumber`. Default false. */
  lastNumber?: boolean;
}

/** The content of the last box, scanning braces; null when none or unbalanced. */
export function lastBoxed(text: string): { content: string; method: 'boxed' | 'fbox' } | null {
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
      if (content !== null) return { content: content.trim(), method };
    } else {
      // `\boxed 5`: up to the next `$`, or the end of the line.
      const rest = text.slice(start);
      const content = /^\s*([^$\n]*)/.exec(rest)?.[1]?.trim() ?? '';
      if (content !== '') return { content: content.replace(/[.\s]+$/, ''), method };
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

function lastMatch(text: string, pattern: RegExp): RegExpExecArray | null {
  let last: RegExpExecArray | null = null;
  const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
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
  const result = extractStrict(typeof text === 'string' ? text : String(text), options);
  if (options.lastNumber) result.lastNumber = lastNumberOnLastLine(typeof text === 'string' ? text : '');
  return result;
}

function extractStrict(text: string, options: ExtractOptions): Extraction {
  if (text.trim() === '') return { answer: null, method: 'none', reason: 'empty response' };
  const box = lastBoxed(text);
  if (box && box.content !== '') return { answer: box.content, method: box.method };
  if (options.boxedOnly) return { answer: null, method: 'none', reason: box ? 'the last box is empty' : 'no \\boxed{} in the response' };
  const tag = lastMatch(text, /<answer>([\s\S]*?)<\/answer>/);
  if (tag?.[1] !== undefined && tag[1].trim() !== '') {
    const inner = lastBoxed(tag[1]);
    return { answer: inner ? inner.content : cleanPhrase(tag[1]), method: 'answer-tag' };
  }
  const final = lastMatch(text, /final answer\s*(?:is|:)\s*[:：]?\s*([^\n]+)/i);
  if (final?.[1]) {
    const phrase = cleanPhrase(final[1].replace(/^\s*(?:that\s+)?/, ''));
    if (phrase !== '') return { answer: phrase, method: 'final-answer' };
  }
  const line = lastMatch(text, /^\s*\**answer\**\s*[:：]\s*([^\n]+)/im);
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
