import assert from 'node:assert/strict';
import { test } from 'node:test';
import { measure } from './bench.js';

test('measure counts every call of every concurrent worker', async () => {
  const seen: number[] = [];
  const figure = await measure(8, 40, async (index) => {
    seen.push(index);
    await new Promise((resolve) => setTimeout(resolve, (index * 7) % 5));
    return 3;
  });
  assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i));
  assert.equal(figure.completion_tokens, 120);
  assert.equal(figure.requests, 40);
  assert.equal(figure.clients, 8);
});
