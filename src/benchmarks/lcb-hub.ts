/**
 * Loading the complete LiveCodeBench sets (public + hidden tests) from the public Hugging Face copy
 * `livecodebench/code_generation_lite`. Hidden tests are decoded base64 → zlib → pickle of ONE
 * string → JSON, with our own pickle reader that refuses anything but a string. Files are cached;
 * `fetch` is injectable (tests serve the files from a local HTTP server).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { inflateSync } from 'node:zlib';
import { InputError, RemoteError } from '../core/errors.js';
import { declaredTooLarge } from '../core/http-body.js';
import type { JsonObject } from './jsonl.js';
import type { LcbDifficulty, LcbProblem, LcbTest } from './livecodebench.js';
import { readPickledString } from './pickle-string.js';

export const LCB_HUB_DATASET = 'livecodebench/code_generation_lite';

/** Each release adds one file: release_vN is test.jsonl … testN.jsonl (LCB's own loader). */
export const LCB_RELEASE_FILES = ['test.jsonl', 'test2.jsonl', 'test3.jsonl', 'test4.jsonl', 'test5.jsonl', 'test6.jsonl'] as const;

export type LcbRelease = 'release_v1' | 'release_v2' | 'release_v3' | 'release_v4' | 'release_v5' | 'release_v6';

/** A download failed (network, HTTP status); the message says which file and why. */
export class HubError extends RemoteError {
  override readonly name: string = 'HubError';
}

/** Largest hidden-test payload we inflate (LCB's biggest are tens of MB); stops zip bombs. */
const MAX_INFLATED_BYTES = 1 << 30;

/** base64 → zlib → pickle(str) → JSON list of `{input, output, testtype}`. */
export function decodePrivateTests(encoded: string, source: string): LcbTest[] {
  const compact = encoded.replace(/\s+/g, '');
  if (compact === '') return [];
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) throw new InputError('hidden tests are not base64', source);
  let inflated: Buffer;
  try {
    inflated = inflateSync(Buffer.from(compact, 'base64'), { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (error) {
    throw new InputError(`hidden tests are not zlib data (${error instanceof Error ? error.message : String(error)})`, source);
  }
  const text = readPickledString(inflated, source);
  return parseTestList(text, source, false);
}

/** LCB's test list JSON: `[{"input", "output", "testtype"}]`. */
export function parseTestList(text: string, source: string, isPublic: boolean): LcbTest[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InputError('test list is not valid JSON', source);
  }
  if (!Array.isArray(value)) throw new InputError('test list is not a JSON array', source);
  return value.map((raw: unknown, index) => {
    const t = raw as { input?: unknown; output?: unknown; testtype?: unknown } | null;
    if (typeof t !== 'object' || t === null || typeof t.input !== 'string' || typeof t.output !== 'string') {
      throw new InputError(`test ${index} needs string "input" and "output"`, source);
    }
    if (t.testtype !== 'stdin' && t.testtype !== 'functional') {
      throw new InputError(`test ${index} has testtype ${JSON.stringify(t.testtype)} (expected stdin or functional)`, source);
    }
    return { input: t.input, output: t.output, type: t.testtype, public: isPublic };
  });
}

function stringField(row: JsonObject, field: string, where: string): string {
  const v = row[field];
  if (typeof v !== 'string') throw new InputError(`field "${field}" must be a string`, where);
  return v;
}

/** Turns one row of the Hub files into a problem with all its tests (public first, as LCB orders them). */
export function parseHubRow(row: JsonObject, where: string, release: string): LcbProblem {
  const id = stringField(row, 'question_id', where);
  const at = `${where} (${id})`;
  const tests = [
    ...parseTestList(stringField(row, 'public_test_cases', at), `${at} public_test_cases`, true),
    ...decodePrivateTests(stringField(row, 'private_test_cases', at), `${at} private_test_cases`),
  ];
  if (tests.length === 0) throw new InputError('problem has no tests', at);
  const difficulty = stringField(row, 'difficulty', at);
  if (difficulty !== 'easy' && difficulty !== 'medium' && difficulty !== 'hard') throw new InputError(`unknown difficulty ${JSON.stringify(difficulty)}`, at);
  const problem: LcbProblem = {
    id,
    title: stringField(row, 'question_title', at),
    problem: stringField(row, 'question_content', at),
    tests,
    difficulty: difficulty as LcbDifficulty,
    contestDate: stringField(row, 'contest_date', at),
    platform: stringField(row, 'platform', at),
    contestId: stringField(row, 'contest_id', at),
    release,
    testsComplete: true,
  };
  const starter = row['starter_code'];
  if (typeof starter === 'string' && starter.trim() !== '') problem.starterCode = starter;
  const metadata = row['metadata'];
  if (typeof metadata === 'string' && metadata.trim() !== '') {
    try {
      const parsed = JSON.parse(metadata) as { func_name?: unknown };
      if (typeof parsed.func_name === 'string') problem.fnName = parsed.func_name;
    } catch {
      throw new InputError('field "metadata" is not valid JSON', at);
    }
  }
  if (tests.some((t) => t.type === 'functional') && !problem.fnName) throw new InputError('functional problem without metadata.func_name', at);
  return problem;
}

export interface HubLoadOptions {
  release?: LcbRelease;
  /** Where downloaded files are kept; a file already there is not downloaded again. */
  cacheDir: string;
  /** Default https://huggingface.co; tests point it at a local server. */
  endpoint?: string;
  /** Git revision of the dataset repository. */
  revision?: string;
  token?: string;
  fetch?: typeof fetch;
  /** Largest file accepted from the Hub (default MAX_LCB_FILE_BYTES). */
  maxFileBytes?: number;
  /** Called with each file as it is downloaded. */
  onFile?: (file: string, cached: boolean) => void;
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** 8 GiB: LCB's release files are hundreds of MB each; a stream past this is cut off. */
export const MAX_LCB_FILE_BYTES = 8 * 1024 ** 3;

async function download(url: string, target: string, options: HubLoadOptions): Promise<void> {
  const fetchImpl = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await fetchImpl(url, options.token ? { headers: { authorization: `Bearer ${options.token}` } } : {});
  } catch (error) {
    throw new HubError(`cannot download ${url} (${error instanceof Error ? error.message : String(error)})`, url, null, { cause: error });
  }
  if (!response.ok || !response.body) throw new HubError(`cannot download ${url}: HTTP ${response.status}`, url, response.status);
  const limit = options.maxFileBytes ?? MAX_LCB_FILE_BYTES;
  if (declaredTooLarge(response, limit)) {
    await response.body.cancel().catch(() => undefined);
    throw new HubError(`cannot download ${url}: it declares more than the ${limit}-byte limit`, url, response.status);
  }
  const partial = `${target}.partial`;
  let received = 0;
  const capped = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      done(received > limit ? new Error(`over the ${limit}-byte limit`) : null, chunk);
    },
  });
  try {
    // flags 'wx': a fresh file, never one (or a symlink) planted at the temporary name.
    await rm(partial, { force: true });
    await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), capped, createWriteStream(partial, { flags: 'wx' }));
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw new HubError(`download of ${url} was cut off (${error instanceof Error ? error.message : String(error)})`, url, null, { cause: error });
  }
}

