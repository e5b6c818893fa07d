import { test } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lcbItem, type LcbProblem } from '../benchmarks/index.js';
import { InputError } from '../core/errors.js';
import type { CodeExecutor, ExecutionOutcome } from '../core/execution.js';
import type { Trajectory } from '../core/trajectory.js';
import { loadBenchmark, presetTarget } from '../datasets/index.js';
import { gradeItem, GradingInfraError, presetSettings, redactPrompt, renderItemPrompt, type RedactedSegment } from './presets.js';
import { resolveSettings } from './protocol.js';
import { openRun, readResults, RESULTS_FILE } from './run-store.js';
import { runEvaluation, SampleFailedError } from './runner.js';
import { createGrader, gradingText } from './wiring.js';

const scratch = () => mkdtempSync(join(tmpdir(), 'cir-presets-'));

/** A stdin problem: print the sum of two numbers. */
const sumProblem: LcbProblem = {
  id: 'sum_1',
  title: 'sum',
  problem: 'Read a and b, print a+b.',
  tests: [
    { input: '1 2\n', output: '3\n', type: 'stdin', public: true },
    { input: '2 2\n', output: '4\n', type: 'stdin', public: false },
  ],
  difficulty: 'easy',
  contestDate: '2024-08-03T00:00:00',
  platform: 'atcoder',
  contestId: 'abc1',
  testsComplete: false,
};

/** An executor whose first `failures` executions fail for infrastructure reasons; then it plays a+b (or `print(N)`). */
function flakyExecutor(failures: number): CodeExecutor & { calls: number } {
  const executor = {
    name: 'flaky',
    calls: 0,
    async execute(code: string, options?: { stdin?: string }): Promise<ExecutionOutcome> {
      executor.calls += 1;
      if (executor.calls <= failures) return { kind: 'infra_error', reason: 'worker died', durationMs: 1 };
      const constant = /print\((\d+)\)/.exec(code)?.[1];
      if (constant !== undefined) return { kind: 'ok', stdout: `${constant}\n`, stderr: '', durationMs: 1 };
      const [a, b] = (options?.stdin ?? '').trim().split(/\s+/).map(Number);
      return { kind: 'ok', stdout: `${(a ?? 0) + (b ?? 0)}\n`, stderr: '', durationMs: 1 };
    },
    openSession: () => Promise.reject(new Error('no sessions')),
    close: () => Promise.resolve(),
  };
  return executor;
}

const program = 'Here it is.\n```python\na, b = map(int, input().split())\nprint(a + b)\n```\n';

test('a sandbox failure while grading is retried, never counted wrong; one that persists is an error', async () => {
  const item = lcbItem(sumProblem, { judge: { infraAttempts: 1 } });
  const recovered = await gradeItem(item, program, { mode: 'text', executor: flakyExecutor(1), attempts: 3 });
  assert.equal(recovered.correct, true);
  assert.equal(recovered['grade_attempts'], 2);
  const broken = flakyExecutor(1000);
  await assert.rejects(gradeItem(item, program, { mode: 'text', executor: broken, attempts: 3 }), GradingInfraError);
  assert.equal(broken.calls, 3);
  // A wrong program is a wrong answer at the first attempt, not a retry.
  const wrongExecutor = flakyExecutor(0);
  const wrong = await gradeItem(item, '```python\nprint(0)\n```\n', { mode: 'text', executor: wrongExecutor, attempts: 3 });
  assert.equal(wrong.correct, false);
  assert.equal(wrong.reason, 'wrong_answer');
});

test('in a run, a sample whose grading keeps failing in the sandbox is not written, so --resume grades it again', async () => {
  const dir = scratch();
  const item = lcbItem(sumProblem, { judge: { infraAttempts: 1 } });
  const benchmark = { name: 'livecodebench', source: 'memory', duplicatesMerged: 0, problems: [{ id: item.id, problem: '', answer: '', item }] };
  const settings = resolveSettings('greedy', [{ name: 'livecodebench', spec: 'memory' }], { mode: 'text' });
  const trajectory: Trajectory = { segments: [{ origin: 'policy', tokens: [1], text: program }], toolCalls: [], status: 'finished', infraFailure: false };
  const run = openRun(dir, settings, { resume: false });
  await assert.rejects(
    runEvaluation({
      benchmarks: [benchmark],
      settings,
      solve: async () => ({ trajectory, responseText: program }),
      grade: createGrader(settings, { executor: flakyExecutor(1000), gradeAttempts: 2 }),
      writer: run.writer,
      existing: [],
      concurrency: 1,
    }),
    (error: unknown) => error instanceof SampleFailedError && error.cause instanceof GradingInfraError,
  );
  run.writer.close();
  assert.equal(readResults(join(dir, RESULTS_FILE)).records.length, 0);
});

