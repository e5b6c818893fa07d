import assert from 'node:assert/strict';
import { test } from 'node:test';
import { charTokenizer } from '../model/index.js';
import { heldOutTasks, promptsForStep, trainingPool } from './problems.js';
import { encodePrompt } from './data.js';
import { PLAIN_PROMPT } from './config.js';
import { fitToContext } from './rollouts.js';
import { deriveSeed } from './seeds.js';
import { tinyConfig } from './testing/support.js';
import type { Trajectory } from '../core/trajectory.js';

test('derived seeds depend on every part and on nothing else', () => {
  assert.equal(deriveSeed(80, 2, 5, 1), deriveSeed(80, 2, 5, 1));
  const seeds = new Set([deriveSeed(80, 2, 5, 1), deriveSeed(80, 2, 1, 5), deriveSeed(81, 2, 5, 1), deriveSeed(80, 2, 5), deriveSeed(80, 2, 5, 1, 0)]);
  assert.equal(seeds.size, 5);
  for (const seed of seeds) assert.ok(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 31);
});

test('each step draws distinct prompts as a function of (seed, step) only', () => {
  const pool = Array.from({ length: 50 }, (_, i) => i);
  const step3 = promptsForStep(pool, 80, 3, 10);
  assert.deepEqual(promptsForStep(pool, 80, 3, 10), step3);
  assert.equal(new Set(step3).size, 10);
  assert.notDeepEqual(promptsForStep(pool, 80, 4, 10), step3);
  assert.notDeepEqual(promptsForStep(pool, 81, 3, 10), step3);
  assert.equal(new Set(promptsForStep(pool, 1, 0, 50)).size, 50);
  assert.throws(() => promptsForStep(pool, 80, 0, 51), /cannot draw 51 prompts/);
});

test('training pool and held-out tasks come from disjoint splits', () => {
  const config = tinyConfig(1, (c) => {
    c.trainPoolSize = 300;
    c.eval.tasks = 100;
  });
  const train = new Set(trainingPool(config).map((task) => task.problem));
  const test = heldOutTasks(config);
  // Evenly spread, without repeats: the one-digit addition family has fewer distinct problems.
  assert.equal(new Set(test.map((task) => task.problem)).size, test.length);
  assert.ok(test.length > 90 && test.length <= 100, `${test.length}`);
  const large = heldOutTasks(tinyConfig(1, (c) => (c.eval.tasks = 1000)));
  assert.ok(large.filter((task) => task.family === 'add').length <= 30);
  assert.ok(large.filter((task) => task.family === 'multiply').length >= 90);
  for (const task of test) assert.equal(train.has(task.problem), false, task.problem);
  assert.throws(() => encodePrompt(test[0]!, PLAIN_PROMPT, charTokenizer, 5), /more than rollout.maxPromptTokens/);
});

test('a trajectory longer than the context window is cut at the end, log-probs with it', () => {
  const trajectory: Trajectory = {
    segments: [
      { origin: 'prompt', tokens: [1, 2, 3], text: 'abc' },
      { origin: 'policy', tokens: [4, 5], logprobs: [-1, -2], text: 'de' },
      { origin: 'tool', tokens: [6, 7, 8], text: 'fgh' },
      { origin: 'policy', tokens: [9], logprobs: [-3], text: 'i' },
    ],
    toolCalls: [],
    status: 'finished',
    infraFailure: false,
  };
  assert.equal(fitToContext(trajectory, 9).truncated, false);
  const { trajectory: cut, truncated } = fitToContext(trajectory, 6);
  assert.equal(truncated, true);
  assert.deepEqual(cut.segments.map((s) => s.tokens), [[1, 2, 3], [4, 5], [6]]);
  assert.equal(cut.segments[2]!.text, 'f');
  assert.deepEqual(cut.segments[1]!.logprobs, [-1, -2]);
});
