/**
 * Problem sets for training and evaluation (benchmarks and training data alike): JSONL (the project's dataset schema and common Hub layouts) and Parquet (the verl
 * layout the paper trains and validates with). Built-in names resolve to files in a data directory;
 * `hf:` specs download one file from the Hugging Face Hub into a local cache first.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { writeFileSafely } from '../core/files.js';
import { readBodyCapped } from '../core/http-body.js';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parquetReadObjects } from 'hyparquet';
import type { BenchmarkItem, BenchmarkSpec } from '../benchmarks/index.js';
import { InputError } from '../core/errors.js';
import { stripInstruction } from '../prompts/index.js';
import { loadPreset, PRESET_NAMES, presetTarget, type PresetOptions } from './presets.js';

export interface Problem {
  /** Unique within its benchmark. */
  id: string;
  problem: string;
  /** Reference final answer (LaTeX, no `\boxed{}`). */
  answer: string;
  subject?: string;
  /** MATH level (1–5) or OlymMATH difficulty, as a string. */
  level?: string;
  /** Multiple-choice options, when the benchmark has them (generic files). */
  choices?: string[];
  /**
   * Set for preset benchmarks (Minerva, OlympiadBench, GPQA, LiveCodeBench): the item renders the
   * prompt and grades the response; `problem` is then empty and `answer` is what reports may show.
   */
  item?: BenchmarkItem;
}

export interface Benchmark {
  /** Short name used in results (`aime24`, or the file's base name). */
  name: string;
  /** Where the problems came from: a file path or a Hub URL. */
  source: string;
  problems: Problem[];
  /** Rows dropped because they repeated an earlier (problem, answer) pair (verl files repeat AIME 16×). */
  duplicatesMerged: number;
  /** The benchmark spec when this is a preset (its problems all carry items). */
  preset?: BenchmarkSpec;
}

/** Built-in benchmark names and their files in the data directory. */
export const BUILTIN_BENCHMARKS: Readonly<Record<string, string>> = {
  aime24: 'aime24.jsonl',
  aime25: 'aime25.jsonl',
  math500: 'math500.jsonl',
  amc23: 'amc23.jsonl',
  olymmath: 'olymmath_en_easy.jsonl',
  olymmath_easy: 'olymmath_en_easy.jsonl',
  olymmath_hard: 'olymmath_en_hard.jsonl',
};

/** Hub files for `hf:NAME` shortcuts: only entries whose layout was checked are listed. */
export const HUB_SHORTCUTS: Readonly<Record<string, string>> = {
  math500: 'HuggingFaceH4/MATH-500/test.jsonl',
};

