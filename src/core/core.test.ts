import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { configDifferences, describeDifference } from './config-diff.js';
import { Rng, seededRandom } from './rng.js';
import { isRetryableResponse, isRetryableStatus, retryAfterMs, retryDelayMs, sleep } from './retry.js';
import { Semaphore } from './semaphore.js';
import { wilsonInterval } from './stats.js';

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

test('Wilson interval holds the proportion and stays in [0, 1]', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 500 }), fc.double({ min: 0, max: 1, noNaN: true }), (trials, share) => {
      const successes = Math.round(share * trials);
      const [low, high] = wilsonInterval(successes, trials);
      return low >= 0 && high <= 1 && low <= successes / trials + 1e-12 && successes / trials <= high + 1e-12;
    }),
  );
});

test('seededRandom is the plain mulberry32 stream; Rng keeps its seed-0 remap', () => {
  // First output of mulberry32 with seed 1, computed by hand from the reference algorithm.
  const random = seededRandom(1);
  const first = random();
  close(first, 0.6270739405881613, 1e-15);
  assert.notEqual(random(), first);
  assert.deepEqual(Array.from({ length: 5 }, seededRandom(42)), Array.from({ length: 5 }, seededRandom(42)));
  const plain = new Rng(7, { plainSeed: true });
  const stream = seededRandom(7);
  for (let i = 0; i < 10; i++) assert.equal(plain.next(), stream());
  // Seed 0: Rng draws from its fixed replacement, seededRandom from 0 itself.
  assert.equal(new Rng(0).next(), new Rng(0x9e3779b9).next());
  assert.notEqual(new Rng(0).next(), seededRandom(0)());
});

test('Semaphore: never more than capacity at once, FIFO for waiters', async () => {
  const semaphore = new Semaphore(2);
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      semaphore.run(async () => {
        order.push(i);
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 2));
        running -= 1;
      }),
    ),
  );
  assert.equal(peak, 2);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(semaphore.active, 0);
  assert.equal(semaphore.queued, 0);
  // A failing task gives its slot back.
  await assert.rejects(semaphore.run(() => Promise.reject(new Error('boom'))), /boom/);
  assert.equal(semaphore.active, 0);
  assert.throws(() => new Semaphore(0), RangeError);
});

test('retry policy: statuses, x-should-retry, retry-after and backoff with jitter', async () => {
  for (const status of [408, 409, 429, 500, 502, 503]) assert.equal(isRetryableStatus(status), true, String(status));
  for (const status of [400, 401, 403, 404, 410, 422]) assert.equal(isRetryableStatus(status), false, String(status));
  assert.equal(isRetryableResponse(400, new Headers({ 'x-should-retry': 'true' })), true);
  assert.equal(isRetryableResponse(503, new Headers({ 'x-should-retry': 'false' })), false);
  assert.equal(isRetryableResponse(503, new Headers()), true);
  assert.equal(retryAfterMs(new Headers({ 'retry-after-ms': '120' })), 120);
  assert.equal(retryAfterMs(new Headers({ 'retry-after': '3' })), 3000);
  assert.equal(retryAfterMs(new Headers({ 'retry-after': '9999' })), 60000);
  assert.equal(retryAfterMs(new Headers({ 'retry-after': new Date(10_000).toUTCString() }), 4_000), 6000);
  assert.equal(retryAfterMs(new Headers({ 'retry-after': 'soon' })), null);
  assert.equal(retryAfterMs(new Headers()), null);
  const backoff = { initialMs: 500, maxMs: 8000, jitter: 0.25 };
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((attempt) => retryDelayMs(attempt, { backoff, random: () => 0 })), [500, 1000, 2000, 4000, 8000, 8000]);
  assert.equal(retryDelayMs(10, { backoff, random: () => 1 }), 6000);
  assert.equal(retryDelayMs(3, { serverDelayMs: 120, backoff, random: () => 0 }), 120);
  const controller = new AbortController();
  const waiting = sleep(60_000, controller.signal);
  controller.abort(new Error('stop'));
  await assert.rejects(waiting, /stop/);
});

test('config differences name every changed path with both values', () => {
  const before = { rl: { seed: 1, budget: { kind: 'schedule', steps: [1, 2] } }, tools: true };
  const after = { rl: { seed: 1, budget: { kind: 'fixed', steps: [1, 3] } }, tools: true, extra: 'x' };
  assert.deepEqual(configDifferences(before, after).map(describeDifference), [
    'rl.budget.kind: "schedule" → "fixed"',
    'rl.budget.steps.1: 2 → 3',
    'extra: undefined → "x"',
  ]);
  assert.deepEqual(configDifferences(before, structuredClone(before)), []);
  assert.deepEqual(configDifferences({ a: [1] }, { a: { 0: 1 } }).map((d) => d.path), ['a']);
  assert.deepEqual(configDifferences({ a: 1 }, { a: 2 }, 'settings').map((d) => d.path), ['settings.a']);
  assert.deepEqual(configDifferences(1, 2).map((d) => d.path), ['(root)']);
});
