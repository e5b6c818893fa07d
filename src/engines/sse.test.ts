import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SseParser } from './sse.js';

test('SSE events are reassembled however the bytes are split', () => {
  const stream = 'data: {"a":1}\n\n: keep-alive\n\ndata: {"b":\ndata: 2}\r\n\r\nevent: x\ndata: [DONE]\n\n';
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 8 }), (cuts) => {
      const points = [...new Set(cuts)].sort((a, b) => a - b);
      const parser = new SseParser();
      const payloads: string[] = [];
      let from = 0;
      for (const point of [...points, stream.length]) {
        payloads.push(...parser.push(stream.slice(from, point)));
        from = point;
      }
      assert.deepEqual(payloads, ['{"a":1}', '{"b":\n2}', '[DONE]']);
      assert.equal(parser.pending, false);
    }),
  );
  const truncated = new SseParser();
  assert.deepEqual(truncated.push('data: {"a":'), []);
  assert.equal(truncated.pending, true);
});
