import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { InputError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { TASK_FAMILIES } from './families.js';
import { generateTasks, generateTraces, programsForCheck, renderPrompt, splitOf } from './index.js';

test('train and test splits are disjoint and generation is reproducible by seed', () => {
  const train = generateTasks({ split: 'train', count: 2000, seed: 1 });
  const test_ = generateTasks({ split: 'test', count: 500, seed: 1 });
  const trainProblems = new Set(train.map((t) => t.problem));
  assert.ok(test_.every((t) => !trainProblems.has(t.problem)));
  assert.ok(test_.every((t) => splitOf(t.problem) === 'test') && train.every((t) => splitOf(t.problem) === 'train'));
  assert.deepEqual(generateTasks({ split: 'test', count: 50, seed: 4 }), generateTasks({ split: 'test', count: 50, seed: 4 }));
  assert.notDeepEqual(generateTasks({ split: 'test', count: 50, seed: 4 }), generateTasks({ split: 'test', count: 50, seed: 5 }));
});

test('every family and level is represented evenly and tasks carry their fields', () => {
  const tasks = generateTasks({ split: 'test', count: TASK_FAMILIES.length * 3 * 4, seed: 2 });
  for (const family of TASK_FAMILIES) {
    for (const level of [1, 2, 3]) {
      const matching = tasks.filter((t) => t.family === family.name && t.level === level);
      assert.equal(matching.length, 4, `${family.name} L${level}`);
      assert.ok(matching.every((t) => t.codeHelps === family.codeHelps && t.id.startsWith(`${family.name}-L${level}-`)));
    }
  }
  assert.ok(tasks.some((t) => t.codeHelps) && tasks.some((t) => !t.codeHelps));
});

test('bad queries name the input', () => {
  assert.throws(() => generateTasks({ split: 'test', count: 3, families: ['nope'] }), (e: unknown) => e instanceof InputError && e.input === 'nope');
  assert.throws(() => generateTasks({ split: 'test', count: 3, levels: [4] }), InputError);
});

test('traces use the paper formats and end with the boxed answer', () => {
  const traces = generateTraces(600, 3);
  const kinds = new Set(traces.map((t) => t.kind));
  assert.deepEqual([...kinds].sort(), ['code', 'code-retry', 'direct']);
  for (const trace of traces) {
    assert.equal(trace.prompt, renderPrompt(trace.task));
    const last = trace.segments[trace.segments.length - 1]!;
    assert.equal(last.origin, 'policy');
    assert.equal(last.text, `\\boxed{${trace.task.answer}}`);
    for (const segment of trace.segments) {
      if (segment.origin === 'tool') assert.match(segment.text, /^\n```output\n[^]*\n```\n$/);
      else assert.ok(segment.text.startsWith('```python\n') || segment.text.startsWith('\\boxed{'));
    }
    if (trace.kind === 'code-retry') assert.match(trace.segments[1]!.text, /Error: /);
  }
  const codeHelps = traces.filter((t) => t.task.codeHelps);
  const direct = codeHelps.filter((t) => t.kind === 'direct').length / codeHelps.length;
  assert.ok(direct > 0.4 && direct < 0.6, `direct share on code-helps families is ${direct}`);
});

const numbersIn = (text: string): string[] => text.match(/[0-9]+/g) ?? [];

test('programs only copy: every number in a program and its broken attempts is one of the problem or a constant of the family, and the program prints the answer', () => {
  for (const family of TASK_FAMILIES) {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: family.levels }), (seed, level) => {
        const generated = family.generate(new Rng(seed), level);
        const allowed = new Set([...numbersIn(generated.problem), ...family.programConstants]);
        for (const code of [generated.code, ...generated.mistakes.map((m) => m.code)]) {
          for (const number of numbersIn(code)) assert.ok(allowed.has(number), `${family.name} L${level}: ${number} in ${code} is neither in "${generated.problem}" nor a constant`);
        }
        // The boxed answer is a copy of what the program prints (the python3 and sandbox tests check the print).
        assert.equal(generated.output, generated.answer, `${family.name} L${level}: ${generated.code}`);
      }),
      { numRuns: 500 },
    );
  }
});

test('the tasks are the draws they were before the programs became copy-only: problems, answers, ids and splits', () => {
  // sha256 prefixes taken at aaf2bbb (main, before this change): the held-out draw of `cir train`
  // (400 test tasks, seed 7), another test draw and a train draw.
  const fingerprint = (tasks: unknown) => createHash('sha256').update(JSON.stringify(tasks)).digest('hex').slice(0, 16);
  assert.equal(fingerprint(generateTasks({ split: 'test', count: 400, seed: 7 })), '9fe2e1b81846efac');
  assert.equal(fingerprint(generateTasks({ split: 'test', count: 400, seed: 1 })), '0a7af944169c1764');
  assert.equal(fingerprint(generateTasks({ split: 'train', count: 3000, seed: 1 })), '4249ae6d6588b76d');
});

test('every program and broken program prints exactly what the traces say (real python3)', () => {
  const programs = [...programsForCheck(90, 11), ...programsForCheck(60, 12, 'test')];
  for (const program of programs) if (program.kind === 'program') assert.equal(program.expected, program.answer, program.code);
  // One python3 process runs them all: exec each, print stdout or the last traceback line.
  const driver = [
    'import sys, json, io, contextlib, traceback',
    'out = []',
    'for code in json.load(sys.stdin):',
    '    buffer = io.StringIO()',
    '    try:',
    '        with contextlib.redirect_stdout(buffer):',
    '            exec(compile(code, "<snippet>", "exec"), {})',
    '        out.append(buffer.getvalue().strip())',
    '    except BaseException:',
    '        out.append(traceback.format_exc().strip().split("\\n")[-1])',
    'print(json.dumps(out))',
  ].join('\n');
  const result = spawnSync('python3', ['-c', driver], { input: JSON.stringify(programs.map((p) => p.code)), encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const outputs = JSON.parse(result.stdout) as string[];
  programs.forEach((program, i) => assert.equal(outputs[i], program.expected, program.code));
});
