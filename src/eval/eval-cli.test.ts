/**
 * End to end: `cir eval` as a child process against a local scripted /v1/completions server (real
 * Qwen3 tokenizer, real sandbox, real grader), killed with SIGKILL mid-run and resumed with --resume;
 * then `cir report`, `cir compare` against a text-only run.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeVllm, type FakeRequest } from '../engines/testing/fake-vllm.js';
import { loadHfTokenizer } from '../tokenizers/index.js';
import { qwen3TokenizerDir } from '../tokenizers/testing/qwen3.js';
import { readResults, RESULTS_FILE } from './run-store.js';
import type { RunSummary } from './summary.js';

const tokenizer = await loadHfTokenizer(qwen3TokenizerDir());

/** The scripted model: computes a+b with Python, answers right for even a, wrong (off by one) otherwise. */
function respond(request: FakeRequest): string {
  const match = /What is (\d+) \+ (\d+)\?/.exec(request.promptText);
  const a = Number(match?.[1] ?? 0);
  const b = Number(match?.[2] ?? 0);
  if (!request.promptText.includes('```output')) {
    if (request.promptText.includes('write python code')) return `Let me compute <script>x</script>.\n\`\`\`python\nprint(${a} + ${b})\n\`\`\`\nignored tail`;
    return `Adding gives \\boxed{${a % 2 === 0 ? a + b : a + b + 1}}.`;
  }
  return `So the answer is \\boxed{${a % 2 === 0 ? a + b : a + b + 1}}.`;
}

const fake = await startFakeVllm({ tokenizer, respond, chunkDelayMs: 2, chunkTokens: 2 });
after(() => fake.close());

