/**
 * The grader benchmark: a mix of comparisons built from the evaluation datasets, timed per
 * comparison. Each reference is compared with a respelled correct answer and a perturbed wrong one,
 * as bare answers and inside generated free-text responses of up to about 4,000 characters (so the
 * timing includes extraction); the labelled suites join the mix when their files are present.
 * Held-out cases from other graders' test suites (a JSONL file the user points at) are graded
 * the same way and their agreement is reported; nothing here was tuned against them. With a
 * Math-Verify checkout, the answer cases also run through Math-Verify in Python as the anchor.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { InputError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { isEquivalent, type VerdictReason } from './equivalence.js';
import { gradeResponse } from './grade.js';

/**
 * One comparison of the mix. `answer`: two final answers (isEquivalent). `response`: the predicted
 * side is a whole response, read in free-text mode. `free-text`: both sides are free text.
 */
export interface BenchCase {
  kind: 'answer' | 'response' | 'free-text';
  gold: string;
  predicted: string;
  /** The label: the respelling is correct, the perturbation is not (or the labelled suite's label). */
  expected: boolean;
}

export const BENCH_DATASETS = ['aime24', 'aime25', 'amc23', 'math500', 'minerva_math', 'olympiadbench', 'olymmath_en_easy', 'olymmath_en_hard'];

/** A correct respelling a model might write for this reference. */
function respell(answer: string, index: number): string {
  const trimmed = answer.trim();
  if (/^-?\d+$/.test(trimmed)) return [`${trimmed}.0`, `x = ${trimmed}`, `0${trimmed}`, `\\text{${trimmed}}`][index % 4] as string;
  const fraction = /^(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}$/.exec(trimmed);
  if (fraction) return `${fraction[1] ?? ''}${fraction[2] ?? ''}/${fraction[3] ?? ''}`;
  const scientific = /^(-?\d+(?:\.\d+)?)e([-+]?\d+)$/.exec(trimmed);
  if (scientific) return `${scientific[1] ?? ''} \\times 10^{${scientific[2] ?? ''}}`;
  if (trimmed.includes('\\frac')) return trimmed.replace(/\\frac/g, '\\dfrac').replace(/\s+/g, ' ');
  return ` ${trimmed.replace(/([+=])/g, ' $1 ').replace(/,(?![\d\\])/g, ', ').replace(/\s+/g, ' ')} `;
}

/** A plausible wrong answer: the first digit changed (units and bases come last), or a sign flipped. */
function perturb(answer: string): string {
  const trimmed = answer.trim();
  const match = /\d/.exec(trimmed);
  if (match && match.index !== undefined) {
    const digit = Number(match[0]);
    return `${trimmed.slice(0, match.index)}${(digit + 1) % 10}${trimmed.slice(match.index + 1)}`;
  }
  return `-(${trimmed})`;
}

const FILLER = [
  'We set up the problem carefully and name the unknown quantity.',
  'Substituting $x = 3$ into the first equation gives $2x + 1 = 7$, which checks out.',
  'Let me verify this with a short computation.\n```python\nprint(sum(range(1, 11)))\n```\n```output\n55\n```',
  'By the triangle inequality the side lengths 4, 7 and 10 are possible.',
  'Hence the intermediate value is $\\frac{12}{5}$, and we continue from there.',
  'Counting the cases one by one: 1, 2, 3, then 17 more.',
];

/**
 * A free-text response of about `length` characters (distractor numbers and math included) that
 * ends by stating `answer` in one of the usual ways.
 */
function responseAround(answer: string, length: number, rng: Rng): string {
  const parts: string[] = [];
  let size = 0;
  while (size < length) {
    const sentence = rng.pick(FILLER);
    parts.push(sentence);
    size += sentence.length + 1;
  }
  const endings = [`So the final answer is $\\boxed{${answer}}$.`, `Therefore, the answer is $${answer}$.`, `Answer: $${answer}$`, `Thus\n\\[ ${answer} \\]`];
  return `${parts.join(' ')}\n${rng.pick(endings)}`;
}

