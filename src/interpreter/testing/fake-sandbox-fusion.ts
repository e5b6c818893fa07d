/**
 * A local SandboxFusion `/run_code` service for tests: it runs Python the way SandboxFusion's runner does
 * with `isolation: none` (bytedance/SandboxFusion sandbox/runners/base.py @ 3d770207398a0ebc2f8dd5d84ea9f56ad1687773,
 * `run_command_bare`: the code written to a file and run as `python FILE` in a new session, stdin fed,
 * stdout/stderr captured up to 1 MiB, the process group killed at `run_timeout`, which answers
 * `TimeLimitExceeded` with no return code; otherwise `Finished` with the return code, negative for a
 * signal) and answers its `RunCodeResponse` shape (status "Success"/"Failed", message, compile_result,
 * run_result {status, execution_time, return_code, stdout, stderr}, files). No isolation at all: test
 * support only, on loopback.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeSandboxFusion {
  url: string;
  requests: number;
  close(): Promise<void>;
}

const MAX_CAPTURED = 1024 * 1024;

function run(code: string, stdin: string | null, timeoutS: number): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'fake-fusion-'));
  const file = join(dir, 'main.py');
  writeFileSync(file, code);
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn('python3', [file], { cwd: dir, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = Buffer.alloc(0);
    let stderr = Buffer.alloc(0);
    child.stdout.on('data', (d: Buffer) => (stdout = Buffer.concat([stdout, d]).subarray(0, MAX_CAPTURED)));
    child.stderr.on('data', (d: Buffer) => (stderr = Buffer.concat([stderr, d]).subarray(0, MAX_CAPTURED)));
    child.stdin.on('error', () => {});
    child.stdin.end(stdin ?? '');
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      const executionTime = (performance.now() - started) / 1000;
      const base = { execution_time: executionTime, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8') };
      if (timedOut) {
        resolve({ status: 'Failed', message: '', compile_result: null, run_result: { status: 'TimeLimitExceeded', return_code: null, ...base }, executor_pod_name: null, files: {} });
        return;
      }
      const signals: Record<string, number> = { SIGKILL: 9, SIGSEGV: 11, SIGABRT: 6 };
      const returnCode = code ?? -(signal ? (signals[signal] ?? 15) : 15);
      resolve({ status: returnCode === 0 ? 'Success' : 'Failed', message: '', compile_result: null, run_result: { status: 'Finished', return_code: returnCode, ...base }, executor_pod_name: null, files: {} });
    });
  });
}

async function readBody(request: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of request) text += String(chunk);
  return text;
}

export async function startFakeSandboxFusion(): Promise<FakeSandboxFusion> {
  const state = { requests: 0 };
  const server = createServer((request, response) => {
    void readBody(request).then(async (text) => {
      if (request.method !== 'POST' || request.url !== '/run_code') {
        response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ detail: 'Not Found' }));
        return;
      }
      state.requests += 1;
      const body = JSON.parse(text) as { code: string; language: string; run_timeout?: number; stdin?: string | null };
      const result = await run(body.code, body.stdin ?? null, body.run_timeout ?? 10);
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
