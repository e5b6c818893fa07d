import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import type { Trajectory } from '../core/trajectory.js';
import type { Benchmark } from '../datasets/index.js';
import { CIR_INSTRUCTION, TEXT_INSTRUCTION } from '../prompts/index.js';
import { renderPrompt, resolveSettings, sampleSeed } from './protocol.js';
import { openRun, readResults, RESULTS_FILE } from './run-store.js';
import { listTasks, runEvaluation, SampleFailedError, type SolveFunction } from './runner.js';
import { summarize } from './summary.js';

const benchmark: Benchmark = {
  name: 'toy',
  source: 'memory',
  duplicatesMerged: 0,
  problems: [
    { id: 'p1', problem: 'What is 1+1?', answer: '2', subject: 'Algebra', level: '1' },
    { id: 'p2', problem: 'What is 2+2?', answer: '4', subject: 'Geometry', level: '2' },
    { id: 'p3', problem: 'What is 3+3?', answer: '6', subject: 'Algebra', level: '2' },
  ],
};

function trajectory(text: string): Trajectory {
  return {
    segments: [
      { origin: 'prompt', tokens: [1, 2], text: 'prompt' },
      { origin: 'policy', tokens: Array.from({ length: text.length }, (_, i) => i), text },
    ],
    toolCalls: [],
    status: 'finished',
    infraFailure: false,
  };
}

/** Answers p1 always right, p2 right on even samples, p3 always wrong. */
const solve: SolveFunction = async (task) => {
  await new Promise((r) => setTimeout(r, task.sample % 3));
  const right = task.problem.id === 'p1' || (task.problem.id === 'p2' && task.sample % 2 === 0);
  const answer = right ? task.problem.answer : '0';
  return { trajectory: trajectory(`\\boxed{${answer}}`), responseText: `\\boxed{${answer}}` };
};

const grade = (problem: { answer: string }, response: string) => {
  const extracted = /\\boxed\{([^}]*)\}/.exec(response)?.[1] ?? null;
  return { correct: extracted === problem.answer, reason: 'boxed', extracted };
};

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'cir-eval-run-'));
}

test('cir-paper preset: MATH500 greedy, others 16 samples at T=1 top-p 0.95, 5 calls, 16384 tokens', () => {
  const settings = resolveSettings('cir-paper', [
    { name: 'math500', spec: 'math500' },
    { name: 'aime24', spec: 'aime24' },
  ]);
  assert.equal(settings.maxToolCalls, 5);
  assert.equal(settings.promptFormat, 'raw');
  assert.deepEqual(
    settings.benchmarks.map((b) => [b.name, b.samples, b.temperature, b.topP, b.maxTokensPerCall]),
    [
      ['math500', 1, 0, 1, 16384],
      ['aime24', 16, 1, 0.95, 16384],
    ],
  );
  const prompt = renderPrompt({ problem: 'Find $x$ where $x = $1.' }, settings);
  assert.deepEqual(prompt, { format: 'raw', text: `${CIR_INSTRUCTION}\nFind $x$ where $x = $1.` });
  const text = resolveSettings('cir-paper', [{ name: 'aime24', spec: 'aime24' }], { mode: 'text', samples: 4, promptFormat: 'chat' });
  assert.equal(text.maxToolCalls, 0);
  assert.equal(text.benchmarks[0]?.samples, 4);
  assert.deepEqual(renderPrompt({ problem: 'Q', choices: ['a', 'b'] }, text), {
    format: 'chat',
    messages: [{ role: 'user', content: `${TEXT_INSTRUCTION}\nQ\n\nOptions:\nA. a\nB. b` }],
  });
  assert.throws(() => resolveSettings('nope', []), InputError);
  assert.throws(() => resolveSettings('cir-paper', [{ name: 'a', spec: 'a' }], { topP: 0 }), /top-p/);
  assert.throws(() => resolveSettings('cir-paper', [{ name: 'a', spec: 'a' }], { mode: 'text', maxToolCalls: 2 }), /text mode/);
  assert.notEqual(sampleSeed(42, 'a', 'p', 0), sampleSeed(42, 'a', 'p', 1));
  assert.equal(sampleSeed(42, 'a', 'p', 0), sampleSeed(42, 'a', 'p', 0));
});

test('a run appends one record per sample, and the summary reflects them', async () => {
  const dir = scratch();
  const settings = resolveSettings('cir-paper', [{ name: 'toy', spec: 'toy' }], { samples: 4 });
  const run = openRun(dir, settings, { resume: false });
  const seen: number[] = [];
  const outcome = await runEvaluation({
    benchmarks: [benchmark],
    settings,
    solve,
    grade,
    writer: run.writer,
    existing: run.existing.records,
    concurrency: 3,
    onRecord: (_record, progress) => seen.push(progress.done),
  });
  run.writer.close();
  assert.deepEqual(outcome, { total: 12, skipped: 0, completed: 12, correct: 6 });
  assert.deepEqual(seen, Array.from({ length: 12 }, (_, i) => i + 1));
  const { records } = readResults(join(dir, RESULTS_FILE));
  assert.equal(records.length, 12);
  const summary = summarize(run.config, records, { seed: 5 });
  const toy = summary.benchmarks[0];
  assert.ok(toy);
  assert.equal(toy.accuracy.estimate, 0.5); // (1 + 0.5 + 0) / 3
  const expectedPass = [
    [1, 0.5],
    [2, (1 + (1 - 1 / 6) + 0) / 3], // p2: n=4 c=2 → 1 - C(2,2)/C(4,2)
    [4, 2 / 3],
  ];
  assert.equal(toy.passAtK.length, expectedPass.length);
  for (const [i, [k, value]] of expectedPass.entries()) {
    assert.equal(toy.passAtK[i]?.k, k);
    assert.ok(Math.abs((toy.passAtK[i]?.value ?? NaN) - (value ?? NaN)) < 1e-12, `pass@${k}`);
  }
  // p1 always '2' (right); p2 alternates '4','0' so every k ties or leads with '4' first (right); p3 '0' (wrong)
  assert.deepEqual(
    toy.majAtK.map((p) => [p.k, p.value]),
    [
      [1, 2 / 3],
      [2, 2 / 3],
      [4, 2 / 3],
    ],
  );
  assert.deepEqual(
    toy.bySubject.map((s) => [s.key, s.accuracy]),
    [
      ['Algebra', 0.5],
      ['Geometry', 0.5],
    ],
  );
  assert.equal(toy.efficiency.statuses['finished'], 12);
});

