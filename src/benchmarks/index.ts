/**
 * Public surface of the benchmarks: the registry the evaluation harness uses (`getBenchmark`,
 * `resolveBenchmark`) and the per-benchmark functions for direct use.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { gpqa } from './gpqa.js';
import { livecodebench, type LiveCodeBenchOptions } from './livecodebench.js';
import { minerva } from './minerva.js';
import { olympiadbench } from './olympiadbench.js';
import type { BenchmarkSpec } from './types.js';

export type { BenchmarkGrade, BenchmarkItem, BenchmarkSpec, GradeContext, PromptMode } from './types.js';
export { PROMPT_MODES } from './types.js';
export { gradeMinerva, loadMinerva, minerva, minervaGolds, type MinervaRecord } from './minerva.js';
export { gradeOlympiad, loadOlympiad, olympiadbench, splitTopLevel, stripUnit, type OlympiadRecord } from './olympiadbench.js';
export { extractChoice, gpqa, gpqaPrompt, gradeGpqa, interpretChoice, loadGpqa, type GpqaRecord } from './gpqa.js';
export {
  filterByContestDate,
  lcbCaveats,
  lcbCodeIntegratedPrompt,
  lcbDirectPrompt,
  lcbItem,
  LCB_SYSTEM_PROMPT,
  livecodebench,
  loadLcbProblems,
  parseLcbRecord,
  PUBLIC_TESTS_ONLY_NOTE,
  type LcbProblem,
  type LcbTest,
  type LiveCodeBenchOptions,
} from './livecodebench.js';
export { DEFAULT_JUDGE_OPTIONS, judgeProgram, type JudgeOptions, type JudgeResult, type TestOutcome, type TestVerdict } from './lcb-judge.js';
export { compareStdout } from './lcb-compare.js';
export { extractFinalCodeBlock, extractFinalProgram } from './lcb-program.js';
export { decodePrivateTests, HubError, loadLcbFromHub, type HubLoadOptions, type LcbRelease } from './lcb-hub.js';
export { readPickledString } from './pickle-string.js';
export { groupedPassAtK, lcbSummary, passAtK, type GroupedPass, type LcbSummary, type PassSummary, type SampleOutcome } from './metrics.js';
export { CIR_INSTRUCTION, DIRECT_INSTRUCTION, mathPrompt } from './math-prompts.js';

export const BENCHMARK_NAMES = ['minerva', 'olympiadbench', 'gpqa', 'livecodebench'] as const;
export type BenchmarkName = (typeof BENCHMARK_NAMES)[number];

export interface BenchmarkSettings {
  livecodebench?: LiveCodeBenchOptions;
}

/** The spec of a named benchmark; an unknown name lists the known ones. */
export function getBenchmark(name: string, settings: BenchmarkSettings = {}): BenchmarkSpec {
  switch (name) {
    case 'minerva':
    case 'minerva_math':
      return minerva;
    case 'olympiadbench':
      return olympiadbench;
    case 'gpqa':
    case 'gpqa_diamond':
      return gpqa;
    case 'livecodebench':
    case 'lcb':
      return livecodebench(settings.livecodebench);
    default:
      throw new InputError(`unknown benchmark; known: ${BENCHMARK_NAMES.join(', ')}`, name);
  }
}

/** Guesses the benchmark of a file from its name (for `--benchmark PATH`). */
export function benchmarkForPath(path: string, settings: BenchmarkSettings = {}): BenchmarkSpec | undefined {
  const base = path.split(/[\\/]/).pop()?.toLowerCase() ?? '';
  if (base.includes('minerva')) return minerva;
  if (base.includes('olympiadbench')) return olympiadbench;
  if (base.includes('gpqa')) return gpqa;
  if (base.includes('livecodebench') || base.startsWith('lcb')) return livecodebench(settings.livecodebench);
  return undefined;
}

/**
 * `NAME` (read from `dataDir`) or `PATH` (a file) → the spec and the file to load. A path whose
 * name does not say which benchmark it is needs `as`.
 */
export function resolveBenchmark(nameOrPath: string, options: { dataDir: string; as?: string; settings?: BenchmarkSettings }): { spec: BenchmarkSpec; path: string } {
  const settings = options.settings ?? {};
  if ((BENCHMARK_NAMES as readonly string[]).includes(nameOrPath) || ['minerva_math', 'gpqa_diamond', 'lcb'].includes(nameOrPath)) {
    const spec = getBenchmark(nameOrPath, settings);
    return { spec, path: join(options.dataDir, spec.defaultFile) };
  }
  if (!existsSync(nameOrPath)) throw new InputError(`no such benchmark name or file; known names: ${BENCHMARK_NAMES.join(', ')}`, nameOrPath);
  const spec = options.as ? getBenchmark(options.as, settings) : benchmarkForPath(nameOrPath, settings);
  if (!spec) throw new InputError(`cannot tell which benchmark this file is; name it (${BENCHMARK_NAMES.join(', ')})`, nameOrPath);
  return { spec, path: nameOrPath };
}
