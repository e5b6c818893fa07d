/**
 * OlympiadBench (OE_TO_maths_en_COMP, as packaged by Qwen2.5-Math) graded the way its authors'
 * judge does: the reference and the prediction are split into their final answers at top-level
 * commas, every reference answer must be paired with a distinct equal prediction (any order) and
 * the counts must agree; units named by the record are removed first; a stated error tolerance
 * (the original `error` field, one value or one per answer) is an absolute tolerance, as in the
 * authors' `numerical_equal` (|a − b| ≤ 1.01 · error).
 */
import { InputError } from '../core/errors.js';
import { extractAnswer, isEquivalent, type EquivalenceOptions } from '../grader/index.js';
import { readJsonl, RecordReader } from './jsonl.js';
import { instructedQuestion } from '../prompts/index.js';
import type { BenchmarkGrade, BenchmarkItem, BenchmarkSpec } from './types.js';

export type OlympiadAnswerType = 'Numerical' | 'Expression' | 'Equation' | 'Interval' | 'Tuple';
const ANSWER_TYPES = new Set<string>(['Numerical', 'Expression', 'Equation', 'Interval', 'Tuple']);

export interface OlympiadRecord {
  id: string;
  problem: string;
  /** The reference answers (one, or several when `isMultipleAnswer`). */
  answers: string[];
  answerType: OlympiadAnswerType;
  isMultipleAnswer: boolean;
  unit?: string;
  /** Absolute tolerance per answer (one value applies to all). */
  errors?: number[];
  subject?: string;
}

/** Splits at commas outside brackets, braces and parentheses (`(1,2), (3,4)` → two answers). */
export function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\' && text[i + 1] && /[{}]/.test(text[i + 1] as string)) {
      depth += text[i + 1] === '{' ? 1 : -1;
      i++;
    } else if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

/** Removes `$` delimiters and a trailing period the source left in some answers (`69$,$84`, `…\}$.`). */
function cleanAnswer(text: string): string {
  return text.replace(/\$/g, ' ').trim().replace(/\.$/, '').trim();
}

function unitSpellings(unit: string): string[] {
  const bare = unit.replace(/\$/g, '').replace(/\\(?:mathrm|text|operatorname)\s*\{([^{}]*)\}/g, '$1').replace(/[~\s]/g, '');
  return [...new Set([unit.replace(/\$/g, '').trim(), bare].filter((u) => u !== ''))];
}

/** Removes the record's unit (plain, `\text{}`/`\mathrm{}`-wrapped, degree signs) from an answer. */
export function stripUnit(answer: string, unit: string | undefined): string {
  if (!unit) return answer;
  let text = answer;
  const spellings = unitSpellings(unit);
  // Wrapped units: \text{ km}, \mathrm{~km/h}, \,\mathrm{cm}^2 ...
  text = text.replace(/\\(?:mathrm|text|textrm|operatorname|mbox)\s*\{([^{}]*)\}(\^\{?\d\}?)?/g, (whole, inner: string, power?: string) => {
    const candidate = (inner + (power ?? '')).replace(/[~\s]/g, '').replace(/\^\{(\d)\}/, '^$1');
    return spellings.some((s) => s.replace(/\^\{(\d)\}/, '^$1') === candidate || s === inner.replace(/[~\s]/g, '')) ? ' ' : whole;
  });
  for (const spelling of spellings.sort((a, b) => b.length - a.length)) {
    const escaped = spelling.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    text = text.replace(new RegExp(`\\s*${escaped}(?:e?s)?\\s*$`), ''); // plural spellings too
  }
  if (spellings.some((s) => /circ/.test(s))) text = text.replace(/\^\s*\{?\\circ\}?|°/g, '');
  return text.replace(/(?:\\[,;!: ]|~)+$/g, '').trim();
}

export function parseOlympiadRecord(value: Record<string, unknown>, where: string): OlympiadRecord {
  const r = new RecordReader(value, where);
  const answerType = r.string('answer_type');
  if (!ANSWER_TYPES.has(answerType)) throw new InputError(`field "answer_type" must be one of ${[...ANSWER_TYPES].join(', ')}, got ${JSON.stringify(answerType)}`, where);
  const isMultipleAnswer = r.boolean('is_multiple_answer', false);
  // The original judge reads every element of final_answer; Qwen's copy keeps a list of one.
  const finals = r.stringArray('final_answer', true) ?? [r.string('answer')];
  const answers = finals.flatMap((f) => (isMultipleAnswer ? splitTopLevel(cleanAnswer(f)) : [cleanAnswer(f)]));
  if (answers.length === 0 || answers.some((a) => a === '')) throw new InputError('field "final_answer" holds an empty answer', where);
  const record: OlympiadRecord = { id: r.string('id'), problem: r.string('problem'), answers, answerType: answerType as OlympiadAnswerType, isMultipleAnswer };
  const unit = r.optionalString('unit');
  if (unit && unit.trim() !== '') record.unit = unit.trim();
  const error = r.raw('error');
  if (error !== undefined && error !== null && error !== '') {
    const values = (typeof error === 'number' ? [String(error)] : typeof error === 'string' ? error.split(',') : []).map((e) => Number(e.trim()));
    if (values.length === 0 || values.some((v) => !Number.isFinite(v) || v < 0)) throw new InputError(`field "error" must be a non-negative number or a comma-separated list of them, got ${JSON.stringify(error)}`, where);
    record.errors = values;
  }
  const subject = r.optionalString('subject');
  if (subject) record.subject = subject;
  return record;
}

