/**
 * The run directory: `config.json` (the settings used) and `results.jsonl` (one record per finished
 * sample, appended with a single write each). A kill at any moment leaves at most one torn final line,
 * which reading ignores and resuming cuts off, so no finished sample is lost and none is written twice.
 */
import { closeSync, existsSync, ftruncateSync, mkdirSync, writeSync } from 'node:fs';
import { openRegularFile, readRegularFile, writeFileSafely } from '../core/files.js';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import type { Trajectory } from '../core/trajectory.js';
import { configDifferences, describeDifference } from '../core/config-diff.js';
import type { TrajectoryStats } from './metrics.js';
import type { EvalSettings } from './protocol.js';

export const RESULTS_FILE = 'results.jsonl';
export const CONFIG_FILE = 'config.json';
export const SUMMARY_FILE = 'summary.json';

/** The grader's verdict as stored; fields beyond these are kept as the grader returned them. */
export interface StoredVerdict {
  correct: boolean;
  reason: string;
  /** Extracted final answer (normalised when the grader does so); null when none was found. */
  extracted?: string | null;
  [field: string]: unknown;
}

export interface SampleRecord {
  benchmark: string;
  problem_id: string;
  sample: number;
  correct: boolean;
  /** Reference answer. */
  reference: string;
  subject?: string;
  level?: string;
  /** A preset benchmark item's breakdown keys (`difficulty`, `month`, `tests`, `domain`, ...). */
  groups?: Record<string, string>;
  seed: number;
  verdict: StoredVerdict;
  stats: TrajectoryStats;
  trajectory: Trajectory;
  elapsed_ms: number;
}

export interface RunConfig {
  /** Format version of the run directory. */
  version: 1;
  settings: EvalSettings;
  /** Engine, model, tokenizer and executor descriptions, for the record (not compared on resume). */
  environment: Record<string, unknown>;
  createdAt: string;
  resumedAt: string[];
}

export function sampleKey(benchmark: string, problemId: string, sample: number): string {
  return `${benchmark}\u0000${problemId}\u0000${sample}`;
}

export interface ReadResults {
  records: SampleRecord[];
  /** Bytes of an unterminated last line (a write cut by a kill); 0 when the file ends cleanly. */
  tornBytes: number;
  /** Byte length of the complete lines: where appending resumes. */
  validBytes: number;
  /** Records that repeated an earlier (benchmark, problem, sample) and were dropped. */
  duplicates: number;
  /**
   * Records of samples an infrastructure failure touched (older runs wrote them): never scored, never
   * counted as wrong; `--resume` runs their samples again. A later record for the same sample replaces one.
   */
  infraFailures: SampleRecord[];
}

/** True when the sandbox or the model engine failed on this sample: it has no score. */
export function isInfraFailure(record: SampleRecord): boolean {
  return record.stats?.infraFailure === true || record.trajectory?.infraFailure === true;
}

/** Reads results; a malformed complete line is an error naming it, a torn last line is skipped. */
export function readResults(path: string): ReadResults {
  if (!existsSync(path)) return { records: [], tornBytes: 0, validBytes: 0, duplicates: 0, infraFailures: [] };
  const bytes = readRegularFile(path);
  const lastNewline = bytes.lastIndexOf(0x0a);
  const validBytes = lastNewline + 1;
  const text = bytes.subarray(0, validBytes).toString('utf8');
  const records: SampleRecord[] = [];
  const seen = new Set<string>();
  const unscored = new Map<string, SampleRecord>();
  let duplicates = 0;
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new InputError(`line ${index + 1}: not valid JSON (${error instanceof Error ? error.message : String(error)})`, path);
    }
    const record = checkRecord(value, path, index + 1);
    const key = sampleKey(record.benchmark, record.problem_id, record.sample);
    if (isInfraFailure(record)) {
      if (!seen.has(key)) unscored.set(key, record);
      continue;
    }
    unscored.delete(key);
    if (seen.has(key)) {
      duplicates += 1;
      continue;
    }
    seen.add(key);
    records.push(record);
  }
  return { records, tornBytes: bytes.length - validBytes, validBytes, duplicates, infraFailures: [...unscored.values()] };
}