test('prompt redaction keeps lengths and a hash, drops text and token ids, leaves the response alone', () => {
  const trajectory: Trajectory = {
    segments: [
      { origin: 'prompt', tokens: [5, 6, 7], text: 'Secret question?' },
      { origin: 'policy', tokens: [8], text: 'Answer: B' },
    ],
    toolCalls: [],
    status: 'finished',
    infraFailure: false,
  };
  const redacted = redactPrompt(trajectory, 'q-1', 'confidential');
  const prompt = redacted.segments[0] as RedactedSegment;
  assert.deepEqual(prompt.tokens, []);
  assert.equal(prompt.text, '[prompt of q-1 withheld: confidential]');
  assert.deepEqual(prompt.redacted, {
    reason: 'confidential',
    tokens: 3,
    chars: 16,
    sha256: createHash('sha256').update('Secret question?').digest('hex'),
  });
  const other = redactPrompt({ ...trajectory, segments: [{ origin: 'prompt', tokens: [1], text: 'Other question?' }] }, 'q-2', 'c');
  assert.notEqual((other.segments[0] as RedactedSegment).redacted.sha256, prompt.redacted.sha256);
  assert.deepEqual(redacted.segments[1], trajectory.segments[1]);
  assert.equal(JSON.stringify(redacted).includes('Secret'), false);
  assert.equal(trajectory.segments[0]?.text, 'Secret question?', 'the input is not modified');
});

