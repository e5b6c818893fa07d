import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wilsonInterval } from '../core/stats.js';
import { accuracyInterval, intervalsDisjoint } from './stats.js';

const close = (actual: number, expected: number, tolerance = 1e-4) => assert.ok(Math.abs(actual - expected) < tolerance, `${actual} vs ${expected}`);

test('accuracy over 0/1 scores is Wilson; over avg@k scores a normal interval of task means', () => {
  const binary = accuracyInterval([1, 0, 1, 1]);
  assert.equal(binary.accuracy, 0.75);
  assert.deepEqual(binary.ci95, wilsonInterval(3, 4));
  // Task means 0.5, 1, 0, 0.5: mean 0.5, sample variance 1/6, half-width 1.96·sqrt(1/24) = 0.4001.
  const averaged = accuracyInterval([0.5, 1, 0, 0.5]);
  assert.equal(averaged.accuracy, 0.5);
  close(averaged.ci95[0], 0.0999);
  close(averaged.ci95[1], 0.9001);
  assert.deepEqual(accuracyInterval([]), { accuracy: 0, ci95: [0, 1], n: 0 });
});

test('intervals are disjoint only when they share no point', () => {
  assert.equal(intervalsDisjoint([0.1, 0.3], [0.31, 0.5]), true);
  assert.equal(intervalsDisjoint([0.31, 0.5], [0.1, 0.3]), true);
  assert.equal(intervalsDisjoint([0.1, 0.3], [0.3, 0.5]), false);
  assert.equal(intervalsDisjoint([0.1, 0.6], [0.3, 0.5]), false);
});