/** Validates one parsed results line (the fields readers rely on); errors name the file and line. */
export function checkRecord(value: unknown, path: string, line: number): SampleRecord {
  const fail = (field: string, what: string): never => {
    throw new InputError(`line ${line}: field ${JSON.stringify(field)} ${what}`, path);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('(record)', 'must be a JSON object');
  const row = value as Record<string, unknown>;
  if (typeof row['benchmark'] !== 'string') fail('benchmark', 'must be a string');
  if (typeof row['problem_id'] !== 'string') fail('problem_id', 'must be a string');
  if (!Number.isInteger(row['sample'])) fail('sample', 'must be an integer');
  if (typeof row['correct'] !== 'boolean') fail('correct', 'must be a boolean');
  const trajectory = row['trajectory'] as Record<string, unknown> | undefined;
  if (typeof trajectory !== 'object' || trajectory === null || !Array.isArray(trajectory['segments'])) fail('trajectory', 'must hold segments');
  if (typeof row['stats'] !== 'object' || row['stats'] === null) fail('stats', 'must be an object');
  if (typeof row['verdict'] !== 'object' || row['verdict'] === null) fail('verdict', 'must be an object');
  return value as SampleRecord;
}

/** Appends records to `results.jsonl`, one `write` per record so a kill can tear only the last line. */
export class ResultsWriter {
  private readonly fd: number;

  constructor(readonly path: string, validBytes: number) {
    // A symlink planted as results.jsonl is refused, never written through.
    this.fd = openRegularFile(path, 'update');
    // Cut a torn last line left by a kill, then write from the end of the complete lines.
    ftruncateSync(this.fd, validBytes);
    this.position = validBytes;
  }

  private position: number;

  append(record: SampleRecord): void {
    const bytes = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
    let offset = 0;
    while (offset < bytes.length) {
      offset += writeSync(this.fd, bytes, offset, bytes.length - offset, this.position + offset);
    }
    this.position += bytes.length;
  }

  close(): void {
    closeSync(this.fd);
  }
}

export interface OpenRunOptions {
  resume: boolean;
  environment?: Record<string, unknown>;
  now?: () => Date;
}

export interface OpenedRun {
  config: RunConfig;
  existing: ReadResults;
  writer: ResultsWriter;
}

/**
 * Prepares `dir` for a run. A directory with results needs `resume`, and resuming needs the same
 * settings (the fields that differ are named) so a resumed run is the run it claims to be.
 */
export function openRun(dir: string, settings: EvalSettings, options: OpenRunOptions): OpenedRun {
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, CONFIG_FILE);
  const resultsPath = join(dir, RESULTS_FILE);
  const now = (options.now ?? (() => new Date()))().toISOString();
  const existing = readResults(resultsPath);
  let config: RunConfig;
  if (existsSync(configPath)) {
    const stored = readConfig(dir);
    if (!options.resume && (existing.records.length > 0 || existing.infraFailures.length > 0 || existing.tornBytes > 0)) {
      throw new InputError(`already holds ${existing.records.length + existing.infraFailures.length} results: pass --resume to continue it, or choose another --out`, dir);
    }
    if (options.resume) {
      const differences = configDifferences(stored.settings, settings, 'settings').map(describeDifference);
      if (differences.length > 0) {
        throw new InputError(`--resume with different settings than the run was started with: ${differences.join('; ')}`, dir);
      }
      config = { ...stored, resumedAt: [...stored.resumedAt, now] };
    } else {
      config = { version: 1, settings, environment: options.environment ?? {}, createdAt: now, resumedAt: [] };
    }
  } else {
    if (existing.records.length > 0) throw new InputError(`has ${RESULTS_FILE} but no ${CONFIG_FILE}; not a run directory this tool wrote`, dir);
    config = { version: 1, settings, environment: options.environment ?? {}, createdAt: now, resumedAt: [] };
  }
  writeJsonAtomic(configPath, config);
  return { config, existing, writer: new ResultsWriter(resultsPath, existing.validBytes) };
}

export function readConfig(dir: string): RunConfig {
  const path = join(dir, CONFIG_FILE);
  if (!existsSync(path)) throw new InputError(`no ${CONFIG_FILE}: not a run directory`, dir);
  let value: unknown;
  try {
    value = JSON.parse(readRegularFile(path).toString('utf8'));
  } catch (error) {
    throw new InputError(`not valid JSON (${error instanceof Error ? error.message : String(error)})`, path);
  }
  const config = value as Partial<RunConfig>;
  if (config.version !== 1 || typeof config.settings !== 'object' || config.settings === null) {
    throw new InputError('expected {"version": 1, "settings": {...}}', path);
  }
  return { environment: {}, resumedAt: [], createdAt: '', ...config } as RunConfig;
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileSafely(path, `${JSON.stringify(value, null, 2)}\n`);
}