test('item prompts: system message as a chat turn or before the raw text; mode picks direct or code-integrated', () => {
  const item = lcbItem(sumProblem, { maxToolCalls: 4 });
  const chat = renderItemPrompt(item, 'code', 'chat');
  assert.equal(chat.format, 'chat');
  if (chat.format === 'chat') {
    assert.deepEqual(chat.messages.map((m) => m.role), ['system', 'user']);
    assert.match(chat.messages[1]?.content ?? '', /at most 4 times/);
  }
  const raw = renderItemPrompt(item, 'text', 'raw');
  assert.equal(raw.format, 'raw');
  if (raw.format === 'raw') {
    assert.match(raw.text, /^You are an expert Python programmer[^\n]*\n\n### Question:\nRead a and b/);
    assert.doesNotMatch(raw.text, /### Tools:|2 2/, 'direct prompt, and no hidden test in it');
  }
});

test('preset names, NAME=PATH, files named after a benchmark; other files stay generic', async () => {
  const dir = scratch();
  const gpqaFile = join(dir, 'my-gpqa-copy.jsonl');
  writeFileSync(gpqaFile, `${JSON.stringify({ id: 'g1', problem: 'Made-up question?', choices: ['w', 'x', 'y', 'z'], answer: 'C' })}\n`);
  assert.deepEqual(presetTarget(`gpqa=${gpqaFile}`, undefined), { name: 'gpqa', path: gpqaFile });
  assert.deepEqual(presetTarget(gpqaFile, undefined), { name: 'gpqa', path: gpqaFile });
  assert.throws(() => presetTarget('lcb', dir), (e: unknown) => e instanceof InputError && /livecodebench\.jsonl/.test(e.message));
  assert.throws(() => presetTarget('gpqa_diamond', dir), (e: unknown) => e instanceof InputError && /gpqa_diamond\.jsonl/.test(e.message));
  assert.throws(() => presetTarget('minerva', undefined), InputError);
  assert.throws(() => presetTarget(`olympiadbench=${join(dir, 'missing.jsonl')}`, dir), InputError);
  assert.equal(presetTarget('math500', dir), undefined);
  const generic = join(dir, 'sums.jsonl');
  writeFileSync(generic, `${JSON.stringify({ id: 's', problem: '1+1', answer: '2' })}\n`);
  assert.equal(presetTarget(generic, dir), undefined);

  const benchmark = await loadBenchmark(`gpqa=${gpqaFile}`, { preset: { maxToolCalls: 5 } });
  assert.equal(benchmark.name, 'gpqa');
  assert.equal(benchmark.problems[0]?.problem, '', 'the question stays in the item');
  assert.equal(benchmark.problems[0]?.answer, 'C');
  const settings = resolveSettings('cir-paper', [{ name: 'gpqa', spec: gpqaFile }], { mode: 'text' });
  const preset = presetSettings(benchmark, settings, { maxToolCalls: 0, storeConfidentialText: false, gradeAttempts: 3 });
  assert.equal(preset?.confidential, true);
  assert.equal(preset?.promptMode, 'text');
  assert.equal(preset?.judge, undefined);
  const grade = await createGrader(settings)(benchmark.problems[0] as never, 'The answer is (C).');
  assert.equal(grade.correct, true);
  assert.equal(grade.extracted, 'C');
});

test('caveats cover the problems the run uses (--limit), and grading reads the response without the EOS marker', async () => {
  const dir = scratch();
  const file = join(dir, 'livecodebench-mini.jsonl');
  const record = (id: string, complete: boolean) =>
    JSON.stringify({ id, problem: 'p', tests: [{ input: '1 2\n', output: '3\n', type: 'stdin', public: true }], difficulty: 'easy', contest_date: '2024-08-03T00:00:00', tests_complete: complete });
  writeFileSync(file, `${record('a', true)}\n${record('b', false)}\n`);
  const benchmark = await loadBenchmark(file, { preset: { maxToolCalls: 3 } });
  const options = { maxToolCalls: 3, storeConfidentialText: false, gradeAttempts: 3 };
  const one = presetSettings(benchmark, { mode: 'code', problemLimit: 1 }, options);
  assert.deepEqual(one?.caveats, []);
  assert.deepEqual(one?.judge, { timeoutMs: 6000, memoryMb: 2048 });
  const both = presetSettings(benchmark, { mode: 'code', problemLimit: null }, options);
  assert.match(both?.caveats[0] ?? '', /not comparable with published LiveCodeBench numbers \(1 of 2 problems/);

  const tokenizer = { eosTokenId: 9, decode: (ids: readonly number[]) => (ids[0] === 9 ? '<|im_end|>' : '') };
  const trajectory = (tokens: number[]): Trajectory => ({ segments: [{ origin: 'policy', tokens, text: 'Answer: C<|im_end|>' }], toolCalls: [], status: 'finished', infraFailure: false });
  assert.equal(gradingText(trajectory([1, 9]), tokenizer), 'Answer: C');
  assert.equal(gradingText(trajectory([1, 2]), tokenizer), 'Answer: C<|im_end|>', 'text that merely looks like the marker stays');
});

/** pickle.dumps(text, protocol=4), written out by hand, as the Hub copy stores hidden tests (after zlib, base64). */
function pickledTests(tests: object[]): string {
  const utf = Buffer.from(JSON.stringify(tests), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(utf.length);
  const body = Buffer.concat([Buffer.from([0x58]), length, utf, Buffer.from([0x94, 0x2e])]);
  const frame = Buffer.alloc(8);
  frame.writeBigUInt64LE(BigInt(body.length));
  return deflateSync(Buffer.concat([Buffer.from([0x80, 4, 0x95]), frame, body])).toString('base64');
}

test('livecodebench=hub:RELEASE loads the complete tests from the Hub (local server): graded on hidden tests, no caveat', async () => {
  const row = {
    question_title: 'Sum',
    question_content: 'Read a and b, print a+b.',
    platform: 'atcoder',
    question_id: 'abc998_a',
    contest_id: 'abc998',
    contest_date: '2024-09-01T00:00:00',
    starter_code: '',
    difficulty: 'easy',
    public_test_cases: JSON.stringify([{ input: '1 2\n', output: '3\n', testtype: 'stdin' }]),
    private_test_cases: pickledTests([{ input: '2 2\n', output: '4\n', testtype: 'stdin' }]),
    metadata: '{}',
  };
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(request.url ?? '');
    if (request.url?.endsWith('/resolve/main/test.jsonl')) response.writeHead(200).end(`${JSON.stringify(row)}\n`);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const env = { HF_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    assert.throws(() => presetTarget('livecodebench=hub:release_v9', undefined), InputError);
    const benchmark = await loadBenchmark('livecodebench=hub:release_v1', { env, cacheDir: scratch(), preset: { maxToolCalls: 2 } });
    assert.equal(benchmark.name, 'livecodebench');
    assert.deepEqual(requests, ['/datasets/livecodebench/code_generation_lite/resolve/main/test.jsonl']);
    const preset = presetSettings(benchmark, { mode: 'text', problemLimit: null }, { maxToolCalls: 0, storeConfidentialText: false, gradeAttempts: 3 });
    assert.deepEqual(preset?.caveats, [], 'complete tests: comparable with published numbers');
    const problem = benchmark.problems[0];
    assert.equal(problem?.item?.groups['tests'], 'complete');
    assert.doesNotMatch(problem?.item?.prompt('code') ?? '', /2 2/, 'hidden tests are never in the prompt');
    // Right on the public example only: fails on the hidden test.
    const grade = createGrader({ lenientGrading: false, mode: 'text' }, { executor: flakyExecutor(0) });
    const publicOnly = await grade(problem as never, '```python\nprint(3)\n```\n');
    assert.equal(publicOnly.correct, false);
    assert.equal((publicOnly['detail'] as { failedTestIndex: number }).failedTestIndex, 1);
    assert.equal((await grade(problem as never, program)).correct, true);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
