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

export type { BenchmarkGrade, BenchmarkItem, BenchmarkSpec, GradeContext } from './types.js';
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

export interface BenchmarkSettings {
  livecodebench?: LiveCodeBenchOptions;
}

/**
 * The one registry of benchmarks with their own prompts and grading: adding a benchmark is one entry
 * here. Names, aliases, lookup, guessing from a file name and the harness's preset names derive from it.
 */
interface RegistryEntry {
  name: string;
  /** Other names that select it (`gpqa_diamond`). */
  aliases: readonly string[];
  /** Whether a file's base name (lower case) says it is this benchmark. */
  matchesFile(baseName: string): boolean;
  spec(settings: BenchmarkSettings): BenchmarkSpec;
}

const REGISTRY: readonly RegistryEntry[] = [
  { name: 'minerva', aliases: ['minerva_math'], matchesFile: (base) => base.includes('minerva'), spec: () => minerva },
  { name: 'olympiadbench', aliases: [], matchesFile: (base) => base.includes('olympiadbench'), spec: () => olympiadbench },
  { name: 'gpqa', aliases: ['gpqa_diamond'], matchesFile: (base) => base.includes('gpqa'), spec: () => gpqa },
  {
    name: 'livecodebench',
    aliases: ['lcb'],
    matchesFile: (base) => base.includes('livecodebench') || base.startsWith('lcb'),
    spec: (settings) => livecodebench(settings.livecodebench),
  },
];

export const BENCHMARK_NAMES: readonly string[] = REGISTRY.map((entry) => entry.name);

/** The canonical name a name or alias selects, or undefined when it selects none. */
export function canonicalBenchmarkName(nameOrAlias: string): string | undefined {
  return REGISTRY.find((entry) => entry.name === nameOrAlias || entry.aliases.includes(nameOrAlias))?.name;
}

/** The spec of a named benchmark (or alias); an unknown name lists the known ones. */
export function getBenchmark(name: string, settings: BenchmarkSettings = {}): BenchmarkSpec {
  const entry = REGISTRY.find((candidate) => candidate.name === name || candidate.aliases.includes(name));
  if (!entry) throw new InputError(`unknown benchmark; known: ${BENCHMARK_NAMES.join(', ')}`, name);
  return entry.spec(settings);
}

/** Guesses the benchmark of a file from its name (for `--benchmark PATH`). */
export function benchmarkForPath(path: string, settings: BenchmarkSettings = {}): BenchmarkSpec | undefined {
  const base = path.split(/[\\/]/).pop()?.toLowerCase() ?? '';
  return REGISTRY.find((entry) => entry.matchesFile(base))?.spec(settings);
}

/**
 * `NAME` (read from `dataDir`) or `PATH` (a file) → the spec and the file to load. A path whose
 * name does not say which benchmark it is needs `as`.
 */
export function resolveBenchmark(nameOrPath: string, options: { dataDir: string; as?: string; settings?: BenchmarkSettings }): { spec: BenchmarkSpec; path: string } {
  const settings = options.settings ?? {};
  if (canonicalBenchmarkName(nameOrPath) !== undefined) {
    const spec = getBenchmark(nameOrPath, settings);
    return { spec, path: join(options.dataDir, spec.defaultFile) };
  }
  if (!existsSync(nameOrPath)) throw new InputError(`no such benchmark name or file; known names: ${BENCHMARK_NAMES.join(', ')}`, nameOrPath);
  const spec = options.as ? getBenchmark(options.as, settings) : benchmarkForPath(nameOrPath, settings);
  if (!spec) throw new InputError(`cannot tell which benchmark this file is; name it (${BENCHMARK_NAMES.join(', ')})`, nameOrPath);
  return { spec, path: nameOrPath };
}
