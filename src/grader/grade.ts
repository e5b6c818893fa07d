/**
 * Grading a whole response (extract, then compare) and the paper's reward functions.
 */
import { isEquivalent, type EquivalenceOptions, type Verdict } from './equivalence.js';
import { extractAnswer, type ExtractionMode, type ExtractOptions, type Extraction } from './extract.js';

export interface GradeOptions extends EquivalenceOptions {
  /** Multiple-choice mode: the gold is a letter; the choice's text is also accepted when `choices` is given. */
  multipleChoice?: boolean;
  /** The options in letter order (A, B, C, ...), for multiple-choice mode. */
  choices?: readonly string[];
  /** Only boxed answers count (the paper's training/validation extraction), the same as `extraction: 'boxed'`. Default false. */
  boxedOnly?: boolean;
  /** How the response's answer is found (extract.ts): `boxed`, `answer` (default) or `free-text`. */
  extraction?: ExtractionMode;
  /**
   * The reference is free text too (a worked MATH-style solution, or an answer with prose, units or
   * currency): its answer is extracted the same way as the response's, in `free-text` mode. Default false.
   */
  goldAsText?: boolean;
  /** Also grade the last number on the last line; correct if either is (the paper's offline evaluation). */
  lenient?: boolean;
}

export interface GradeResult {
  correct: boolean;
  /** Verdict of the comparison that decided (or of the best failed one). */
  verdict: Verdict;
  extraction: Extraction;
  /** Which answer made it correct: the extracted one, or the lenient last number. */
  via: 'answer' | 'last-number' | 'none';
  /** The accepted reference that matched, when one did (as extracted, with `goldAsText`). */
  matchedGold?: string;
  /** With `goldAsText`: what was read from each reference, in order. */
  goldExtractions?: Extraction[];
}

const LETTERS = 'ABCDEFGHIJ';

function goldList(gold: string | readonly string[]): string[] {
  return (typeof gold === 'string' ? [gold] : [...gold]).filter((g) => typeof g === 'string');
}

interface Reference {
  answer: string;
  /** The unit written with a prose number on the reference side, when it was read from free text. */
  unit?: string;
}

function compareWithAny(golds: Reference[], answer: string, options: GradeOptions, unit?: string): { verdict: Verdict; matched?: string } {
  let first: Verdict | undefined;
  for (const { answer: gold, unit: goldUnit } of golds) {
    // Both sides named a unit and they differ: `12 m` is not `12 cm` (no conversion is attempted).
    const verdict: Verdict =
      unit !== undefined && goldUnit !== undefined && unit !== goldUnit ? { correct: false, reason: 'string', detail: `unit ${goldUnit} vs ${unit}` } : isEquivalent(gold, answer, options);
    if (verdict.correct) return { verdict, matched: gold };
    first ??= verdict;
  }
  return { verdict: first ?? { correct: false, reason: 'no-answer', detail: 'no usable reference answer' } };
}

/** Multiple choice: the letter, or the full text of the right choice. */
function compareChoice(gold: string, answer: string, options: GradeOptions): Verdict {
  const letter = isEquivalent(gold, answer, options);
  if (letter.correct) return letter;
  const index = LETTERS.indexOf(gold.trim().replace(/[()]/g, ''));
  const text = options.choices?.[index];
  if (text !== undefined) {
    const verdict = isEquivalent(text.trim(), answer, options);
    if (verdict.correct) return { ...verdict, detail: 'matched the text of the correct choice' };
  }
  return letter;
}

export function gradeResponse(gold: string | readonly string[], responseText: string, options: GradeOptions = {}): GradeResult {
  const multipleChoice = options.multipleChoice ?? false;
  const mode: ExtractionMode = options.boxedOnly ? 'boxed' : (options.extraction ?? 'answer');
  let goldExtractions: Extraction[] | undefined;
  let golds: Reference[] = goldList(gold).map((answer) => ({ answer }));
  if (options.goldAsText) {
    goldExtractions = golds.map(({ answer }) => extractAnswer(answer, { mode: 'free-text' }));
    golds = goldExtractions.flatMap((read) => (read.answer === null ? [] : [read.unit !== undefined ? { answer: read.answer, unit: read.unit } : { answer: read.answer }]));
  }
  const extractOptions: ExtractOptions = { multipleChoice, lastNumber: options.lenient ?? false, mode };
  const extraction = extractAnswer(typeof responseText === 'string' ? responseText : '', extractOptions);
  let verdict: Verdict = { correct: false, reason: 'no-answer', detail: extraction.reason ?? 'no answer extracted' };
  let matched: string | undefined;
  if (extraction.answer !== null) {
    if (multipleChoice) {
      for (const g of golds) {
        verdict = compareChoice(g.answer, extraction.answer, options);
        if (verdict.correct) {
          matched = g.answer;
          break;
        }
      }
    } else {
      const outcome = compareWithAny(golds, extraction.answer, options, extraction.unit);
      verdict = outcome.verdict;
      matched = outcome.matched;
    }
    verdict = { ...verdict, extracted_by: extraction.method };
  }
  const extras = goldExtractions ? { goldExtractions } : {};
  if (verdict.correct) return withMatch({ correct: true, verdict, extraction, via: 'answer', ...extras }, matched);
  if (options.lenient && extraction.lastNumber) {
    const fallback = compareWithAny(golds, extraction.lastNumber, options);
    if (fallback.verdict.correct) return withMatch({ correct: true, verdict: { ...fallback.verdict, extracted_by: 'last-number' }, extraction, via: 'last-number', ...extras }, fallback.matched);
  }
  return { correct: false, verdict, extraction, via: extraction.answer === null ? 'none' : 'answer', ...extras };
}

function withMatch(result: GradeResult, matched: string | undefined): GradeResult {
  if (matched !== undefined) result.matchedGold = matched;
  return result;
}

export interface RewardOptions extends EquivalenceOptions {
  /**
   * Format-aware variant: +1 correct, -0.5 boxed but wrong, -1 no box. The paper's run keeps
   * format reward off (`formatAware: false`, the default): +1 / -1.
   */
  formatAware?: boolean;
}

/** The paper's training reward (§7.1): +1 when the last box equals the reference, else -1 (also without a box). */
export function trainingReward(responseText: string, gold: string | readonly string[], options: RewardOptions = {}): number {
  const text = typeof responseText === 'string' ? responseText : '';
  const result = gradeResponse(gold, text, { ...options, boxedOnly: true });
  if (result.correct && text.includes('boxed')) return 1;
  if (options.formatAware && result.extraction.answer !== null) return -0.5;
  return -1;
}

/** The paper's in-training validation reward (§7.2): 1 when correct, else 0. */
export function validationReward(responseText: string, gold: string | readonly string[], options: EquivalenceOptions = {}): number {
  const text = typeof responseText === 'string' ? responseText : '';
  return gradeResponse(gold, text, { ...options, boxedOnly: true }).correct && text.includes('boxed') ? 1 : 0;
}