export interface MixOptions {
  limit?: number;
  /** Longest generated response, in characters (default 4,000). */
  maxResponseChars?: number;
  /** Labelled cases to add to the mix (from the test data files, when present). */
  labelled?: readonly LabelledCase[];
}

/** The mix, generated cases first and the labelled ones last; `labelled` counts those kept after `limit`. */
export function buildBenchMix(datasetsDir: string, options: MixOptions = {}): { cases: BenchCase[]; labelled: number } {
  const maxChars = options.maxResponseChars ?? 4000;
  const rng = new Rng(2025);
  const cases: BenchCase[] = [];
  for (const name of BENCH_DATASETS) {
    const path = join(datasetsDir, `${name}.jsonl`);
    if (!existsSync(path)) throw new InputError(`dataset file not found (expected the shared datasets beside the repository)`, path);
    const lines = readFileSync(path, 'utf8').split('\n').filter((line) => line.trim() !== '');
    lines.forEach((line, index) => {
      const answer = (JSON.parse(line) as { answer?: unknown }).answer;
      if (typeof answer !== 'string') throw new InputError(`line ${index + 1} has no string "answer"`, path);
      const right = respell(answer, index);
      const wrong = perturb(answer);
      cases.push({ kind: 'answer', gold: answer, predicted: right, expected: true });
      cases.push({ kind: 'answer', gold: answer, predicted: wrong, expected: false });
      // Responses of every length up to the maximum, ending with the answer stated in one of four ways.
      const length = Math.floor(rng.next() * (maxChars - 200));
      cases.push({ kind: 'response', gold: answer, predicted: responseAround(right.trim(), length, rng), expected: true });
      cases.push({ kind: 'response', gold: answer, predicted: responseAround(wrong, length, rng), expected: false });
    });
  }
  const generated = cases.length;
  for (const c of options.labelled ?? []) cases.push({ kind: c.freeText ? 'free-text' : 'answer', gold: c.gold, predicted: c.predicted, expected: c.expected });
  const kept = cases.slice(0, options.limit ?? Infinity);
  return { cases: kept, labelled: Math.max(0, kept.length - generated) };
}

/** One comparison of the mix, the way the product makes it. */
export function judgeCase(c: Pick<BenchCase, 'kind' | 'gold' | 'predicted'>): { correct: boolean; reason: VerdictReason } {
  if (c.kind === 'answer') return isEquivalent(c.gold, c.predicted);
  const result = gradeResponse(c.gold, c.predicted, { extraction: 'free-text', goldAsText: c.kind === 'free-text' });
  return { correct: result.correct, reason: result.verdict.reason };
}

export interface LabelledCase {
  section: string;
  gold: string;
  predicted: string;
  expected: boolean;
  /** Both sides are free text (graded with extraction on both sides). */
  freeText: boolean;
}

/**
 * Reads a labelled-case file: `Y gold ≡ predicted` or `N gold ≡ predicted` per line, `# name` starts
 * a section, `## ` lines are comments; `⏎` in a case stands for a line break. Files whose name
 * contains `free-text` hold cases where both sides are free text.
 */
export function parseLabelledCases(text: string, path: string): LabelledCase[] {
  const freeText = path.includes('free-text');
  const cases: LabelledCase[] = [];
  let section = 'unsectioned';
  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('## ')) return;
    if (line.startsWith('# ')) {
      section = line.slice(2).trim();
      return;
    }
    const match = /^([YN]) (.*) ≡ (.*)$/.exec(line);
    if (!match) throw new InputError(`line ${index + 1} is not "Y gold ≡ predicted" or "N gold ≡ predicted": ${JSON.stringify(line.slice(0, 80))}`, path);
    const unescape = (side: string): string => side.replace(/⏎/g, '\n');
    cases.push({ section, gold: unescape(match[2] ?? ''), predicted: unescape(match[3] ?? ''), expected: match[1] === 'Y', freeText });
  });
  return cases;
}

