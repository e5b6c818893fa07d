/**
 * End to end: `cir eval` with the four preset benchmarks (Minerva, OlympiadBench, GPQA,
 * LiveCodeBench) read by name from ../shared/datasets, a scripted /v1/completions server, the real
 * Qwen3 tokenizer, the real sandbox (LiveCodeBench programs judged in it) and the benchmarks' own
 * graders; a code-integrated run and a direct (text-only) run, then report and compare. GPQA's
 * question text is looked up at test time and must appear nowhere in the run directory by default.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeVllm, type FakeRequest } from '../engines/testing/fake-vllm.js';
import { loadHfTokenizer } from '../tokenizers/index.js';
import { qwen3TokenizerDir } from '../tokenizers/testing/qwen3.js';
import type { Comparison } from './compare.js';
import type { RedactedSegment } from './presets.js';
import type { PresetSettings } from './protocol.js';
import { readResults, RESULTS_FILE, type SampleRecord } from './run-store.js';
import type { RunSummary } from './summary.js';

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = join(resolve(here, '..', '..'), '..', 'shared', 'datasets');
const LIMIT = 3;

function firstRecords(file: string): Record<string, unknown>[] {
  return readFileSync(join(dataDir, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(0, LIMIT)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const minerva = firstRecords('minerva_math.jsonl');
const olympiad = firstRecords('olympiadbench.jsonl');
const gpqa = firstRecords('gpqa_diamond.jsonl');
const lcb = firstRecords('livecodebench.jsonl');

/** Scripted answers per problem id, and whether each must be graded correct. */
const MATH_ANSWERS: Record<string, { text: string; correct: boolean }> = {
  'minerva-0': { text: '\\boxed{1.6 \\text{ cm}}', correct: true }, // unit ignored
  'minerva-1': { text: '\\boxed{4.47 \\times 10^{33}}', correct: false }, // outside the 1e-4 tolerance
  'minerva-2': { text: '\\boxed{41.8^{\\circ}}', correct: true }, // an alt_answers spelling
  'olympiadbench-1606': { text: '\\boxed{2}', correct: true },
  'olympiadbench-1610': { text: '\\boxed{\\frac{1}{2(n+1)}}', correct: true }, // equivalent expression
  'olympiadbench-1612': { text: '\\boxed{2^{1008}}', correct: false },
};

const LETTERS = ['A', 'B', 'C', 'D'];
/** GPQA: right letter as `Answer: X`, a wrong one in a box, the right one in an "answer is (X)" phrase. */
function gpqaAnswer(index: number, answer: string): { text: string; correct: boolean } {
  if (index === 1) return { text: `\\boxed{${LETTERS[(LETTERS.indexOf(answer) + 1) % 4]}}`, correct: false };
  return { text: index === 0 ? `Reasoning done.\nAnswer: ${answer}` : `So the answer is (${answer}).`, correct: true };
}

/** LiveCodeBench programs for the first three problems: right, wrong, right. */
const PROGRAMS: Record<string, { method: string; program: string; correct: boolean }> = {
  '2777': {
    method: 'distinctDifferenceArray',
    program: 'class Solution:\n    def distinctDifferenceArray(self, nums: List[int]) -> List[int]:\n        return [len(set(nums[:i + 1])) - len(set(nums[i + 1:])) for i in range(len(nums))]',
    correct: true,
  },
  '2779': {
    method: 'colorTheArray',
    program: 'class Solution:\n    def colorTheArray(self, n: int, queries: List[List[int]]) -> List[int]:\n        return [0] * len(queries)',
    correct: false,
  },
  '2727': {
    method: 'countSeniors',
    program: 'class Solution:\n    def countSeniors(self, details: List[str]) -> int:\n        return sum(int(d[11:13]) > 60 for d in details)',
    correct: true,
  },
};

function expectedCorrect(benchmark: string, problemId: string): boolean {
  if (benchmark === 'livecodebench') return PROGRAMS[problemId]?.correct ?? false;
  if (benchmark === 'gpqa') {
    const index = gpqa.findIndex((r) => r['id'] === problemId);
    return gpqaAnswer(index, String(gpqa[index]?.['answer'])).correct;
  }
  return MATH_ANSWERS[problemId]?.correct ?? false;
}

