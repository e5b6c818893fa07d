import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCHMARK_NAMES, benchmarkForPath, canonicalBenchmarkName, getBenchmark, resolveBenchmark } from './index.js';
import { InputError } from '../core/errors.js';

test('one registry: every name and alias selects its benchmark, unknown names list the known ones', () => {
  assert.deepEqual([...BENCHMARK_NAMES], ['minerva', 'olympiadbench', 'gpqa', 'livecodebench']);
  const aliases: Record<string, string> = { minerva_math: 'minerva', gpqa_diamond: 'gpqa', lcb: 'livecodebench' };
  for (const name of BENCHMARK_NAMES) {
    assert.equal(canonicalBenchmarkName(name), name);
    assert.equal(getBenchmark(name).name, name);
  }
  for (const [alias, name] of Object.entries(aliases)) {
    assert.equal(canonicalBenchmarkName(alias), name);
    assert.equal(getBenchmark(alias).name, name);
  }
  assert.equal(canonicalBenchmarkName('aime24'), undefined);
  assert.throws(() => getBenchmark('nope'), (error: unknown) => error instanceof InputError && /minerva, olympiadbench, gpqa, livecodebench/.test(error.message));
});

test('file names say which benchmark a file is; a name that says none needs `as`', () => {
  assert.equal(benchmarkForPath('/x/Minerva_Math.jsonl')?.name, 'minerva');
  assert.equal(benchmarkForPath('data/gpqa_diamond.jsonl')?.name, 'gpqa');
  assert.equal(benchmarkForPath('lcb_v5.jsonl')?.name, 'livecodebench');
  assert.equal(benchmarkForPath('OlympiadBench.jsonl')?.name, 'olympiadbench');
  assert.equal(benchmarkForPath('aime24.jsonl'), undefined);
  const dir = mkdtempSync(join(tmpdir(), 'cir-registry-'));
  const file = join(dir, 'mystery.jsonl');
  writeFileSync(file, '{}\n');
  assert.throws(() => resolveBenchmark(file, { dataDir: dir }), /cannot tell which benchmark/);
  assert.equal(resolveBenchmark(file, { dataDir: dir, as: 'gpqa_diamond' }).spec.name, 'gpqa');
  assert.equal(resolveBenchmark('lcb', { dataDir: dir }).path, join(dir, getBenchmark('livecodebench').defaultFile));
});
