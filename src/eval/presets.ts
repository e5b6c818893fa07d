/**
 * The benchmarks with their own prompts and grading (src/benchmarks: Minerva, OlympiadBench, GPQA,
 * LiveCodeBench) as named presets of the harness. A preset's problems carry their `BenchmarkItem`:
 * the runner renders the item's prompt and the grader calls the item's `grade`, so the harness never
 * sees a record (and GPQA's text stays in the item's closure). Also the redaction of prompt segments
 * for benchmarks whose text must not be written out.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import {
  BENCHMARK_NAMES,
  benchmarkForPath,
  DEFAULT_JUDGE_OPTIONS,
  filterByContestDate,
  getBenchmark,
  lcbItem,
  loadLcbFromHub,
  type LcbRelease,
  type BenchmarkGrade,
  type BenchmarkItem,
  type BenchmarkSpec,
  type PromptMode,
} from '../benchmarks/index.js';
import { CirError, InputError } from '../core/errors.js';
import type { CodeExecutor } from '../core/execution.js';
import type { Segment, Trajectory } from '../core/trajectory.js';
import type { Benchmark, Problem } from './benchmarks.js';
import type { EvalMode, EvalSettings, PresetSettings, PromptFormat, RenderedPrompt } from './protocol.js';
import { renderMessages } from './protocol.js';
import type { StoredVerdict } from './run-store.js';

/** Names (and aliases) that select a preset; `NAME=PATH` loads a preset from a file of any name. */
const PRESET_ALIASES: Readonly<Record<string, string>> = {
  minerva: 'minerva',
  minerva_math: 'minerva',
  olympiadbench: 'olympiadbench',
  gpqa: 'gpqa',
  gpqa_diamond: 'gpqa',
  livecodebench: 'livecodebench',
  lcb: 'livecodebench',
};

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
    const name = PRESET_ALIASES[spec.slice(0, equals)];
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
  const named = PRESET_ALIASES[spec];
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

export function promptMode(mode: EvalMode): PromptMode {
  return mode === 'code' ? 'code-integrated' : 'direct';
}

/** What a preset ran with, for config.json: written once, compared on --resume. */
export function presetSettings(
  benchmark: Benchmark,
  settings: Pick<EvalSettings, 'mode' | 'problemLimit'>,
  options: PresetOptions & { storeConfidentialText: boolean; gradeAttempts: number },
): PresetSettings | undefined {
  const spec = benchmark.preset;
  if (!spec) return undefined;
  const problems = settings.problemLimit === null ? benchmark.problems : benchmark.problems.slice(0, settings.problemLimit);
  const items = problems.flatMap((p) => (p.item ? [p.item] : []));
  const confidential = spec.confidentialText === true;
  const preset: PresetSettings = {
    benchmark: spec.name,
    description: spec.description,
    promptMode: promptMode(settings.mode),
    systemPrompt: items.some((item) => item.system !== undefined),
    confidential,
    storeConfidentialText: confidential && options.storeConfidentialText,
    gradeAttempts: options.gradeAttempts,
    caveats: spec.caveats(items),
  };
  if (spec.needsExecutor) {
    preset.judge = { timeoutMs: options.judge?.timeoutMs ?? DEFAULT_JUDGE_OPTIONS.timeoutMs, memoryMb: options.judge?.memoryMb ?? DEFAULT_JUDGE_OPTIONS.memoryMb };
    if (options.window) preset.window = options.window;
  }
  return preset;
}

/** The item's prompt in the run's mode and format. */
export function renderItemPrompt(item: BenchmarkItem, mode: EvalMode, format: PromptFormat): RenderedPrompt {
  const pm = promptMode(mode);
  return renderMessages(item.system?.(pm), item.prompt(pm), format);
}

/** A benchmark grade as stored in results.jsonl (`verdict`). */
export function storedGrade(grade: BenchmarkGrade): StoredVerdict {
  return {
    correct: grade.correct,
    reason: grade.reason,
    extracted: grade.extracted === '' ? null : grade.extracted,
    ...(grade.detail !== undefined ? { detail: grade.detail } : {}),
  };
}

/** The sandbox failed while grading, every attempt: the sample is not counted; --resume grades it again. */
export class GradingInfraError extends CirError {
  override readonly name: string = 'GradingInfraError';
  constructor(
    readonly problemId: string,
    readonly attempts: number,
  ) {
    super(`the sandbox failed while grading ${problemId} (${attempts} attempts); the sample is left for --resume`);
  }
}

/**
 * Grades with the item, retrying when the sandbox (not the program) failed. A verdict that is still
 * an infrastructure failure is thrown, so the runner stops without writing the sample and a resumed
 * run grades it again: a broken sandbox never turns into a wrong answer.
 */
export async function gradeItem(
  item: BenchmarkItem,
  responseText: string,
  context: { mode: EvalMode; executor?: CodeExecutor; signal?: AbortSignal; attempts: number },
): Promise<StoredVerdict> {
  const attempts = Math.max(1, context.attempts);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const grade = await item.grade(responseText, {
      mode: promptMode(context.mode),
      ...(context.executor ? { executor: context.executor } : {}),
      ...(context.signal ? { signal: context.signal } : {}),
    });
    if (!grade.infraError) return { ...storedGrade(grade), ...(attempt > 1 ? { grade_attempts: attempt } : {}) };
    context.signal?.throwIfAborted();
  }
  throw new GradingInfraError(item.id, attempts);
}

export interface RedactedSegment extends Segment {
  redacted: { reason: string; tokens: number; chars: number; sha256: string };
}

/**
 * Replaces the prompt segments' text and token ids with a marker naming the problem id, keeping
 * their lengths and a SHA-256 of the text (to check two runs saw the same prompt). Model output is
 * left as it is.
 */
export function redactPrompt<T extends Trajectory>(trajectory: T, problemId: string, reason: string): T {
  const segments = trajectory.segments.map((segment): Segment => {
    if (segment.origin !== 'prompt') return segment;
    const redacted: RedactedSegment = {
      origin: 'prompt',
      tokens: [],
      text: `[prompt of ${problemId} withheld: ${reason}]`,
      redacted: {
        reason,
        tokens: segment.tokens.length,
        chars: segment.text.length,
        sha256: createHash('sha256').update(segment.text).digest('hex'),
      },
    };
    return redacted;
  });
  return { ...trajectory, segments };
}

/** Whether results of this benchmark must not hold its prompt text. */
export function withholdsPrompt(preset: PresetSettings | undefined): boolean {
  return preset !== undefined && preset.confidential && !preset.storeConfidentialText;
}