/** The scripted model: recognises each problem from its prompt and answers as planned above. */
function respond(request: FakeRequest): string {
  const prompt = request.promptText;
  const outputs = prompt.split('```output\n').length - 1; // tool feedback (the LCB prompt mentions ```output too)
  if (prompt.includes('### Question:')) {
    const entry = Object.values(PROGRAMS).find((p) => prompt.includes(`def ${p.method}`));
    if (!entry) return 'I cannot solve this.';
    const program = `from typing import List\n${entry.program}`;
    if (!prompt.includes('### Tools:')) return `Here is my program.\n\`\`\`python\n${program}\n\`\`\`\n`;
    // Code-integrated: try it on the examples, then give the final program, then stop.
    if (outputs === 0) return `Let me try it first.\n\`\`\`python\n${program}\nprint("tried")\n\`\`\`\n`;
    if (outputs === 1) return `It runs. Final program:\n\`\`\`python\n${program}\n\`\`\`\n`;
    return 'Done.';
  }
  const index = gpqa.findIndex((r) => prompt.includes(String(r['problem']).trim()));
  if (index >= 0) return gpqaAnswer(index, String(gpqa[index]?.['answer'])).text;
  const math = [...minerva, ...olympiad].find((r) => prompt.includes(String(r['problem'])));
  return `The computation gives ${MATH_ANSWERS[String(math?.['id'])]?.text ?? '\\boxed{0}'}.`;
}

const tokenizer = await loadHfTokenizer(qwen3TokenizerDir());
const fake = await startFakeVllm({ tokenizer, respond, chunkTokens: 16 });
after(() => fake.close());

