// `cir export` and `cir solve --engine llamacpp:FILE.gguf` end to end, through the built CLI.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from '../testing/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cir-export-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const gguf = join(dir, 'warm-start.gguf');

test('cir export writes the GGUF file and the Hugging Face folder; bad arguments are refused', async () => {
  const written = await runCli('export', 'assets/checkpoints/warm-start', '--format', 'gguf', '--out', gguf, '--json');
  assert.equal(written.status, 0, written.stderr);
  assert.deepEqual(JSON.parse(written.stdout), { format: 'gguf', out: gguf, parameters: 430944, context_window: 384, prompt_template: 'Q: {problem}\nA: ' });
  const hf = join(dir, 'hf');
  assert.equal((await runCli('export', 'assets/checkpoints/warm-start', '--format', 'hf', '--out', hf)).status, 0);
  assert.deepEqual(readdirSync(hf).sort(), ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
  const bad = await runCli('export', 'assets/checkpoints/warm-start', '--format', 'onnx', '--out', join(dir, 'x'));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--format must be gguf or hf/);
  assert.ok(!existsSync(join(dir, 'x')));
});

test('cir solve at temperature 0: llamacpp:FILE.gguf gives the trajectory tokens of --engine embedded', async () => {
  assert.ok(existsSync(gguf), 'the export test ran first');
  const problem = 'What is 45+67?';
  const [llama, embedded] = await Promise.all([
    runCli('solve', problem, '--engine', `llamacpp:${gguf}`, '--temperature', '0', '--json'),
    runCli('solve', problem, '--engine', 'embedded', '--temperature', '0', '--json'),
  ]);
  assert.equal(llama.status, 0, llama.stderr);
  assert.equal(embedded.status, 0, embedded.stderr);
  const segments = (out: string) => (JSON.parse(out) as { segments: { origin: string; tokens: number[] }[] }).segments.map((s) => [s.origin, s.tokens]);
  assert.deepEqual(segments(llama.stdout), segments(embedded.stdout));
  assert.ok(segments(llama.stdout).length >= 2);
});

test('cir solve refuses a prompt that does not fit the context window, naming both sizes', async () => {
  const result = await runCli('solve', 'x'.repeat(400), '--engine', `llamacpp:${gguf}`, '--json');
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /the prompt is 407 tokens; the model's context window is 384 tokens/);
});

test('cir eval --engine llamacpp:FILE.gguf completes with a record per sample, asked in the tasks format', async () => {
  const out = join(dir, 'run');
  const result = await runCli('eval', '--engine', `llamacpp:${gguf}`, '--benchmark', '../shared/datasets/smoke_arith.jsonl', '--limit', '4', '--samples', '2', '--out', out, '--json');
  assert.equal(result.status, 0, result.stderr);
  const records = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { problem_id: string; sample: number; trajectory: { segments: { origin: string; text: string }[] } });
  assert.equal(records.length, 8);
  assert.deepEqual(new Set(records.map((r) => `${r.problem_id}/${r.sample}`)).size, 8);
  for (const record of records) assert.match(record.trajectory.segments[0]!.text, /^Q: What is .*\?\nA: $/);
});

test('cir eval refuses, before running anything, a prompt that does not fit the context window', async () => {
  const benchmark = join(dir, 'long.jsonl');
  writeFileSync(benchmark, `${JSON.stringify({ id: 'long-1', problem: `What is ${'1+'.repeat(200)}1?`, answer: '201' })}\n`);
  const out = join(dir, 'run-long');
  const result = await runCli('eval', '--engine', `llamacpp:${gguf}`, '--benchmark', benchmark, '--out', out);
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /problem long-1 is 417 tokens; the model's context window is 384 tokens/);
  assert.ok(!existsSync(out));
});