/** The labelled suites kept as test data in a checkout (not in the package). */
export const LABELLED_FILES = ['src/grader/testing/labelled-cases.txt', 'src/grader/testing/free-text-cases.txt'];

/** Reads the labelled files that exist under `root`; lists the ones that do not. */
export function loadLabelledCases(paths: readonly string[]): { cases: LabelledCase[]; absent: string[] } {
  const cases: LabelledCase[] = [];
  const absent: string[] = [];
  for (const path of paths) {
    if (!existsSync(path)) absent.push(path);
    else cases.push(...parseLabelledCases(readFileSync(path, 'utf8'), path));
  }
  return { cases, absent };
}

/** A case from another grader's test suite: gold and prediction as that suite wrote them (both free text). */
export interface HeldOutCase {
  gold: string;
  pred: string;
  expected: boolean;
  source?: string;
}

export function loadHeldOut(path: string): HeldOutCase[] {
  if (!existsSync(path)) throw new InputError('held-out file not found', path);
  const cases: HeldOutCase[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if (line.trim() === '') return;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        throw new InputError(`line ${index + 1} is not valid JSON`, path);
      }
      const fields = row as Record<string, unknown>;
      if (typeof fields['gold'] !== 'string' || typeof fields['pred'] !== 'string' || typeof fields['expected'] !== 'boolean') {
        throw new InputError(`line ${index + 1} needs string "gold", string "pred" and boolean "expected"`, path);
      }
      const entry: HeldOutCase = { gold: fields['gold'], pred: fields['pred'], expected: fields['expected'] };
      if (typeof fields['source'] === 'string') entry.source = fields['source'];
      cases.push(entry);
    });
  return cases;
}

export interface HeldOutReport {
  file: string;
  cases: number;
  /** Share of the held-out labels this grader reproduces (both sides read as free text). */
  agreement: number;
  positives_accepted: number;
  negatives_rejected: number;
  by_source: Record<string, { cases: number; agreement: number }>;
}

/** Grades held-out cases as `cir grade --jsonl --extract` would; measured, never asserted by tests. */
export function measureHeldOut(cases: readonly HeldOutCase[], file: string): HeldOutReport & { misses: { gold: string; pred: string; expected: boolean }[] } {
  const bySource: Record<string, { cases: number; agreed: number }> = {};
  const misses: { gold: string; pred: string; expected: boolean }[] = [];
  let agreed = 0;
  let positives = 0;
  let positivesAccepted = 0;
  let negativesRejected = 0;
  for (const c of cases) {
    const correct = judgeCase({ kind: 'free-text', gold: c.gold, predicted: c.pred }).correct;
    const key = (c.source ?? 'unnamed').replace(/::.*$/, '');
    const entry = (bySource[key] ??= { cases: 0, agreed: 0 });
    entry.cases += 1;
    if (c.expected) positives += 1;
    if (correct === c.expected) {
      agreed += 1;
      entry.agreed += 1;
      if (c.expected) positivesAccepted += 1;
      else negativesRejected += 1;
    } else misses.push({ gold: c.gold, pred: c.pred, expected: c.expected });
  }
  return {
    file,
    cases: cases.length,
    agreement: round(agreed / Math.max(1, cases.length)),
    positives_accepted: round(positivesAccepted / Math.max(1, positives)),
    negatives_rejected: round(negativesRejected / Math.max(1, cases.length - positives)),
    by_source: Object.fromEntries(Object.entries(bySource).map(([key, value]) => [key, { cases: value.cases, agreement: round(value.agreed / value.cases) }])),
    misses,
  };
}

export interface KindReport {
  comparisons: number;
  p50_ms: number;
  p99_ms: number;
  /** p99 over cases of each case's fastest pass: the grader's own cost, less the stalls of a shared machine. */
  p99_best_of_passes_ms: number;
  /** Longest predicted text of this kind, in characters. */
  max_chars: number;
}