test('resume after a torn last line: nothing lost, nothing duplicated; settings must match', async () => {
  const dir = scratch();
  const settings = resolveSettings('cir-paper', [{ name: 'toy', spec: 'toy' }], { samples: 4 });
  const first = openRun(dir, settings, { resume: false });
  const controller = new AbortController();
  let count = 0;
  await runEvaluation({
    benchmarks: [benchmark],
    settings,
    solve,
    grade,
    writer: first.writer,
    existing: [],
    concurrency: 1,
    signal: controller.signal,
    onRecord: () => {
      if (++count === 5) controller.abort();
    },
  });
  first.writer.close();
  // Simulate a kill in the middle of writing the sixth record.
  appendFileSync(join(dir, RESULTS_FILE), '{"benchmark":"toy","problem_id":"p2","sam');
  const torn = readResults(join(dir, RESULTS_FILE));
  assert.equal(torn.records.length, 5);
  assert.ok(torn.tornBytes > 0);

  assert.throws(() => openRun(dir, settings, { resume: false }), /pass --resume/);
  const changed = resolveSettings('cir-paper', [{ name: 'toy', spec: 'toy' }], { samples: 8 });
  assert.throws(() => openRun(dir, changed, { resume: true }), /settings\.benchmarks\.0\.samples: 4 → 8/);

  const second = openRun(dir, settings, { resume: true });
  assert.equal(second.config.resumedAt.length, 1);
  const outcome = await runEvaluation({
    benchmarks: [benchmark],
    settings,
    solve,
    grade,
    writer: second.writer,
    existing: second.existing.records,
    concurrency: 2,
  });
  second.writer.close();
  assert.equal(outcome.skipped, 5);
  assert.equal(outcome.completed, 7);
  const final = readResults(join(dir, RESULTS_FILE));
  assert.equal(final.tornBytes, 0);
  assert.equal(final.duplicates, 0);
  const keys = final.records.map((r) => `${r.problem_id}/${r.sample}`).sort();
  assert.deepEqual(keys, ['p1/0', 'p1/1', 'p1/2', 'p1/3', 'p2/0', 'p2/1', 'p2/2', 'p2/3', 'p3/0', 'p3/1', 'p3/2', 'p3/3']);
  assert.ok(readFileSync(join(dir, RESULTS_FILE), 'utf8').endsWith('\n'));
});

test('a failing sample stops the run with a typed error and writes nothing for it', async () => {
  const dir = scratch();
  const settings = resolveSettings('cir-paper', [{ name: 'toy', spec: 'toy' }], { samples: 2 });
  const run = openRun(dir, settings, { resume: false });
  const failing: SolveFunction = async (task, signal) => {
    if (task.problem.id === 'p2') throw new Error('engine unreachable');
    return solve(task, signal);
  };
  await assert.rejects(
    runEvaluation({ benchmarks: [benchmark], settings, solve: failing, grade, writer: run.writer, existing: [], concurrency: 1 }),
    (e: unknown) => e instanceof SampleFailedError && e.problemId === 'p2' && /engine unreachable/.test(e.message),
  );
  run.writer.close();
  const { records } = readResults(join(dir, RESULTS_FILE));
  assert.deepEqual(records.map((r) => r.problem_id), ['p1', 'p1']);
});

test('a corrupt line in the middle of results is an error naming the line', () => {
  const dir = scratch();
  writeFileSync(join(dir, RESULTS_FILE), '{"benchmark":"toy"}\n');
  assert.throws(() => readResults(join(dir, RESULTS_FILE)), /line 1: field "problem_id" must be a string/);
  writeFileSync(join(dir, RESULTS_FILE), 'garbage\n{}\n');
  assert.throws(() => readResults(join(dir, RESULTS_FILE)), /line 1: not valid JSON/);
});

test('tasks are listed per benchmark, problem and sample with stable seeds', () => {
  const settings = resolveSettings('cir-paper', [{ name: 'toy', spec: 'toy' }], { samples: 2, seed: 9 });
  const tasks = listTasks([benchmark], settings);
  assert.equal(tasks.length, 6);
  assert.equal(tasks[3]?.problem.id, 'p2');
  assert.equal(tasks[3]?.sample, 1);
  assert.equal(tasks[3]?.seed, sampleSeed(9, 'toy', 'p2', 1));
});