const mainPath = fileURLToPath(new URL(`../cli/main.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url));
const nodeArgs = import.meta.url.endsWith('.ts') ? ['--import', 'tsx', mainPath] : [mainPath];

function cir(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...nodeArgs, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((done) => child.on('close', (code) => done({ code, stdout, stderr })));
}

/** Every file of a directory tree with its text. */
function filesUnder(dir: string): { path: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      return { path, text: readFileSync(path, 'utf8') };
    });
}

/** The confidential strings of the first GPQA records: question, and choices long enough to be telling. */
function gpqaSecrets(): string[] {
  return gpqa.flatMap((r) => [String(r['problem']).trim(), ...(r['choices'] as string[]).map((c) => c.trim()).filter((c) => c.length >= 12)]);
}

/** Does `text` contain `secret` as is, or as it appears inside a JSON string? */
function leaks(text: string, secret: string): boolean {
  const probe = (s: string) => s.slice(0, 80);
  return text.includes(probe(secret)) || text.includes(probe(JSON.stringify(secret).slice(1, -1)));
}

const root = mkdtempSync(join(tmpdir(), 'cir-eval-presets-'));
const codeRun = join(root, 'code');
const textRun = join(root, 'text');
const base = ['eval', '--engine', fake.url, '--model', 'fake', '--tokenizer', qwen3TokenizerDir(), '--data-dir', dataDir, '--limit', String(LIMIT), '--max-tokens', '512'];

function checkVerdicts(records: readonly SampleRecord[]): void {
  for (const r of records) {
    assert.equal(r.correct, expectedCorrect(r.benchmark, r.problem_id), `${r.benchmark} ${r.problem_id}: ${JSON.stringify(r.verdict).slice(0, 300)}`);
  }
}

test('code-integrated run of minerva, olympiadbench, gpqa and livecodebench by name: item prompts and graders, LCB in the sandbox, GPQA text kept out', async () => {
  const run = await cir([...base, '--benchmark', 'minerva,olympiadbench,gpqa,livecodebench', '--samples', '2', '--concurrency', '4', '--out', codeRun, '--json']);
  assert.equal(run.code, 0, run.stderr);
  const { records } = readResults(join(codeRun, RESULTS_FILE));
  assert.equal(records.length, 4 * LIMIT * 2);
  assert.deepEqual([...new Set(records.map((r) => r.benchmark))].sort(), ['gpqa', 'livecodebench', 'minerva', 'olympiadbench']);
  checkVerdicts(records);

  // Prompts come from the specs: the CIR instruction for math, the GPQA letter request, the LCB tool rules.
  const promptOf = (r: SampleRecord) => r.trajectory.segments[0]?.text ?? '';
  const minervaRecord = records.find((r) => r.benchmark === 'minerva');
  assert.match(promptOf(minervaRecord as SampleRecord), /write python code to enhance your reasoning[\s\S]*Magellan|Magellan|white dwarf/);
  for (const r of records.filter((x) => x.benchmark === 'livecodebench')) {
    assert.match(promptOf(r), /^You are an expert Python programmer[\s\S]*### Tools: [\s\S]*at most 5 times/);
    assert.equal(r.stats.toolCalls, 2, "the example run, then the final program (the engine runs every block)");
    assert.equal(r.trajectory.toolCalls[0]?.outcome.kind, 'ok');
    assert.match(r.trajectory.toolCalls[0]?.feedback ?? '', /tried/);
    const detail = r.verdict['detail'] as { tests: { outcome: string }[]; testsComplete: boolean };
    assert.equal(detail.testsComplete, false);
    assert.equal(detail.tests[0]?.outcome, r.correct ? 'passed' : 'wrong_answer');
    assert.equal(r.groups?.['difficulty'], lcb.find((p) => p['id'] === r.problem_id)?.['difficulty']);
  }

  // GPQA: prompt segments withheld (ids, lengths, hashes kept), nothing confidential anywhere on disk.
  for (const r of records.filter((x) => x.benchmark === 'gpqa')) {
    const segment = r.trajectory.segments[0] as RedactedSegment;
    assert.deepEqual(segment.tokens, []);
    assert.match(segment.text, new RegExp(`prompt of ${r.problem_id} withheld`));
    assert.ok(segment.redacted.tokens > 50 && segment.redacted.chars > 100);
    assert.match(segment.redacted.sha256, /^[0-9a-f]{64}$/);
    assert.ok(r.stats.promptTokens > 50, 'statistics count the prompt before it is withheld');
    assert.match(String(r.verdict.extracted), /^[ABCD]$/);
  }
  const files = filesUnder(codeRun);
  assert.deepEqual(files.map((f) => f.path.slice(codeRun.length + 1)).sort(), ['config.json', 'report.html', 'report.md', 'results.jsonl', 'summary.json']);
  for (const secret of gpqaSecrets()) {
    for (const file of files) assert.ok(!leaks(file.text, secret), `GPQA text found in ${file.path}`);
  }
  // The check can fail: the same search finds the (non-confidential) Minerva problem text.
  assert.ok(leaks(files.find((f) => f.path.endsWith(RESULTS_FILE))?.text ?? '', String(minerva[0]?.['problem'])));

  // Settings and caveats in config.json; per-benchmark metrics in summary and reports.
  const config = JSON.parse(readFileSync(join(codeRun, 'config.json'), 'utf8')) as { settings: { benchmarks: { name: string; preset?: PresetSettings }[] } };
  const presets = Object.fromEntries(config.settings.benchmarks.map((b) => [b.name, b.preset]));
  assert.equal(presets['gpqa']?.confidential, true);
  assert.equal(presets['gpqa']?.storeConfidentialText, false);
  assert.equal(presets['livecodebench']?.promptMode, 'code');
  assert.deepEqual(presets['livecodebench']?.judge, { timeoutMs: 6000, memoryMb: 2048 });
  assert.match(presets['livecodebench']?.caveats[0] ?? '', /not comparable with published LiveCodeBench numbers \(3 of 3 problems/);
  assert.deepEqual(presets['minerva']?.caveats, []);

  const summary = JSON.parse(run.stdout) as RunSummary;
  const byName = Object.fromEntries(summary.benchmarks.map((b) => [b.name, b]));
  for (const name of ['minerva', 'olympiadbench', 'gpqa', 'livecodebench']) assert.ok(Math.abs((byName[name]?.accuracy.estimate ?? 0) - 2 / 3) < 1e-9, name);
  const lcbSummary = byName['livecodebench']?.preset?.lcb;
  assert.equal(lcbSummary?.comparableWithPublishedLcb, false);
  assert.equal(lcbSummary?.byGroup['difficulty']?.['easy']?.passAt['pass@1'], 1);
  assert.equal(lcbSummary?.byGroup['difficulty']?.['medium']?.passAt['pass@1'], 0);
  assert.equal(lcbSummary?.byGroup['month']?.['2023-05']?.passAt['pass@2'], 2 / 3);
  assert.ok(summary.caveats.some((c) => c.startsWith('livecodebench: LiveCodeBench graded on public tests only')));
  for (const report of ['report.md', 'report.html']) {
    const text = readFileSync(join(codeRun, report), 'utf8');
    assert.match(text, /not comparable with published LiveCodeBench numbers/, report);
    assert.match(text, /pass@k by difficulty/, report);
    assert.match(text, /pass@k by contest month/, report);
    assert.match(text, /names problems by id only/, report);
  }
  const md = readFileSync(join(codeRun, 'report.md'), 'utf8');
  assert.match(md, /\| gpqa \| gpqa-diamond-\w+ \| \d \| [ABCD] \| [ABCD] \| \(withheld: confidential benchmark\) \|/);
});

test('direct (text-only) run of gpqa and livecodebench, with the opt-in to store GPQA text; compare shows LCB pass@1 and the caveat', async () => {
  const run = await cir([...base, '--benchmark', 'gpqa,livecodebench', '--samples', '1', '--text-only', '--store-confidential-text', '--out', textRun]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /caveat: livecodebench: LiveCodeBench graded on public tests only/);
  const { records } = readResults(join(textRun, RESULTS_FILE));
  assert.equal(records.length, 2 * LIMIT);
  checkVerdicts(records);
  for (const r of records) assert.equal(r.stats.toolCalls, 0);
  const lcbPrompt = records.find((r) => r.benchmark === 'livecodebench')?.trajectory.segments[0]?.text ?? '';
  assert.match(lcbPrompt, /### Answer: \(use the provided format with backticks\)/);
  assert.doesNotMatch(lcbPrompt, /### Tools:/);
  // Opted in: the prompt is stored (so the default run's absence of it is the redaction's doing)...
  const results = readFileSync(join(textRun, RESULTS_FILE), 'utf8');
  assert.ok(gpqaSecrets().slice(0, 1).every((s) => leaks(results, s)));
  assert.match(records.find((r) => r.benchmark === 'gpqa')?.trajectory.segments[0]?.text ?? '', /Answer the following multiple choice question/);
  // ...but reports still show ids only.
  for (const report of ['report.md', 'report.html', 'summary.json']) {
    const text = readFileSync(join(textRun, report), 'utf8');
    for (const secret of gpqaSecrets()) assert.ok(!leaks(text, secret), `GPQA text in ${report}`);
  }

  const json = await cir(['compare', codeRun, textRun, '--labels', 'code,text', '--json']);
  assert.equal(json.code, 0, json.stderr);
  const comparison = JSON.parse(json.stdout) as Comparison;
  const gpqaRow = comparison.benchmarks.find((b) => b.benchmark === 'gpqa');
  assert.equal(gpqaRow?.differences[1]?.pairs, LIMIT);
  assert.equal(gpqaRow?.differences[1]?.estimate, 0);
  const lcbRow = comparison.benchmarks.find((b) => b.benchmark === 'livecodebench');
  assert.equal(lcbRow?.presets[1]?.lcb?.overall.passAt['pass@1'], 2 / 3);
  assert.ok(comparison.runs.every((r) => r.caveats.some((c) => /not comparable with published LiveCodeBench numbers/.test(c))));
  const markdown = await cir(['compare', codeRun, textRun, '--labels', 'code,text']);
  assert.match(markdown.stdout, /\| livecodebench pass@1 \| code \| text \|/);
  assert.match(markdown.stdout, /\| difficulty medium \| 0\.0 \| 0\.0 \|/);
  assert.match(markdown.stdout, /- text: livecodebench: LiveCodeBench graded on public tests only: not comparable/);
});
