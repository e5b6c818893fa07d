/** `cir grade`: compare answers (or grade whole responses) with the math grader. */
import { createInterface } from 'node:readline';
import { InputError } from '../../core/errors.js';
import { gradeResponse, isEquivalent, type EquivalenceOptions, type Verdict } from '../../grader/index.js';
import { numberFlag, parseCommandLine, UsageError, type Command } from '../command.js';

const help = `Usage: cir grade GOLD PRED [--json] [--response | --extract] [options]
       cir grade --jsonl [options] < pairs.jsonl

Decides whether a predicted final answer equals the reference (LaTeX or plain text) and prints
the verdict with the reason that decided it: numeric, symbolic, structural, string, choice,
no-answer, parse-error, timeout or undecided. Exit status 0 when correct, 1 when not.
Answers that start with '-' go after '--': cir grade -- -5 '-\frac{10}{2}'

With --jsonl, reads one {"gold": ..., "pred": ...} object per line from stdin ("gold" may be a
list of accepted answers; with "response" instead of "pred" the whole response is graded:
extraction, then comparison) and writes one JSON line per input, in order:
{"line":N,"correct":true|false,"reason":...}. A malformed line gets {"line":N,"error":...}
and reading goes on.

With --extract, GOLD and PRED (or "gold" and "pred") are both free text, as a model or a MATH-style
solution writes them: each side's answer is extracted (the last \\boxed{}, then an "answer is" /
"Answer:" statement, then the last math span, then the whole text if it is a bare answer, then the
last number, with thousands separators, decimal commas, currency and units read) and the two are
compared; the verdict's "extracted_by" names the step that found the predicted answer. Without
--extract, "pred" is a final answer and "response" a response read in the usual way.

Options:
  --response             PRED is a whole model response: extract its final answer first
  --extract              both sides are free text: extract an answer from each, then compare
  --lenient              with --response: also accept the last number on the last line
  --multiple-choice      with --response: the gold is a letter (A-J)
  --tolerance R          relative tolerance for answers with decimals (default 1e-7)
  --time-budget-ms N     wall-clock budget per comparison (default 500)
  --jsonl                batch mode, stdin to stdout
  --json                 print the verdict as JSON
`;

interface Flags {
  equivalence: EquivalenceOptions;
  lenient: boolean;
  multipleChoice: boolean;
  extract: boolean;
}

type Judgement = Verdict & { extracted?: string | null; gold_extracted?: (string | null)[]; via?: string };

function judge(gold: string | string[], text: string, asResponse: boolean, flags: Flags): Judgement {
  if (flags.extract) {
    const result = gradeResponse(gold, text, {
      ...flags.equivalence,
      lenient: flags.lenient,
      multipleChoice: flags.multipleChoice,
      extraction: 'free-text',
      goldAsText: true,
    });
    return { ...result.verdict, correct: result.correct, extracted: result.extraction.answer, gold_extracted: (result.goldExtractions ?? []).map((read) => read.answer), via: result.via };
  }
  if (!asResponse) {
    const golds = typeof gold === 'string' ? [gold] : gold;
    let first: Verdict | undefined;
    for (const g of golds) {
      const verdict = isEquivalent(g, text, flags.equivalence);
      if (verdict.correct) return verdict;
      first ??= verdict;
    }
    return first ?? { correct: false, reason: 'no-answer', detail: 'no reference answer given' };
  }
  const result = gradeResponse(gold, text, { ...flags.equivalence, lenient: flags.lenient, multipleChoice: flags.multipleChoice });
  return { ...result.verdict, correct: result.correct, extracted: result.extraction.answer, via: result.via };
}

function parseRecord(line: string): { gold: string | string[]; text: string; asResponse: boolean } {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    throw new Error('not valid JSON');
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new Error('expected a JSON object with "gold" and "pred"');
  const fields = record as Record<string, unknown>;
  const gold = fields['gold'];
  const goldOk = typeof gold === 'string' || (Array.isArray(gold) && gold.length > 0 && gold.every((g) => typeof g === 'string'));
  if (!goldOk) throw new Error('"gold" must be a string or a non-empty list of strings');
  const pred = fields['pred'];
  const response = fields['response'];
  if (typeof pred === 'string') return { gold: gold as string | string[], text: pred, asResponse: false };
  if (typeof response === 'string') return { gold: gold as string | string[], text: response, asResponse: true };
  throw new Error('"pred" (or "response") must be a string');
}

async function runJsonl(flags: Flags): Promise<number> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber += 1;
    if (line.trim() === '') continue;
    let output: Record<string, unknown>;
    try {
      const { gold, text, asResponse } = parseRecord(line);
      output = { line: lineNumber, ...judge(gold, text, asResponse, flags) };
    } catch (error) {
      output = { line: lineNumber, error: `line ${lineNumber}: ${error instanceof Error ? error.message : String(error)}` };
    }
    process.stdout.write(`${JSON.stringify(output)}\n`);
  }
  return 0;
}

export const gradeCommand: Command = {
  name: 'grade',
  summary: 'judge a predicted math answer against the reference (or a JSONL batch)',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, {
      json: { type: 'boolean' },
      jsonl: { type: 'boolean' },
      response: { type: 'boolean' },
      lenient: { type: 'boolean' },
      'multiple-choice': { type: 'boolean' },
      extract: { type: 'boolean' },
      tolerance: { type: 'string' },
      'time-budget-ms': { type: 'string' },
    });
    const flags: Flags = {
      equivalence: {
        relativeTolerance: numberFlag(values.tolerance, 'tolerance', 1e-7, 0, 1),
        timeBudgetMs: numberFlag(values['time-budget-ms'], 'time-budget-ms', 500, 1, 60_000),
      },
      lenient: Boolean(values.lenient),
      multipleChoice: Boolean(values['multiple-choice']),
      extract: Boolean(values.extract),
    };
    if (flags.extract && values.response) throw new UsageError('--extract already reads PRED as free text; drop --response');
    if (values.jsonl) {
      if (positionals.length > 0) throw new UsageError('--jsonl reads pairs from stdin; give no GOLD PRED arguments');
      return runJsonl(flags);
    }
    if (positionals.length !== 2) throw new UsageError(`expected GOLD and PRED, got ${positionals.length} argument(s)`);
    const [gold, pred] = positionals as [string, string];
    if (gold.trim() === '') throw new InputError('the reference answer is empty', 'GOLD');
    const verdict = judge(gold, pred, Boolean(values.response), flags);
    if (values.json) process.stdout.write(`${JSON.stringify(verdict)}\n`);
    else {
      const read = verdict.extracted_by !== undefined ? `; read ${JSON.stringify(verdict.extracted ?? '')} by ${verdict.extracted_by}` : '';
      process.stdout.write(`${verdict.correct ? 'correct' : 'incorrect'} (${verdict.reason}${verdict.detail ? `: ${verdict.detail}` : ''}${read})\n`);
    }
    return verdict.correct ? 0 : 1;
  },
};
