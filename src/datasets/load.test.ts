import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { InputError } from '../core/errors.js';
import { loadBenchmark, parseHubSpec, parseJsonl, resolveDataDir } from './load.js';
import { CIR_INSTRUCTION } from '../prompts/index.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const sharedDatasets = join(repoRoot, '..', 'shared', 'datasets');

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'cir-eval-bench-'));
}

test('built-in names load the shared datasets with subjects and levels', async () => {
  const math = await loadBenchmark('math500', { dataDir: sharedDatasets });
  assert.equal(math.name, 'math500');
  assert.equal(math.problems.length, 500);
  const subjects = new Set(math.problems.map((p) => p.subject));
  assert.equal(subjects.size, 7);
  assert.equal(math.problems.filter((p) => p.level === '5').length, 134); // cir-reference §3.3
  const aime = await loadBenchmark('aime24', { dataDir: sharedDatasets });
  assert.equal(aime.problems.length, 30);
  assert.equal(aime.problems[0]?.id, 'aime2024-I-01');
  const hard = await loadBenchmark('olymmath_hard', { dataDir: sharedDatasets });
  assert.equal(hard.problems.length, 100);
});

test('the data directory comes from the option, then CIR_DATA_DIR', () => {
  assert.equal(resolveDataDir({ dataDir: '/x/y', env: { CIR_DATA_DIR: '/a' } }), '/x/y');
  assert.equal(resolveDataDir({ env: { CIR_DATA_DIR: '/a/b' } }), '/a/b');
});

test('malformed JSONL records name the file, line and field', () => {
  const cases: [string, RegExp][] = [
    ['{"id":"a","problem":"p","answer":"1"}\n{"id":"b","answer":"2"}\n', /line 2: field "problem" is missing/],
    ['{"id":"a","problem":"p","answer":"1"}\n\n{"id":"b","problem":"q","answer":["x"]}\n{bad\n', /line 4: not valid JSON/],
    ['{"id":"a","problem":"p","answer":{"x":1}}\n', /line 1: field "answer" must be a string or a number/],
    ['{"id":"a","problem":"p","answer":"1"}\n{"id":"a","problem":"q","answer":"2"}\n', /line 2: field "id" repeats "a" from line 1/],
    ['[1,2]\n', /line 1: expected a JSON object, got an array/],
    ['{"id":"a","problem":"p","answer":"1","level":[1]}\n', /line 1: field "level" must be a string or a number/],
    ['\n\n', /no problems in file/],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(
      () => parseJsonl(text, 'bench.jsonl'),
      (error: unknown) => error instanceof InputError && error.input === 'bench.jsonl' && pattern.test(error.message),
      String(pattern),
    );
  }
  const ok = parseJsonl('{"unique_id":"t/1","question":"Q?","answer":27,"level":3,"type":"Algebra"}\n', 'f');
  assert.deepEqual(ok.problems, [{ id: 't/1', problem: 'Q?', answer: '27', subject: 'Algebra', level: '3' }]);
});

test('unknown specs and missing files are input errors', async () => {
  await assert.rejects(loadBenchmark('nonesuch'), (e: unknown) => e instanceof InputError && /not a built-in benchmark/.test(e.message));
  await assert.rejects(loadBenchmark('aime24', { dataDir: scratch() }), (e: unknown) => e instanceof InputError && /not found/.test(e.message));
  const dir = scratch();
  writeFileSync(join(dir, 'x.csv'), 'a,b\n');
  await assert.rejects(loadBenchmark(join(dir, 'x.csv')), /unknown benchmark file type/);
  writeFileSync(join(dir, 'bad.parquet'), 'not parquet');
  await assert.rejects(loadBenchmark(join(dir, 'bad.parquet')), (e: unknown) => e instanceof InputError && /not a readable parquet/.test(e.message));
});