/**
 * A plain number (`-3.2`, `1.5e-3`, `3.2 \times 10^{5}`, `\frac{1}{4}`), or undefined. Used for the
 * stated-tolerance check, which must be absolute whatever the grader does with decimals.
 */
export function plainNumber(text: string): number | undefined {
  const t = text.replace(/\s+|\\[,;!]/g, '').replace(/\\left|\\right/g, '');
  const number = '[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?';
  if (new RegExp(`^${number}$`).test(t)) return Number(t);
  const scientific = new RegExp(`^(${number})(?:\\\\times|\\\\cdot|\\*)10\\^\\{?([+-]?\\d+)\\}?$`).exec(t);
  if (scientific) return Number(scientific[1]) * 10 ** Number(scientific[2]);
  const fraction = new RegExp(`^([+-]?)\\\\d?frac\\{(${number})\\}\\{(${number})\\}$`).exec(t);
  if (fraction) return (fraction[1] === '-' ? -1 : 1) * (Number(fraction[2]) / Number(fraction[3]));
  return undefined;
}

function statedError(record: OlympiadRecord, index: number): number | undefined {
  return record.errors?.[record.errors.length === 1 ? 0 : index];
}

/** Equality of one reference answer and one prediction, with the record's tolerance when it states one. */
function answerEqual(gold: string, predicted: string, error: number | undefined): { correct: boolean; reason: string } {
  if (error !== undefined) {
    // The authors' numerical_equal: |gold − prediction| ≤ 1.01 · error, absolute.
    const a = plainNumber(gold);
    const b = plainNumber(predicted);
    if (a !== undefined && b !== undefined) return { correct: Math.abs(a - b) <= error * 1.01, reason: 'numeric-tolerance' };
  }
  const options: EquivalenceOptions = {};
  return isEquivalent(gold, predicted, options);
}

export function gradeOlympiad(record: OlympiadRecord, responseText: string): BenchmarkGrade {
  const extraction = extractAnswer(responseText, { mode: 'answer' });
  if (extraction.answer === null) return { correct: false, extracted: '', reason: 'no-answer' };
  const predicted = cleanAnswer(extraction.answer);
  const pieces = record.answers.length > 1 || record.isMultipleAnswer ? splitTopLevel(predicted) : [predicted];
  const predictions = pieces.map((p) => stripUnit(p, record.unit));
  if (predictions.length !== record.answers.length) {
    return { correct: false, extracted: predicted, reason: 'answer-count', detail: { expected: record.answers.length, got: predictions.length } };
  }
  // Pair every reference with a distinct equal prediction, in any order (the authors' judge).
  const unused = predictions.map((_, i) => i);
  const reasons: string[] = [];
  for (const [index, gold] of record.answers.entries()) {
    const goldText = stripUnit(gold, record.unit);
    const match = unused.findIndex((i) => {
      const verdict = answerEqual(goldText, predictions[i] as string, statedError(record, index));
      if (verdict.correct) reasons.push(verdict.reason);
      return verdict.correct;
    });
    if (match < 0) return { correct: false, extracted: predicted, reason: 'mismatch', detail: { unmatchedAnswer: index } };
    unused.splice(match, 1);
  }
  return { correct: true, extracted: predicted, reason: reasons.length === 1 ? (reasons[0] as string) : 'all-answers' };
}

export function olympiadItem(record: OlympiadRecord): BenchmarkItem {
  const groups: Record<string, string> = { answer_type: record.answerType, multiple: String(record.isMultipleAnswer) };
  if (record.subject) groups['subject'] = record.subject;
  return {
    id: record.id,
    groups,
    reference: record.answers.join(', ') + (record.unit ? ` (${record.unit})` : ''),
    prompt: (mode) => instructedQuestion(record.problem, mode),
    grade: async (responseText) => gradeOlympiad(record, responseText),
  };
}

export async function loadOlympiad(path: string): Promise<OlympiadRecord[]> {
  return (await readJsonl(path)).map(({ line, value }) => parseOlympiadRecord(value, `${path}:${line}`));
}

export const olympiadbench: BenchmarkSpec = {
  name: 'olympiadbench',
  description: 'OlympiadBench OE_TO_maths_en_COMP (675): answer types, units, all final answers must match, stated tolerance; answers read in the grader\'s `answer` extraction mode',
  defaultFile: 'olympiadbench.jsonl',
  needsExecutor: false,
  load: async (path) => (await loadOlympiad(path)).map(olympiadItem),
  caveats: () => [],
};
