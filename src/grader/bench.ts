/**
 * The grader benchmark: a realistic mix of comparisons built from the evaluation datasets
 * (each reference against a respelled correct answer and a perturbed wrong one), timed per
 * comparison; and, when a Math-Verify checkout is given, the same cases through Math-Verify in
 * Python as the anchor, with agreement between the two.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { InputError } from '../core/errors.js';
import { isEquivalent, type VerdictReason } from './equivalence.js';
import { labelledCases } from './labelled-cases.js';

export interface BenchCase {
  gold: string;
  predicted: string;
  /** The label: the respelling is correct, the perturbation is not. */
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

export function buildBenchMix(datasetsDir: string, limit = Infinity): BenchCase[] {
  const cases: BenchCase[] = [];
  for (const name of BENCH_DATASETS) {
    const path = join(datasetsDir, `${name}.jsonl`);
    if (!existsSync(path)) throw new InputError(`dataset file not found (expected the shared datasets beside the repository)`, path);
    const lines = readFileSync(path, 'utf8').split('\n').filter((line) => line.trim() !== '');
    lines.forEach((line, index) => {
      const answer = (JSON.parse(line) as { answer?: unknown }).answer;
      if (typeof answer !== 'string') throw new InputError(`line ${index + 1} has no string "answer"`, path);
      cases.push({ gold: answer, predicted: respell(answer, index), expected: true });
      cases.push({ gold: answer, predicted: perturb(answer), expected: false });
    });
  }
  return cases.slice(0, limit);
}

export interface GraderBenchReport {
  comparisons: number;
  per_s: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Share of the mix's labels the grader reproduces. */
  mix_label_accuracy: number;
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
export function benchGrader(cases: BenchCase[], passes = 3, onProgress?: (done: number) => void): GraderBenchReport & { verdicts: boolean[]; passes_per_s: number[] } {
  for (const c of cases) isEquivalent(c.gold, c.predicted);
  const latencies: number[] = [];
  const verdicts: boolean[] = [];
  const reasons: Partial<Record<VerdictReason, number>> = {};
  const passRates: number[] = [];
  let labelled = 0;
  for (let pass = 0; pass < passes; pass += 1) {
    const started = performance.now();
    cases.forEach((c, index) => {
      const t0 = performance.now();
      const verdict = isEquivalent(c.gold, c.predicted);
      latencies.push(performance.now() - t0);
      if (pass === 0) {
        verdicts.push(verdict.correct);
        reasons[verdict.reason] = (reasons[verdict.reason] ?? 0) + 1;
        if (verdict.correct === c.expected) labelled += 1;
      }
      if (onProgress && index % 200 === 0) onProgress(pass * cases.length + index);
    });
    passRates.push(cases.length / ((performance.now() - started) / 1000));
  }
  const sortedRates = [...passRates].sort((a, b) => a - b);
  latencies.sort((a, b) => a - b);
  return {
    comparisons: cases.length,
    passes_per_s: passRates.map((rate) => Math.round(rate)),
    per_s: Math.round(sortedRates[Math.floor(sortedRates.length / 2)] ?? 0),
    p50_ms: round(percentile(latencies, 0.5)),
    p99_ms: round(percentile(latencies, 0.99)),
    max_ms: round(latencies[latencies.length - 1] ?? 0),
    mix_label_accuracy: round(labelled / Math.max(1, cases.length)),
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
  anchor_per_s: number;
  anchor_p50_ms: number;
  anchor_p99_ms: number;
  /** Our per_s divided by Math-Verify's, on the same cases in the same run. */
  speedup: number;
  /** Share of the mix where Math-Verify and this grader give the same verdict. */
  agreement: number;
  anchor_mix_label_accuracy: number;
  /** Both graders on the labelled suite (written for this grader, so read it with that in mind). */
  labelled_accuracy: number;
  anchor_labelled_accuracy: number;
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
  const labelled = labelledCases();
  const all = [...cases, ...labelled.map((c) => ({ gold: c.gold, predicted: c.predicted, expected: c.expected }))];
  const input = all.map((c) => JSON.stringify({ gold: c.gold, pred: c.predicted })).join('\n');
  const anchor = await runPython(python, mathVerifyPath, input);
  const mixResults = anchor.results.slice(0, cases.length);
  const mixLatencies = anchor.latencies_ms.slice(0, cases.length).sort((a, b) => a - b);
  const mixSeconds = anchor.latencies_ms.slice(0, cases.length).reduce((sum, value) => sum + value, 0) / 1000;
  const labelledResults = anchor.results.slice(cases.length);
  const anchorPerSecond = cases.length / mixSeconds;
  const agree = mixResults.filter((result, index) => result === ours.verdicts[index]).length;
  const anchorLabelled = mixResults.filter((result, index) => result === cases[index]?.expected).length;
  const oursOnLabelled = labelled.filter((c) => isEquivalent(c.gold, c.predicted).correct === c.expected).length;
  const anchorOnLabelled = labelledResults.filter((result, index) => result === labelled[index]?.expected).length;
  return {
    anchor_per_s: Math.round(anchorPerSecond),
    anchor_p50_ms: round(percentile(mixLatencies, 0.5)),
    anchor_p99_ms: round(percentile(mixLatencies, 0.99)),
    speedup: round(ours.per_s / anchorPerSecond, 1),
    agreement: round(agree / Math.max(1, cases.length)),
    anchor_mix_label_accuracy: round(anchorLabelled / Math.max(1, cases.length)),
    labelled_accuracy: round(oursOnLabelled / labelled.length),
    anchor_labelled_accuracy: round(anchorOnLabelled / labelled.length),
  };
}