export interface LoadOptions {
  /** Directory holding the built-in files; else `CIR_DATA_DIR`, else `../shared/datasets` beside the repo. */
  dataDir?: string;
  /** Environment to read `CIR_DATA_DIR`, `HF_ENDPOINT`, `HF_TOKEN`, `CIR_CACHE_DIR` from. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Injected for tests; defaults to global fetch. */
  fetch?: typeof fetch;
  /** Where Hub downloads are kept; default `$CIR_CACHE_DIR/hub` or `~/.cache/cir/hub`. */
  cacheDir?: string;
  /** Largest benchmark file accepted from the Hub (default MAX_HUB_BENCHMARK_BYTES). */
  maxDownloadBytes?: number;
  /** Settings for preset benchmarks (`minerva`, `olympiadbench`, `gpqa`, `livecodebench`, `NAME=PATH`). */
  preset?: PresetOptions;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The data directory for built-in names, or undefined when none is configured or found. */
export function resolveDataDir(options: LoadOptions = {}): string | undefined {
  const env = options.env ?? process.env;
  if (options.dataDir !== undefined) return resolve(options.dataDir);
  const fromEnv = env['CIR_DATA_DIR'];
  if (fromEnv) return resolve(fromEnv);
  const beside = join(repoRoot, '..', 'shared', 'datasets');
  return existsSync(beside) ? beside : undefined;
}

/**
 * Loads `spec`: a built-in name, a preset (`minerva`, `olympiadbench`, `gpqa`, `livecodebench`, a
 * `.jsonl` file named after one, or `NAME=PATH`), a `.jsonl`/`.parquet` path, or
 * `hf:OWNER/NAME/PATH[@REVISION]`.
 */
export async function loadBenchmark(spec: string, options: LoadOptions = {}): Promise<Benchmark> {
  if (spec.startsWith('hf:')) return loadFromHub(spec, options);
  const preset = presetTarget(spec, resolveDataDir(options));
  if (preset !== undefined) {
    const env = options.env ?? process.env;
    return loadPreset(preset, options.preset ?? { maxToolCalls: 0 }, {
      cacheDir: options.cacheDir ?? join(env['CIR_CACHE_DIR'] ?? join(env['HOME'] ?? '.', '.cache', 'cir'), 'hub'),
      ...(env['HF_ENDPOINT'] ? { endpoint: env['HF_ENDPOINT'] } : {}),
      ...(env['HF_TOKEN'] ? { token: env['HF_TOKEN'] } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }
  const builtin = BUILTIN_BENCHMARKS[spec];
  if (builtin !== undefined) {
    const dataDir = resolveDataDir(options);
    if (dataDir === undefined) {
      throw new InputError(
        `built-in benchmark needs a data directory: pass --data-dir or set CIR_DATA_DIR (no ../shared/datasets beside the repo)`,
        spec,
      );
    }
    const path = join(dataDir, builtin);
    if (!existsSync(path)) throw new InputError(`built-in benchmark file not found: ${path}`, spec);
    return { ...(await loadFile(path, path)), name: spec };
  }
  if (!existsSync(spec)) {
    throw new InputError(
      `not a built-in benchmark (${[...Object.keys(BUILTIN_BENCHMARKS), ...PRESET_NAMES].join(', ')}), NAME=PATH, an hf: spec, or an existing file`,
      spec,
    );
  }
  return loadFile(spec, spec);
}

/** Loads a local `.jsonl` or `.parquet` file. */
export function loadBenchmarkFile(path: string): Benchmark {
  const extension = extname(path).toLowerCase();
  const name = basename(path, extension);
  if (extension === '.jsonl') return { name, source: path, ...parseJsonl(readFileSync(path, 'utf8'), path) };
  if (extension === '.parquet') {
    throw new InputError('parquet files load asynchronously: call loadBenchmark', path);
  }
  throw new InputError(`unknown benchmark file type ${JSON.stringify(extension)} (expected .jsonl or .parquet)`, path);
}

/** 1 GiB: evaluation sets on the Hub are a few MB to a few hundred MB. */
export const MAX_HUB_BENCHMARK_BYTES = 1024 ** 3;
/** 4 MiB of text per decoded row: a row past that is a decompression bomb or not a benchmark row. */
export const MAX_ROW_CHARS = 4 * 1024 * 1024;

/** Throws when a decoded row holds more than MAX_ROW_CHARS characters of strings (counting stops early). */
function checkRowSize(row: unknown, path: string, index: number): void {
  let chars = 0;
  const walk = (value: unknown): void => {
    if (chars > MAX_ROW_CHARS) return;
    if (typeof value === 'string') chars += value.length;
    else if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(walk);
  };
  walk(row);
  if (chars > MAX_ROW_CHARS) throw new InputError(`row ${index + 1} decodes to more than ${MAX_ROW_CHARS} characters`, path);
}

async function loadFile(path: string, source: string): Promise<Benchmark> {
  const extension = extname(path).toLowerCase();
  if (extension !== '.parquet') return { ...loadBenchmarkFile(path), source };
  const bytes = readFileSync(path);
  const rows = await readParquetRows(bytes, path);
  rows.forEach((row, index) => checkRowSize(row, path, index));
  return { name: basename(path, extension), source, ...normaliseRows(rows, path, 'row') };
}

async function readParquetRows(bytes: Buffer, path: string): Promise<unknown[]> {
  const file = new Uint8Array(bytes).buffer; // a fresh ArrayBuffer, not a view into Node's pool
  try {
    return await parquetReadObjects({ file });
  } catch (error) {
    throw new InputError(`not a readable parquet file: ${error instanceof Error ? error.message : String(error)}`, path);
  }
}

/** Parses JSONL text; `file` names the input in errors (line numbers are 1-based). */
export function parseJsonl(text: string, file: string): { problems: Problem[]; duplicatesMerged: number } {
  const rows: unknown[] = [];
  const lineNumbers: number[] = [];
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    try {
      rows.push(JSON.parse(line));
    } catch (error) {
      throw new InputError(`line ${index + 1}: not valid JSON (${error instanceof Error ? error.message : String(error)})`, file);
    }
    lineNumbers.push(index + 1);
  }
  return normaliseRows(rows, file, 'line', lineNumbers);
}

type Row = Record<string, unknown>;

/**
 * Maps raw records to problems. Accepts the project schema (`id, problem, answer, subject, level`),
 * common Hub spellings (`question`, `unique_id`), and the verl layout (`prompt` messages +
 * `reward_model.ground_truth`), whose prompt already carries the CIR instruction: it is stripped so the
 * protocol can add its own.
 */
function normaliseRows(
  rows: unknown[],
  file: string,
  unit: 'line' | 'row',
  positions?: number[],
): { problems: Problem[]; duplicatesMerged: number } {
  const problems: Problem[] = [];
  const seenIds = new Map<string, number>();
  const seenContent = new Set<string>();
  let duplicatesMerged = 0;
  for (const [index, raw] of rows.entries()) {
    const position = positions?.[index] ?? index + 1;
    const where = `${unit} ${position}`;
    const fail = (field: string, what: string): never => {
      throw new InputError(`${where}: field ${JSON.stringify(field)} ${what}`, file);
    };
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new InputError(`${where}: expected a JSON object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`, file);
    }
    const row = raw as Row;
    const verl = 'reward_model' in row && 'prompt' in row;
    const problemText = verl ? verlProblem(row, fail) : pickString(row, ['problem', 'question', 'Problem'], fail, 'problem');
    const answer = verl ? verlAnswer(row, fail) : pickAnswer(row, fail);
    const content = `${problemText}\u0000${answer}`;
    if (verl && seenContent.has(content)) {
      duplicatesMerged += 1;
      continue;
    }
    seenContent.add(content);
    const id = verl ? verlId(row, position) : pickId(row, fail) ?? `${position}`;
    const earlier = seenIds.get(id);
    if (earlier !== undefined) fail(verl ? 'extra_info.index' : 'id', `repeats ${JSON.stringify(id)} from ${unit} ${earlier}`);
    seenIds.set(id, position);
    const problem: Problem = { id, problem: problemText, answer };
    const subject = row['subject'] ?? row['type'];
    if (subject !== undefined && subject !== null) {
      if (typeof subject !== 'string') fail('subject', 'must be a string');
      else problem.subject = subject;
    }
    const level = row['level'];
    if (level !== undefined && level !== null) {
      if (typeof level !== 'string' && typeof level !== 'number' && typeof level !== 'bigint') fail('level', 'must be a string or a number');
      problem.level = String(level);
    }
    const choices = row['choices'];
    if (choices !== undefined && choices !== null) {
      if (!Array.isArray(choices) || !choices.every((c) => typeof c === 'string')) fail('choices', 'must be an array of strings');
      problem.choices = choices as string[];
    }
    problems.push(problem);
  }
  if (problems.length === 0) throw new InputError('no problems in file', file);
  return { problems, duplicatesMerged };
}

function pickString(row: Row, names: string[], fail: (field: string, what: string) => never, label: string): string {
  for (const name of names) {
    const value = row[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') return fail(name, `must be a string, got ${typeof value}`);
    if (value.trim() === '') return fail(name, 'is empty');
    return value;
  }
  return fail(label, 'is missing');
}

function pickAnswer(row: Row, fail: (field: string, what: string) => never): string {
  for (const name of ['answer', 'Answer', 'final_answer']) {
    let value = row[name];
    if (value === undefined || value === null) continue;
    // OlympiadBench stores a list of accepted forms; the first is the reference.
    if (Array.isArray(value)) value = value[0];
    if (typeof value === 'number' || typeof value === 'bigint') return String(value);
    if (typeof value !== 'string') return fail(name, `must be a string or a number, got ${typeof value}`);
    if (value.trim() === '') return fail(name, 'is empty');
    return value;
  }
  return fail('answer', 'is missing');
}

function pickId(row: Row, fail: (field: string, what: string) => never): string | undefined {
  for (const name of ['id', 'unique_id', 'ID']) {
    const value = row[name];
    if (value === undefined || value === null) continue;
    if (typeof value === 'string' && value !== '') return value;
    if (typeof value === 'number' || typeof value === 'bigint') return String(value);
    return fail(name, 'must be a non-empty string or a number');
  }
  return undefined;
}

function verlProblem(row: Row, fail: (field: string, what: string) => never): string {
  const prompt = row['prompt'];
  if (!Array.isArray(prompt) || prompt.length === 0) return fail('prompt', 'must be a non-empty list of messages');
  const user = [...prompt].reverse().find((m): m is Row => typeof m === 'object' && m !== null && (m as Row)['role'] === 'user');
  const content = user?.['content'];
  if (typeof content !== 'string' || content.trim() === '') return fail('prompt', 'has no user message with string content');
  return stripInstruction(content);
}

function verlAnswer(row: Row, fail: (field: string, what: string) => never): string {
  const reward = row['reward_model'];
  if (typeof reward !== 'object' || reward === null) return fail('reward_model', 'must be a struct');
  const truth = (reward as Row)['ground_truth'];
  if (typeof truth === 'number' || typeof truth === 'bigint') return String(truth);
  if (typeof truth !== 'string' || truth.trim() === '') return fail('reward_model.ground_truth', 'must be a non-empty string');
  return truth;
}

function verlId(row: Row, position: number): string {
  const source = typeof row['data_source'] === 'string' ? row['data_source'] : 'row';
  const extra = row['extra_info'];
  const index = typeof extra === 'object' && extra !== null ? (extra as Row)['index'] : undefined;
  return typeof index === 'number' || typeof index === 'bigint' ? `${source}-${String(index)}` : `${source}-${position}`;
}

/** `hf:OWNER/NAME/PATH[@REVISION]` (or a shortcut such as `hf:math500`) → its parts. */
export function parseHubSpec(spec: string): { repo: string; path: string; revision: string } {
  let body = spec.slice(3);
  body = HUB_SHORTCUTS[body] ?? body;
  let revision = 'main';
  const at = body.lastIndexOf('@');
  if (at > 0) {
    revision = body.slice(at + 1);
    body = body.slice(0, at);
  }
  const parts = body.split('/');
  if (parts.length < 3 || parts.some((p) => p === '' || p === '.' || p === '..') || !/^[\w.-]+$/.test(revision)) {
    throw new InputError('expected hf:OWNER/NAME/PATH/IN/REPO.(jsonl|parquet)[@REVISION]', spec);
  }
  return { repo: `${parts[0]}/${parts[1]}`, path: parts.slice(2).join('/'), revision };
}

async function loadFromHub(spec: string, options: LoadOptions): Promise<Benchmark> {
  const env = options.env ?? process.env;
  const { repo, path, revision } = parseHubSpec(spec);
  const endpoint = (env['HF_ENDPOINT'] ?? 'https://huggingface.co').replace(/\/+$/, '');
  const url = `${endpoint}/datasets/${repo}/resolve/${encodeURIComponent(revision)}/${path.split('/').map(encodeURIComponent).join('/')}`;
  const cacheRoot = options.cacheDir ?? join(env['CIR_CACHE_DIR'] ?? join(env['HOME'] ?? '.', '.cache', 'cir'), 'hub');
  const local = join(cacheRoot, repo, revision, path);
  if (!existsSync(local)) {
    const headers: Record<string, string> = {};
    const token = env['HF_TOKEN'];
    if (token) headers['authorization'] = `Bearer ${token}`;
    let response: Response;
    try {
      response = await (options.fetch ?? fetch)(url, { headers, redirect: 'follow' });
    } catch (error) {
      throw new InputError(`cannot reach the Hub at ${url}: ${error instanceof Error ? error.message : String(error)}`, spec);
    }
    if (!response.ok) throw new InputError(`the Hub answered ${response.status} for ${url}`, spec);
    let bytes: Buffer;
    try {
      bytes = await readBodyCapped(response, options.maxDownloadBytes ?? MAX_HUB_BENCHMARK_BYTES, url);
    } catch (error) {
      throw new InputError(error instanceof Error ? error.message : String(error), spec, { cause: error });
    }
    mkdirSync(dirname(local), { recursive: true });
    // Fresh temporary then rename: an interrupted download never leaves a truncated file in the
    // cache, and a symlink planted in the cache is replaced, not written through.
    writeFileSafely(local, bytes);
  }
  const benchmark = await loadFile(local, url);
  const shortcut = spec.slice(3);
  return HUB_SHORTCUTS[shortcut] !== undefined ? { ...benchmark, name: shortcut } : benchmark;
}
