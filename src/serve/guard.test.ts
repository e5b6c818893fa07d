/**
 * Attacks a web page (DNS rebinding, cross-site requests) and a hostile network client (slow
 * headers, connection floods) can make on `cir serve` and `cir view`, against the real servers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { postJson, startBigramServer } from './testing/support.js';
import { startViewer } from '../eval/viewer.js';
import { writeFixtureRun } from '../eval/testing/fixtures.js';

interface Raw {
  status: number;
  body: string;
  connection: string | undefined;
}

/** A request with exactly these headers (fetch would not let us set Host). */
function raw(url: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Raw> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method, headers, agent: false }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text, connection: response.headers.connection }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const COMPLETION = JSON.stringify({ prompt: [72, 105], max_tokens: 4, seed: 1 });

test('attack: DNS rebinding and cross-site pages cannot drive cir serve; its own clients still can', async () => {
  const { server } = await startBigramServer();
  const port = new URL(server.url).port;
  try {
    const json = { 'content-type': 'application/json' };
    // The project's clients: loopback Host, no Origin.
    assert.equal((await raw(server.url, 'POST', '/v1/completions', { ...json, host: `127.0.0.1:${port}` }, COMPLETION)).status, 200);
    assert.equal((await raw(server.url, 'POST', '/v1/completions', { ...json, host: `localhost:${port}` }, COMPLETION)).status, 200);
    // A rebinding page: its own name in Host.
    const rebound = await raw(server.url, 'POST', '/v1/completions', { ...json, host: `evil.example:${port}` }, COMPLETION);
    assert.equal(rebound.status, 403);
    assert.match(rebound.body, /--allowed-hosts/);
    assert.equal(rebound.connection, 'close', 'a refused request closes its connection');
    assert.equal((await raw(server.url, 'GET', '/api/v1/healthz', { host: `evil.example:${port}` })).status, 403);
    assert.equal((await raw(server.url, 'GET', '/v1/models', { host: `evil.example:${port}` })).status, 403);
    // A cross-site page: a foreign Origin, or a simple request without a preflight (text/plain, a form).
    assert.equal((await raw(server.url, 'POST', '/v1/completions', { ...json, host: `127.0.0.1:${port}`, origin: 'http://evil.example' }, COMPLETION)).status, 403);
    assert.equal((await raw(server.url, 'POST', '/v1/completions', { ...json, host: `127.0.0.1:${port}`, origin: 'null' }, COMPLETION)).status, 403);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const simple = await raw(server.url, 'POST', '/v1/completions', { 'content-type': type, host: `127.0.0.1:${port}` }, COMPLETION);
      assert.equal(simple.status, 415, type);
      assert.equal((await raw(server.url, 'POST', '/api/v1/create_session', { 'content-type': type, host: `127.0.0.1:${port}` }, '{}')).status, 415, type);
    }
  } finally {
    await server.close();
  }
  // A server exposed on purpose serves the names it is given.
  const exposed = await startBigramServer({ allowedHosts: ['cir.internal'] });
  try {
    const port2 = new URL(exposed.server.url).port;
    assert.equal((await raw(exposed.server.url, 'POST', '/v1/completions', { 'content-type': 'application/json', host: `cir.internal:${port2}` }, COMPLETION)).status, 200);
  } finally {
    await exposed.server.close();
  }
});

test('attack: slow headers and connection floods are cut off', async () => {
  const { server } = await startBigramServer({ connections: { headersTimeoutMs: 500, requestTimeoutMs: 1000, maxConnections: 2 } });
  const { hostname, port } = new URL(server.url);
  const open = () =>
    new Promise<{ closedAfterMs: Promise<number> }>((resolve) => {
      const started = Date.now();
      const socket = connect(Number(port), hostname, () => {
        socket.write('POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // never finishes its headers
        resolve({ closedAfterMs: new Promise((done) => socket.on('close', () => done(Date.now() - started))) });
      });
      socket.on('error', () => undefined);
      socket.resume();
    });
  try {
    const [a, b] = [await open(), await open()];
    const third = await open();
    // Over the cap: closed at once.
    assert.ok((await third.closedAfterMs) < 400, 'the connection over the cap is closed on arrival');
    // Slow-loris: closed once the header timeout passes (Node checks every second or so).
    const slow = await Promise.race([a.closedAfterMs, new Promise<number>((done) => setTimeout(() => done(Infinity), 8000))]);
    assert.ok(slow < 8000, `a client that never finishes its headers is dropped (${slow} ms)`);
    await b.closedAfterMs;
  } finally {
    await server.close();
  }
});

test('attack: a DNS-rebinding or cross-site page cannot read cir view', async () => {
  const dir = writeFixtureRun({ problems: 1, samples: 1 });
  const viewer = await startViewer({ dir });
  const port = new URL(viewer.url).port;
  try {
    assert.equal((await raw(viewer.url, 'GET', '/api/index', { host: `127.0.0.1:${port}` })).status, 200);
    assert.equal((await raw(viewer.url, 'GET', '/api/record/0', { host: `evil.example:${port}` })).status, 403);
    assert.equal((await raw(viewer.url, 'GET', '/files/config.json', { host: `127.0.0.1:${port}`, origin: 'http://evil.example' })).status, 403);
    assert.equal((await raw(viewer.url, 'GET', '/api/index', { host: `127.0.0.1:${port}`, 'sec-fetch-site': 'cross-site' })).status, 403);
  } finally {
    await viewer.close();
  }
});

test('attack: a Tinker client cannot park requests without bound by sending seq_ids far ahead', async () => {
  const { server } = await startBigramServer({ tinkerCaps: { maxParkedRequests: 4 } });
  const base = server.url;
  try {
    const session = (await postJson(`${base}/api/v1/create_session`, {})).json as { session_id: string };
    const { model_id: modelId } = (await postJson(`${base}/api/v1/create_model`, { session_id: session.session_id, base_model: 'bigram-test' })).json as { model_id: string };
    const step = (seq: number) => postJson(`${base}/api/v1/optim_step`, { model_id: modelId, seq_id: seq, adam_params: { learning_rate: 0.1 } });
    // seq_id 1 never comes: 2..4 wait for it (within the window), 5 and a million are refused.
    for (const seq of [2, 3, 4]) assert.equal((await step(seq)).status, 200, `seq ${seq}`);
    for (const seq of [5, 1_000_000]) {
      const refused = await step(seq);
      assert.equal(refused.status, 429, `seq ${seq}`);
      assert.match(JSON.stringify(refused.json), /too far ahead/);
    }
    // The window moves with the sequence.
    assert.equal((await step(1)).status, 200);
    assert.equal((await step(5)).status, 200);
  } finally {
    await server.close();
  }
});
