import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBodyCapped, ResponseTooLargeError } from './http-body.js';
import { downloadHfTokenizer } from '../tokenizers/hub.js';
import { SandboxFusionExecutor } from '../interpreter/sandbox-fusion.js';
import { InputError } from './errors.js';
import { loadBenchmark } from '../eval/benchmarks.js';

/** A hostile server on loopback: `/endless` streams forever, `/liar` declares a huge length, `/small` is 10 bytes. */
async function hostileServer(): Promise<{ url: string; sent: () => number; close: () => Promise<void> }> {
  let sent = 0;
  const endless = (response: ServerResponse) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = () => {
      while (!response.destroyed && sent < 1024 ** 3) {
        sent += chunk.length;
        if (!response.write(chunk)) return void response.once('drain', pump);
      }
    };
    response.on('close', () => undefined);
    pump();
  };
  const server = createServer((request, response) => {
    if (request.url?.endsWith('/liar') || request.url?.endsWith('tokenizer_config.json')) {
      response.writeHead(200, { 'content-length': String(2 ** 40) });
      response.write('{');
      return;
    }
    if (request.url?.endsWith('/small')) return void response.end('0123456789');
    if (request.url?.endsWith('.json') || request.url?.endsWith('.jsonl') || request.url?.endsWith('run_code') || request.url?.endsWith('/endless')) return endless(response);
    response.writeHead(404).end();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sent: () => sent,
    close: () => new Promise((done) => {
      server.closeAllConnections();
      server.close(() => done());
    }),
  };
}

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

test('attack: Hub downloads (tokenizer files, benchmark files) and SandboxFusion answers have size caps', async () => {
  const server = await hostileServer();
  try {
    const cacheDir = mkdtempSync(join(tmpdir(), 'cir-capped-'));
    await assert.rejects(downloadHfTokenizer('evil/tok', { cacheDir, endpoint: server.url, maxFileBytes: 1 << 20 }), /over the 1048576-byte limit/);
    await assert.rejects(
      loadBenchmark('hf:evil/set/data.jsonl', { env: { HF_ENDPOINT: server.url }, cacheDir, maxDownloadBytes: 1 << 20 }),
      (e: unknown) => e instanceof InputError && /over the 1048576-byte limit/.test(e.message),
    );
    const fusion = new SandboxFusionExecutor({ url: server.url, maxOutputBytes: 1024, timeoutMs: 10_000 });
    const outcome = await fusion.execute('print(1)');
    assert.equal(outcome.kind, 'infra_error');
    assert.match(outcome.kind === 'infra_error' ? outcome.reason : '', /byte limit/);
    await fusion.close();
    assert.ok(server.sent() < 256 << 20, `stopped reading early (${server.sent()} bytes sent)`);
  } finally {
    await server.close();
  }
});
