import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readBodyCapped, ResponseTooLargeError } from './http-body.js';
import { hostileServer } from './testing/hostile-server.js';

test('attack: an endless or lying response is cut off at the cap, not buffered', async () => {
  const server = await hostileServer();
  try {
    assert.equal((await readBodyCapped(await fetch(`${server.url}/small`), 10, 'small')).toString(), '0123456789');
    await assert.rejects(readBodyCapped(await fetch(`${server.url}/small`), 9, 'small'), ResponseTooLargeError);
    await assert.rejects(readBodyCapped(await fetch(`${server.url}/liar`), 1 << 20, 'liar'), ResponseTooLargeError);
    await assert.rejects(readBodyCapped(await fetch(`${server.url}/endless`), 1 << 20, 'endless'), ResponseTooLargeError);
    assert.ok(server.sent() < 64 << 20, `stopped reading early (${server.sent()} bytes sent)`);
  } finally {
    await server.close();
  }
});

