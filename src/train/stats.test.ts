import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accuracyInterval, intervalsDisjoint, wilsonInterval } from './stats.js';

const close = (actual: number, expected: number, tolerance = 1e-4) => assert.ok(Math.abs(actual - expected) < tolerance, `${actual} vs ${expected}`);

test('Wilson interval matches hand-computed values', () => {
  // p = 0.5, n = 100: centre 0.5, half = 1.96·sqrt(0.0025 + 0.000096)/1.0384 = 0.0962.
  const [low, high] = wilsonInterval(50, 100);
  close(low, 0.4038);
  close(high, 0.5962);
  // 0 of 10: [0, z²/(n+z²)] = [0, 3.8415/13.8415].
  const [zeroLow, zeroHigh] = wilsonInterval(0, 10);
  assert.equal(zeroLow, 0);
  close(zeroHigh, 0.2775);
  // 10 of 10 mirrors it.
  const [allLow, allHigh] = wilsonInterval(10, 10);
  close(allLow, 0.7225);
  close(allHigh, 1, 1e-12);
  assert.deepEqual(wilsonInterval(0, 0), [0, 1]);
  assert.throws(() => wilsonInterval(3, 2), RangeError);
});

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