const mainPath = fileURLToPath(new URL(`../cli/main.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url));
const nodeArgs = import.meta.url.endsWith('.ts') ? ['--import', 'tsx', mainPath] : [mainPath];

function cir(args: string[]): ChildProcess {
  return spawn(process.execPath, [...nodeArgs, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CIR_DATA_DIR: '' } });
}

/**
 * Output and exit of a child. A SIGKILLed `cir` cannot close its sandbox, whose processes may hold the
 * pipes a while longer, so `onExit` resolves on the process's own exit instead of its streams' close.
 */
function finished(child: ChildProcess, onExit = false): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on(onExit ? 'exit' : 'close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

function countLines(path: string): number {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').length : 0;
}

const dir = mkdtempSync(join(tmpdir(), 'cir-eval-e2e-'));
const benchmarkPath = join(dir, 'sums.jsonl');
writeFileSync(
  benchmarkPath,
  Array.from({ length: 8 }, (_, i) => JSON.stringify({ id: `s${i}`, problem: `What is ${i} + ${10 * i}?`, answer: String(11 * i), subject: i < 4 ? 'small' : 'large' })).join('\n') + '\n',
);
const common = ['eval', '--engine', fake.url, '--model', 'fake', '--tokenizer', qwen3TokenizerDir(), '--benchmark', benchmarkPath, '--samples', '3', '--concurrency', '2', '--max-tokens', '256'];

test('cir eval killed mid-run and resumed: every sample exactly once, then a report', async () => {
  const out = join(dir, 'code-run');
  const results = join(out, RESULTS_FILE);
  const first = cir([...common, '--out', out]);
  const firstDone = finished(first, true);
  // Kill without warning once some samples are written, while others are in flight.
  while (countLines(results) < 5) {
    if (first.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  first.kill('SIGKILL');
  const killed = await firstDone;
  assert.equal(killed.signal, 'SIGKILL', `the first run finished before the kill: ${killed.stderr}`);
  const partial = readResults(results);
  assert.ok(partial.records.length >= 5 && partial.records.length < 24, `${partial.records.length} records before the kill`);

  const refused = await finished(cir([...common, '--out', out]));
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /pass --resume/);

  const second = await finished(cir([...common, '--out', out, '--resume', '--json']));
  assert.equal(second.code, 0, second.stderr);
  const final = readResults(results);
  assert.equal(final.duplicates, 0);
  assert.equal(final.tornBytes, 0);
  assert.equal(final.records.length, 24);
  const keys = new Set(final.records.map((r) => `${r.problem_id}/${r.sample}`));
  assert.equal(keys.size, 24);
  // Records written before the kill are kept byte for byte.
  const before = partial.records.map((r) => JSON.stringify(r));
  assert.deepEqual(final.records.slice(0, before.length).map((r) => JSON.stringify(r)), before);

  for (const record of final.records) {
    assert.equal(record.stats.toolCalls, 1);
    assert.equal(record.trajectory.toolCalls[0]?.outcome.kind, 'ok');
    assert.equal(record.trajectory.segments[0]?.origin, 'prompt');
    const index = Number(record.problem_id.slice(1));
    assert.equal(record.correct, index % 2 === 0, `${record.problem_id}: ${JSON.stringify(record.verdict)}`);
  }
  const summary = JSON.parse(second.stdout) as RunSummary;
  assert.equal(summary.benchmarks[0]?.accuracy.estimate, 0.5);
  assert.equal(summary.benchmarks[0]?.errorFeedback.noFailures.count, 24);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { settings: { protocol: string; maxToolCalls: number }; resumedAt: string[] };
  assert.equal(config.settings.protocol, 'cir-paper');
  assert.equal(config.settings.maxToolCalls, 5);
  assert.equal(config.resumedAt.length, 1);
  for (const file of ['summary.json', 'report.md', 'report.html']) assert.ok(statSync(join(out, file)).size > 100, file);
  assert.doesNotMatch(readFileSync(join(out, 'report.html'), 'utf8'), /<script/);

  const report = await finished(cir(['report', out, '--json']));
  assert.equal(report.code, 0, report.stderr);
  assert.equal((JSON.parse(report.stdout) as RunSummary).samples, 24);
});

test('text-only run and compare: code vs text with a paired difference', async () => {
  const out = join(dir, 'text-run');
  const text = await finished(cir([...common, '--out', out, '--text-only']));
  assert.equal(text.code, 0, text.stderr);
  const { records } = readResults(join(out, RESULTS_FILE));
  assert.equal(records.length, 24);
  assert.ok(records.every((r) => r.stats.toolCalls === 0));
  const compare = await finished(cir(['compare', join(dir, 'code-run'), out, '--labels', 'code,text', '--json']));
  assert.equal(compare.code, 0, compare.stderr);
  const comparison = JSON.parse(compare.stdout) as { benchmarks: { differences: ({ estimate: number; pairs: number } | null)[] }[] };
  assert.equal(comparison.benchmarks[0]?.differences[1]?.pairs, 8);
  assert.equal(comparison.benchmarks[0]?.differences[1]?.estimate, 0);
});

test('cir eval --boundary stop-strings: a block closed without a stop string is not run (the precise run above ran each), and the run records it', async () => {
  const out = join(dir, 'stop-strings-run');
  const run = await finished(cir([...common, '--out', out, '--boundary', 'stop-strings', '--limit', '2', '--samples', '1']));
  assert.equal(run.code, 0, run.stderr);
  const { records } = readResults(join(out, RESULTS_FILE));
  assert.equal(records.length, 2);
  // The scripted turn ends "```\nignored tail": no "```output" nor "```\n\n", so the turn ends unrun and unanswered.
  for (const record of records) {
    assert.equal(record.stats.toolCalls, 0);
    assert.equal(record.correct, false);
  }
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { settings: { boundary?: string } };
  assert.equal(config.settings.boundary, 'stop-strings');
  const resumedPrecise = await finished(cir([...common, '--out', out, '--limit', '2', '--samples', '1', '--resume']));
  assert.equal(resumedPrecise.code, 2);
  assert.match(resumedPrecise.stderr, /boundary/);
  const bad = await finished(cir([...common, '--out', join(dir, 'bad-boundary'), '--boundary', 'fences']));
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--boundary must be one of precise, stop-strings, got "fences"/);
});