/**
 * Downloads (or reuses) the files of a release and returns every problem with its complete tests,
 * in file order. Files are read line by line: the full set is hundreds of MB.
 */
export async function loadLcbFromHub(options: HubLoadOptions): Promise<LcbProblem[]> {
  const release = options.release ?? 'release_v5';
  const count = Number(release.slice('release_v'.length));
  const files = LCB_RELEASE_FILES.slice(0, count);
  if (files.length !== count) throw new InputError(`unknown release ${JSON.stringify(release)}`, 'release');
  const endpoint = (options.endpoint ?? 'https://huggingface.co').replace(/\/+$/, '');
  const revision = options.revision ?? 'main';
  const dir = join(options.cacheDir, LCB_HUB_DATASET.replace('/', '--'), revision);
  await mkdir(dir, { recursive: true });
  const problems: LcbProblem[] = [];
  for (const [index, file] of files.entries()) {
    const target = join(dir, file);
    const cached = await exists(target);
    options.onFile?.(file, cached);
    if (!cached) await download(`${endpoint}/datasets/${LCB_HUB_DATASET}/resolve/${encodeURIComponent(revision)}/${file}`, target, options);
    const lines = createInterface({ input: createReadStream(target, 'utf8'), crlfDelay: Infinity });
    let lineNumber = 0;
    for await (const line of lines) {
      lineNumber++;
      if (line.trim() === '') continue;
      const where = `${target}:${lineNumber}`;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        throw new InputError('line is not valid JSON', where);
      }
      if (typeof row !== 'object' || row === null || Array.isArray(row)) throw new InputError('line is not a JSON object', where);
      problems.push(parseHubRow(row as JsonObject, where, `v${index + 1}`));
    }
  }
  return problems;
}
