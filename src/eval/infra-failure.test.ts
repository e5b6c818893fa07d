/**
 * Faults never become scores: `cir eval` against an engine that fails stops with an error naming the
 * engine and its answer, writes no record for the failed sample, and `--resume` runs exactly the
 * unfinished samples; summaries, reports and comparisons leave out records an infrastructure failure
 * touched (older runs wrote them) and say how many.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeVllm, type FakeRequest } from '../engines/testing/fake-vllm.js';
import { loadHfTokenizer } from '../tokenizers/index.js';
import { qwen3TokenizerDir } from '../tokenizers/testing/qwen3.js';
import { compareRuns } from './compare.js';
import { readResults, RESULTS_FILE } from './run-store.js';
import { writeReport } from './report.js';

const tokenizer = await loadHfTokenizer(qwen3TokenizerDir());
let failAfter = Infinity;
let served = 0;
const fake = await startFakeVllm({
  tokenizer,
  respond: (request: FakeRequest) => {
    const match = /What is (\d+) \+ (\d+)\?/.exec(request.promptText);
    return `The sum is \\boxed{${Number(match?.[1] ?? 0) + Number(match?.[2] ?? 0)}}.`;
  },
  fault: () => (served++ >= failAfter ? { kind: 'status', status: 400, message: 'model overloaded, try later' } : null),
});
after(() => fake.close());

const mainPath = fileURLToPath(new URL('../cli/main.js', import.meta.url));
function cir(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [mainPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CIR_DATA_DIR: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const dir = mkdtempSync(join(tmpdir(), 'cir-infra-'));
const benchmark = join(dir, 'sums.jsonl');
writeFileSync(benchmark, Array.from({ length: 6 }, (_, i) => JSON.stringify({ id: `s${i}`, problem: `What is ${i} + ${i}?`, answer: String(2 * i) })).join('\n') + '\n');
const common = ['eval', '--model', 'fake', '--tokenizer', qwen3TokenizerDir(), '--benchmark', benchmark, '--text-only', '--samples', '1', '--temperature', '0', '--concurrency', '1', '--json'];

test('an engine that cannot be reached stops the run at once: no score, exit 1, the engine named', async () => {
  const out = join(dir, 'unreachable');
  const result = await cir([...common, '--engine', 'http://127.0.0.1:9', '--out', out]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /http:\/\/127\.0\.0\.1:9\/v1\/completions connection failed/);
  assert.equal(result.stdout, '');
  assert.equal(readResults(join(out, RESULTS_FILE)).records.length, 0);
});

test('an engine failure mid-run leaves the sample unscored; --resume runs exactly the rest', async () => {
  const out = join(dir, 'failing');
  served = 0;
  failAfter = 4; // the probe at open and three samples succeed, then every request fails
  const first = await cir([...common, '--engine', fake.url, '--out', out]);
  assert.equal(first.code, 1, first.stderr);
  assert.match(first.stderr, /model engine openai:fake failed: .*answered 400: model overloaded, try later/);
  assert.match(first.stderr, /Not scored; finished samples are kept and --resume runs the unfinished ones again/);
  assert.ok(!existsSync(join(out, 'summary.json')), 'no summary of a stopped run');
  const partial = readResults(join(out, RESULTS_FILE));
  assert.equal(partial.records.length, 3);
  assert.equal(partial.infraFailures.length, 0, 'the failed sample has no record at all');
  assert.ok(partial.records.every((r) => r.correct));

  failAfter = Infinity;
  const before = fake.requests.length;
  const resumed = await cir([...common, '--engine', fake.url, '--out', out, '--resume']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(fake.requests.length - before, 1 + 3, 'the probe and the three unfinished samples');
  const summary = JSON.parse(resumed.stdout) as { averageAccuracy: number; samples: number; infraFailuresLeftOut: number };
  assert.equal(summary.samples, 6);
  assert.equal(summary.averageAccuracy, 1);
  assert.equal(summary.infraFailuresLeftOut, 0);
});

test('records an infrastructure failure touched are left out of summaries, reports and comparisons, and counted', async () => {
  const out = join(dir, 'failing');
  const results = join(out, RESULTS_FILE);
  const good = readResults(results).records;
  const lines = readFileSync(results, 'utf8').trim().split('\n');
  // An older cir wrote such records as wrong answers: one for a new sample, one repeating a scored one.
  const legacy = (line: string, sample: number) => {
    const record = JSON.parse(line) as Record<string, unknown> & { stats: Record<string, unknown>; trajectory: Record<string, unknown> };
    return JSON.stringify({ ...record, sample, correct: false, stats: { ...record.stats, infraFailure: true }, trajectory: { ...record.trajectory, infraFailure: true, status: 'error' } });
  };
  appendFileSync(results, `${legacy(lines[0] ?? '', 7)}\n${legacy(lines[1] ?? '', 0)}\n`);
  const read = readResults(results);
  assert.equal(read.records.length, good.length);
  assert.equal(read.infraFailures.length, 1, 'a scored record wins over an unscored repeat of its sample');
  const { summary, paths } = writeReport(out);
  assert.equal(summary.averageAccuracy, 1, 'left out, not counted wrong');
  assert.equal(summary.infraFailuresLeftOut, 1);
  assert.equal(summary.benchmarks[0]?.infraFailuresLeftOut, 1);
  assert.match(readFileSync(paths.markdown, 'utf8'), /1 sample was left out: an infrastructure failure/);
  assert.match(readFileSync(paths.html, 'utf8'), /1 sample was left out/);
  const comparison = compareRuns([out, out]);
  assert.equal(comparison.benchmarks[0]?.runs[0]?.accuracy.estimate, 1);
  assert.match(comparison.runs[0]?.caveats.join(' ') ?? '', /left out/);
});
