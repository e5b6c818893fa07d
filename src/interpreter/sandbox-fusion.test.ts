/** The SandboxFusion client against a local HTTP server that speaks SandboxFusion's /run_code format. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { UnsupportedError } from '../core/errors.js';
import { fusionOutcome, SandboxFusionExecutor } from './sandbox-fusion.js';

interface RunCodeRequest {
  code: string;
  language: string;
  run_timeout: number;
  memory_limit_MB: number;
  stdin: string | null;
  files: Record<string, string>;
}

let server: Server;
let url = '';
const received: RunCodeRequest[] = [];
let failuresLeft = 0;

/** Plays SandboxFusion: the "program" is chosen by a keyword in the code. */
function respond(request: RunCodeRequest): unknown {
  const finished = (return_code: number, stdout: string, stderr = '') => ({
    status: return_code === 0 ? 'Success' : 'Failed',
    message: '',
    compile_result: null,
    run_result: { status: 'Finished', execution_time: 0.02, return_code, stdout, stderr },
    executor_pod_name: null,
    files: {},
  });
  if (request.code.includes('SLEEP')) {
    return { status: 'Failed', message: '', compile_result: null, run_result: { status: 'TimeLimitExceeded', execution_time: request.run_timeout, return_code: null, stdout: 'partial', stderr: '' }, files: {} };
  }
  if (request.code.includes('RAISE')) return finished(1, '', 'Traceback (most recent call last):\n  File "/tmp/x.py", line 1\nValueError: nope\n');
  if (request.code.includes('SEGV')) return finished(-11, '');
  if (request.code.includes('BROKEN')) return { status: 'SandboxError', message: 'runner crashed', run_result: null, files: {} };
  if (request.code.includes('STDIN')) return finished(0, (request.stdin ?? '').toUpperCase());
  return finished(0, '2\n');
}

async function body(request: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of request) text += String(chunk);
  return text;
}

before(async () => {
  server = createServer((request, response) => {
    void body(request).then((text) => {
      if (request.method !== 'POST' || request.url !== '/run_code') {
        response.writeHead(404).end();
        return;
      }
      const parsed = JSON.parse(text) as RunCodeRequest;
      received.push(parsed);
      if (failuresLeft > 0) {
        failuresLeft--;
        response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ detail: 'boom', traceback: [] }));
        return;
      }
      if (parsed.language !== 'python' || typeof parsed.code !== 'string') {
        response.writeHead(422).end('{}');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(respond(parsed)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('requests follow the /run_code format; responses map to typed outcomes', async () => {
  const executor = new SandboxFusionExecutor({ url, timeoutMs: 3000, memoryMb: 512 });
  const ok = await executor.execute('print(1+1)');
  assert.deepEqual(ok, { kind: 'ok', stdout: '2\n', stderr: '', durationMs: 20 });
  const last = received.at(-1)!;
  assert.equal(last.language, 'python');
  assert.equal(last.run_timeout, 3);
  assert.equal(last.memory_limit_MB, 512);
  assert.deepEqual(last.files, {});
  const stdin = await executor.execute('STDIN', { stdin: 'abc' });
  assert.equal(stdin.kind === 'ok' && stdin.stdout, 'ABC');
  const error = await executor.execute('RAISE');
  assert.equal(error.kind === 'error' && error.lastLine, 'ValueError: nope');
  assert.equal((await executor.execute('SLEEP')).kind, 'timeout');
  assert.deepEqual((await executor.execute('SEGV')).kind === 'crash', true);
  const big = await executor.execute('print(1)', { maxOutputBytes: 1 });
  assert.equal(big.kind, 'output_limit');
});

test('infrastructure failures are retried once, then reported as infra_error', async () => {
  const quick = { initialMs: 1, maxMs: 1, jitter: 0 };
  const executor = new SandboxFusionExecutor({ url, backoff: quick });
  failuresLeft = 1;
  const before = received.length;
  assert.equal((await executor.execute('print(1)')).kind, 'ok');
  assert.equal(received.length - before, 2);
  failuresLeft = 2;
  const failed = await executor.execute('print(1)');
  assert.deepEqual(failed.kind === 'infra_error' && failed.reason, 'SandboxFusion HTTP 500');
  const broken = await executor.execute('BROKEN');
  assert.equal(broken.kind, 'infra_error');
  const unreachable = new SandboxFusionExecutor({ url: 'http://127.0.0.1:1', backoff: quick });
  assert.equal((await unreachable.execute('print(1)')).kind, 'infra_error');
});

test('concurrency is bounded; sessions are unsupported', async () => {
  let inFlight = 0;
  let peak = 0;
  const fakeFetch: typeof fetch = async () => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((resolve) => setTimeout(resolve, 5));
    inFlight--;
    return new Response(JSON.stringify(respond({ code: 'x', language: 'python', run_timeout: 1, memory_limit_MB: 1, stdin: null, files: {} })));
  };
  const executor = new SandboxFusionExecutor({ url, concurrency: 3, fetch: fakeFetch });
  const outcomes = await Promise.all(Array.from({ length: 20 }, () => executor.execute('x')));
  assert.ok(outcomes.every((o) => o.kind === 'ok'));
  assert.equal(peak, 3);
  await assert.rejects(executor.openSession(), UnsupportedError);
  assert.throws(() => new SandboxFusionExecutor({ url: 'not a url' }), /not a URL/);
});

test('fusionOutcome: a MemoryError traceback is a memory outcome', () => {
  const outcome = fusionOutcome(
    { status: 'Failed', run_result: { status: 'Finished', return_code: 1, stdout: '', stderr: 'Traceback\nMemoryError\n', execution_time: 0.1 } },
    { timeoutMs: 1, memoryMb: 64, maxOutputBytes: 100 },
    1,
  );
  assert.equal(outcome.kind, 'memory');
});
