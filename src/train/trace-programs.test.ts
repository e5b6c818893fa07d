/**
 * The warm start's programs in the sandbox the trainer runs them in: every correct program prints
 * exactly the task's answer (so boxing its output is right), every broken attempt fails with the
 * error line its trace shows, within the trainer's time limit.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createSandboxExecutor, formatFeedback } from '../interpreter/index.js';
import { programsForCheck, TASK_FAMILIES } from '../tasks/index.js';
import { defaultTrainConfig } from './config.js';

const executor = await createSandboxExecutor({ concurrency: 2 });
after(() => executor.close());

test('every family: programs print the answer and broken attempts fail as their traces say, in the real sandbox', async () => {
  const timeoutMs = defaultTrainConfig().executionTimeoutMs;
  // Two tasks per (family, level) of each split, so every family's largest level runs too.
  const count = TASK_FAMILIES.length * 3 * 2;
  const programs = [...programsForCheck(count, 31), ...programsForCheck(count, 32, 'test')];
  assert.deepEqual(new Set(programs.map((p) => p.family)), new Set(TASK_FAMILIES.map((f) => f.name)));
  const outcomes = await Promise.all(programs.map((program) => executor.execute(program.code, { timeoutMs })));
  programs.forEach((program, i) => {
    const outcome = outcomes[i]!;
    if (program.kind === 'program') {
      assert.equal(outcome.kind, 'ok', `${program.code}: ${JSON.stringify(outcome)}`);
      assert.equal(formatFeedback(outcome), program.answer, program.code);
    } else {
      assert.equal(outcome.kind, 'error', program.code);
      assert.equal(formatFeedback(outcome), program.expected, program.code);
    }
  });
});