export interface GraderBenchReport {
  comparisons: number;
  per_s: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** p99 over cases of each case's fastest pass (see KindReport). */
  p99_best_of_passes_ms: number;
  by_kind: Partial<Record<BenchCase['kind'], KindReport>>;
  /**
   * Share of the generated mix's labels (respellings and perturbations of dataset answers) that the
   * grader reproduces. The test suite requires these respellings to pass, so this is a regression
   * check of the bench itself, not a measurement of accuracy.
   */
  generated_self_check: number;
  /** Share of the labelled suites' labels reproduced (written with this grader; the tests require all). */
  labelled_self_check: number | null;
  reasons: Partial<Record<VerdictReason, number>>;
}

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] as number;
}

const round = (value: number, digits = 4): number => Number(value.toFixed(digits));

/**
 * One warm-up pass, then `passes` timed passes. per_s is the median pass (the machine is shared,
 * so a single pass can absorb another process's burst); latencies pool every pass.
 */
export function benchGrader(cases: BenchCase[], passes = 3, onProgress?: (done: number) => void, labelledCount = 0): GraderBenchReport & { verdicts: boolean[]; passes_per_s: number[] } {
  for (const c of cases) judgeCase(c);
  const latencies: number[] = [];
  const byKind = new Map<BenchCase['kind'], { latencies: number[]; maxChars: number }>();
  const fastest = new Array<number>(cases.length).fill(Infinity);
  const verdicts: boolean[] = [];
  const reasons: Partial<Record<VerdictReason, number>> = {};
  const passRates: number[] = [];
  const generated = cases.length - labelledCount;
  let generatedAgreed = 0;
  let labelledAgreed = 0;
  for (let pass = 0; pass < passes; pass += 1) {
    const started = performance.now();
    cases.forEach((c, index) => {
      const t0 = performance.now();
      const verdict = judgeCase(c);
      const elapsed = performance.now() - t0;
      latencies.push(elapsed);
      fastest[index] = Math.min(fastest[index] as number, elapsed);
      const kind = byKind.get(c.kind) ?? { latencies: [], maxChars: 0 };
      kind.latencies.push(elapsed);
      kind.maxChars = Math.max(kind.maxChars, c.predicted.length);
      byKind.set(c.kind, kind);
      if (pass === 0) {
        verdicts.push(verdict.correct);
        reasons[verdict.reason] = (reasons[verdict.reason] ?? 0) + 1;
        if (verdict.correct === c.expected) {
          if (index < generated) generatedAgreed += 1;
          else labelledAgreed += 1;
        }
      }
      if (onProgress && index % 200 === 0) onProgress(pass * cases.length + index);
    });
    passRates.push(cases.length / ((performance.now() - started) / 1000));
  }
  const sortedRates = [...passRates].sort((a, b) => a - b);
  latencies.sort((a, b) => a - b);
  const kinds: Partial<Record<BenchCase['kind'], KindReport>> = {};
  const bestOf = (kind?: BenchCase['kind']): number =>
    round(percentile(fastest.filter((_, index) => kind === undefined || cases[index]?.kind === kind).sort((x, y) => x - y), 0.99));
  for (const [kind, entry] of byKind) {
    entry.latencies.sort((x, y) => x - y);
    kinds[kind] = {
      comparisons: entry.latencies.length / passes,
      p50_ms: round(percentile(entry.latencies, 0.5)),
      p99_ms: round(percentile(entry.latencies, 0.99)),
      p99_best_of_passes_ms: bestOf(kind),
      max_chars: entry.maxChars,
    };
  }
  return {
    comparisons: cases.length,
    passes_per_s: passRates.map((rate) => Math.round(rate)),
    per_s: Math.round(sortedRates[Math.floor(sortedRates.length / 2)] ?? 0),
    p50_ms: round(percentile(latencies, 0.5)),
    p99_ms: round(percentile(latencies, 0.99)),
    max_ms: round(latencies[latencies.length - 1] ?? 0),
    p99_best_of_passes_ms: bestOf(),
    by_kind: kinds,
    generated_self_check: round(generatedAgreed / Math.max(1, generated)),
    labelled_self_check: labelledCount > 0 ? round(labelledAgreed / labelledCount) : null,
    reasons,
    verdicts,
  };
}

