/**
 * The benchmarks with their own prompts and grading (src/benchmarks: Minerva, OlympiadBench, GPQA,
 * LiveCodeBench) loaded as datasets: where a spec points (a name or alias from the benchmark registry,
 * `NAME=PATH`, a file named after one, LiveCodeBench from the Hub) and its items as problems. A preset's
 * problems carry their `BenchmarkItem`, so no consumer ever sees a benchmark's record.
 */
import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import {
  BENCHMARK_NAMES,
  benchmarkForPath,
  canonicalBenchmarkName,
  DEFAULT_JUDGE_OPTIONS,
  filterByContestDate,
  getBenchmark,
  lcbItem,
  loadLcbFromHub,
  type BenchmarkItem,
  type BenchmarkSpec,
  type LcbRelease,
} from '../benchmarks/index.js';
import { InputError } from '../core/errors.js';
import type { Benchmark, Problem } from './load.js';

export const PRESET_NAMES = BENCHMARK_NAMES;

export interface PresetOptions {
  /** The tool budget the code-integrated LiveCodeBench prompt states (the rollout engine enforces it). */
  maxToolCalls: number;
  /** LiveCodeBench per-test limits (defaults: LiveCodeBench's 6 s, 2048 MiB). */
  judge?: { timeoutMs?: number; memoryMb?: number };
  /** LiveCodeBench contest-date window, `YYYY-MM-DD` bounds. */
  window?: { start?: string; end?: string };
}

/** Where `livecodebench=hub:RELEASE` downloads from (the Hub copy with hidden tests). */
export interface HubContext {
  cacheDir: string;
  endpoint?: string;
  token?: string;
  fetch?: typeof fetch;
}

const LCB_RELEASES = ['release_v1', 'release_v2', 'release_v3', 'release_v4', 'release_v5', 'release_v6'];

export interface PresetTarget {
  name: string;
  /** A file, or `hub:RELEASE` for LiveCodeBench's complete tests from the Hugging Face Hub. */
  path: string;
  hubRelease?: LcbRelease;
}

/** Where a `--benchmark` value points when it is a preset, or undefined when it is not one. */
export function presetTarget(spec: string, dataDir: string | undefined): PresetTarget | undefined {
  const equals = spec.indexOf('=');
  if (equals > 0) {
    const name = canonicalBenchmarkName(spec.slice(0, equals));
    if (name === undefined) return undefined;
    const path = spec.slice(equals + 1);
    if (name === 'livecodebench' && (path === 'hub' || path.startsWith('hub:'))) {
      const release = path === 'hub' ? 'release_v5' : path.slice(4);
      if (!LCB_RELEASES.includes(release)) throw new InputError(`unknown LiveCodeBench release; known: ${LCB_RELEASES.join(', ')}`, spec);
      return { name, path: `hub:${release}`, hubRelease: release as LcbRelease };
    }
    if (!existsSync(path)) throw new InputError('no such benchmark file', path);
    return { name, path };
  }
  const named = canonicalBenchmarkName(spec);
  if (named !== undefined) {
    if (dataDir === undefined) {
      throw new InputError('a named benchmark needs a data directory: pass --data-dir or set CIR_DATA_DIR (no ../shared/datasets beside the repo)', spec);
    }
    const path = join(dataDir, getBenchmark(named).defaultFile);
    if (!existsSync(path)) throw new InputError(`benchmark file not found: ${path} (or give its path as ${named}=PATH)`, spec);
    return { name: named, path };
  }
  // A JSONL file whose name says which benchmark it is (gpqa_diamond.jsonl from a private folder).
  if (extname(spec).toLowerCase() === '.jsonl' && existsSync(spec)) {
    const found = benchmarkForPath(spec);
    if (found) return { name: found.name, path: spec };
  }
  return undefined;
}

function presetSpec(name: string, options: PresetOptions): BenchmarkSpec {
  return getBenchmark(name, {
    livecodebench: {
      maxToolCalls: options.maxToolCalls,
      judge: { ...DEFAULT_JUDGE_OPTIONS, ...options.judge },
      ...(options.window ? { window: options.window } : {}),
    },
  });
}

/** LiveCodeBench with its hidden tests, from the Hub (cached; a second load makes no request). */
async function loadLcbHubItems(release: LcbRelease, options: PresetOptions, hub: HubContext | undefined): Promise<BenchmarkItem[]> {
  if (!hub) throw new InputError('loading from the Hub needs a cache directory', `hub:${release}`);
  let problems = await loadLcbFromHub({ release, ...hub });
  if (options.window) problems = filterByContestDate(problems, options.window);
  return problems.map((p) => lcbItem(p, { maxToolCalls: options.maxToolCalls, judge: { ...DEFAULT_JUDGE_OPTIONS, ...options.judge } }));
}

/** Loads a preset's items as harness problems; the benchmark is recorded under the preset's name. */
export async function loadPreset(target: PresetTarget, options: PresetOptions, hub?: HubContext): Promise<Benchmark> {
  const spec = presetSpec(target.name, options);
  const items = target.hubRelease ? await loadLcbHubItems(target.hubRelease, options, hub) : await spec.load(target.path);
  if (items.length === 0) throw new InputError('no problems in file (after the date window, if one was given)', target.path);
  const seen = new Set<string>();
  const problems = items.map((item): Problem => {
    if (seen.has(item.id)) throw new InputError(`problem id ${JSON.stringify(item.id)} appears twice`, target.path);
    seen.add(item.id);
    const subject = item.groups['subject'];
    const level = item.groups['difficulty'] ?? item.groups['level'];
    // `problem` stays empty: the text lives only in the item (rendered per sample, never stored for GPQA).
    return {
      id: item.id,
      problem: '',
      answer: item.reference ?? '',
      ...(subject !== undefined ? { subject } : {}),
      ...(level !== undefined ? { level } : {}),
      item,
    };
  });
  const source = target.hubRelease ? `hf:livecodebench/code_generation_lite ${target.hubRelease}` : target.path;
  return { name: spec.name, source, problems, duplicatesMerged: 0, preset: spec };
}