/** A parquet file in the verl RLHF layout (cir-reference §3.2), AIME-style: the same rows repeated. */
function verlParquet(rows: { problem: string; truth: string; index: number }[], repeats: number): ArrayBuffer {
  const all = Array.from({ length: repeats }, () => rows).flat();
  const schema = [
    { name: 'root', num_children: 5 },
    { name: 'data_source', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    { name: 'prompt', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', repetition_type: 'OPTIONAL', num_children: 2 },
    { name: 'content', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    { name: 'role', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    { name: 'ability', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    { name: 'reward_model', repetition_type: 'OPTIONAL', num_children: 2 },
    { name: 'ground_truth', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    { name: 'style', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    { name: 'extra_info', repetition_type: 'OPTIONAL', num_children: 2 },
    { name: 'index', type: 'INT64', repetition_type: 'OPTIONAL' },
    { name: 'split', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  ] as const;
  type Schema = NonNullable<Parameters<typeof parquetWriteBuffer>[0]['schema']>;
  return parquetWriteBuffer({
    schema: schema as unknown as Schema,
    columnData: [
      { name: 'data_source', data: all.map(() => 'box_TestDataset.AIME16') },
      { name: 'prompt', data: all.map((r) => [{ content: `${CIR_INSTRUCTION}\n${r.problem}`, role: 'user' }]) },
      { name: 'ability', data: all.map(() => 'math') },
      { name: 'reward_model', data: all.map((r) => ({ ground_truth: r.truth, style: 'rule' })) },
      { name: 'extra_info', data: all.map((r, i) => ({ index: BigInt(r.index + i), split: 'test' })) },
    ],
  });
}

test('verl-layout parquet: instruction stripped, repeated rows merged, int64 index as id', async () => {
  const dir = scratch();
  const path = join(dir, 'aime24.parquet');
  writeFileSync(
    path,
    Buffer.from(
      verlParquet(
        [
          { problem: 'Find $x$ if $x+1=2$.', truth: '1', index: 0 },
          { problem: 'Compute 2+3.', truth: '005', index: 0 },
        ],
        3,
      ),
    ),
  );
  const benchmark = await loadBenchmark(path);
  assert.equal(benchmark.name, 'aime24');
  assert.equal(benchmark.duplicatesMerged, 4);
  assert.deepEqual(benchmark.problems, [
    { id: 'box_TestDataset.AIME16-0', problem: 'Find $x$ if $x+1=2$.', answer: '1' },
    { id: 'box_TestDataset.AIME16-1', problem: 'Compute 2+3.', answer: '005' },
  ]);
});

test('hf: specs parse, download once into the cache, and load (local server)', async () => {
  assert.deepEqual(parseHubSpec('hf:HuggingFaceH4/MATH-500/test.jsonl'), { repo: 'HuggingFaceH4/MATH-500', path: 'test.jsonl', revision: 'main' });
  assert.deepEqual(parseHubSpec('hf:math500'), { repo: 'HuggingFaceH4/MATH-500', path: 'test.jsonl', revision: 'main' });
  assert.deepEqual(parseHubSpec('hf:o/n/data/x.parquet@v1.0'), { repo: 'o/n', path: 'data/x.parquet', revision: 'v1.0' });
  assert.throws(() => parseHubSpec('hf:o/n'), InputError);
  assert.throws(() => parseHubSpec('hf:o/n/../../etc/passwd'), InputError);

  const requests: string[] = [];
  const parquet = Buffer.from(verlParquet([{ problem: 'What is 6*7?', truth: '42', index: 5 }], 1));
  const server = createServer((request, response) => {
    requests.push(`${request.url ?? ''} ${request.headers.authorization ?? ''}`);
    if (request.url === '/datasets/HuggingFaceH4/MATH-500/resolve/main/test.jsonl') {
      response.end('{"problem":"1+1?","answer":"2","subject":"Algebra","level":1,"unique_id":"test/algebra/1.json"}\n');
    } else if (request.url === '/datasets/o/n/resolve/r1/data/v.parquet') {
      response.end(parquet);
    } else {
      response.statusCode = 404;
      response.end('missing');
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  try {
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const cacheDir = scratch();
    const env = { HF_ENDPOINT: endpoint, HF_TOKEN: 'tok' };
    const first = await loadBenchmark('hf:math500', { env, cacheDir });
    assert.equal(first.name, 'math500');
    assert.deepEqual(first.problems, [{ id: 'test/algebra/1.json', problem: '1+1?', answer: '2', subject: 'Algebra', level: '1' }]);
    await loadBenchmark('hf:math500', { env, cacheDir });
    assert.equal(requests.length, 1, 'second load served from the cache');
    assert.equal(requests[0], '/datasets/HuggingFaceH4/MATH-500/resolve/main/test.jsonl Bearer tok');
    const verl = await loadBenchmark('hf:o/n/data/v.parquet@r1', { env, cacheDir });
    assert.deepEqual(verl.problems, [{ id: 'box_TestDataset.AIME16-5', problem: 'What is 6*7?', answer: '42' }]);
    await assert.rejects(loadBenchmark('hf:o/n/absent.jsonl', { env, cacheDir }), (e: unknown) => e instanceof InputError && /answered 404/.test(e.message));
  } finally {
    server.close();
  }
});

test('attack: a parquet row that decodes to more than the row cap is refused (decompression bomb)', async () => {
  const dir = scratch();
  const bomb = verlParquet([{ problem: 'x'.repeat(5 * 1024 * 1024), truth: '1', index: 0 }], 1);
  writeFileSync(join(dir, 'bomb.parquet'), Buffer.from(bomb));
  await assert.rejects(loadBenchmark(join(dir, 'bomb.parquet')), (e: unknown) => e instanceof InputError && /row 1 decodes to more than/.test(e.message));
});