/** Runs in Math-Verify's own Python; reads {"gold","pred"} lines, prints one JSON summary. */
const ANCHOR_SCRIPT = `
import json, sys, time
from math_verify import parse, verify
rows = [json.loads(line) for line in sys.stdin if line.strip()]
for row in rows[:20]:
    verify(parse("$" + row["gold"] + "$"), parse("$" + row["pred"] + "$"))
results, latencies = [], []
start = time.perf_counter()
for row in rows:
    t0 = time.perf_counter()
    try:
        ok = bool(verify(parse("$" + row["gold"] + "$"), parse("$" + row["pred"] + "$")))
    except Exception:
        ok = False
    latencies.append((time.perf_counter() - t0) * 1000)
    results.append(ok)
total = time.perf_counter() - start
print(json.dumps({"results": results, "latencies_ms": latencies, "total_s": total}))
`;

export interface AnchorReport {
  /** Comparisons sent to Math-Verify: the mix's bare-answer cases (its `parse` reads responses differently). */
  anchor_comparisons: number;
  anchor_per_s: number;
  anchor_p50_ms: number;
  anchor_p99_ms: number;
  /** Our median rate on the whole mix divided by Math-Verify's on the answer cases, in the same run. */
  speedup: number;
  /** Share of the answer cases where Math-Verify and this grader give the same verdict. */
  agreement: number;
  /** Share of the answer cases' labels Math-Verify reproduces. */
  anchor_label_accuracy: number;
}

function runPython(python: string, mathVerifyPath: string, input: string): Promise<{ results: boolean[]; latencies_ms: number[]; total_s: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-c', ANCHOR_SCRIPT], {
      env: { ...process.env, PYTHONPATH: mathVerifyPath },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => reject(new InputError(`cannot start ${python}: ${error.message}`, '--python')));
    child.on('close', (status) => {
      if (status !== 0) {
        reject(new InputError(`Math-Verify did not run (exit ${String(status)}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`, mathVerifyPath));
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as { results: boolean[]; latencies_ms: number[]; total_s: number });
      } catch {
        reject(new InputError(`Math-Verify printed no JSON summary: ${stdout.slice(0, 200)}`, mathVerifyPath));
      }
    });
    child.stdin.end(input);
  });
}

export async function benchMathVerify(cases: BenchCase[], ours: GraderBenchReport & { verdicts: boolean[] }, mathVerifyPath: string, python = 'python3'): Promise<AnchorReport> {
  if (!existsSync(join(mathVerifyPath, 'math_verify'))) {
    throw new InputError('no math_verify package in this directory (expected DIR/math_verify, DIR/latex2sympy2_extended, DIR/antlr4)', mathVerifyPath);
  }
  const indices = cases.flatMap((c, index) => (c.kind === 'answer' ? [index] : []));
  const input = indices.map((index) => JSON.stringify({ gold: cases[index]?.gold, pred: cases[index]?.predicted })).join('\n');
  const anchor = await runPython(python, mathVerifyPath, input);
  const latencies = [...anchor.latencies_ms].sort((a, b) => a - b);
  const seconds = anchor.latencies_ms.reduce((sum, value) => sum + value, 0) / 1000;
  const anchorPerSecond = indices.length / Math.max(seconds, 1e-9);
  const agree = anchor.results.filter((result, k) => result === ours.verdicts[indices[k] as number]).length;
  const labelled = anchor.results.filter((result, k) => result === cases[indices[k] as number]?.expected).length;
  return {
    anchor_comparisons: indices.length,
    anchor_per_s: Math.round(anchorPerSecond),
    anchor_p50_ms: round(percentile(latencies, 0.5)),
    anchor_p99_ms: round(percentile(latencies, 0.99)),
    speedup: round(ours.per_s / anchorPerSecond, 1),
    agreement: round(agree / Math.max(1, indices.length)),
    anchor_label_accuracy: round(labelled / Math.max(1, indices.length)),
  };
}
