/** The benchmark's CPU accounting: a process tree's time, live descendants and reaped ones alike. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { runInterleaved, treeCpuTicks } from './bench.js';

// A Python child that, once told to, burns 0.3 s of CPU time in a forked grandchild, reaps it, then prints
// and waits for stdin to close: while it waits, the grandchild's time is in its cutime.
const BURN = `
import os, sys, time
sys.stdin.readline()
pid = os.fork()
if pid == 0:
    while time.process_time() < 0.3:
        pass
    os._exit(0)
os.waitpid(pid, 0)
print('burnt', flush=True)
sys.stdin.read()
`;

test('treeCpuTicks counts the CPU of descendants, including children they have reaped', async () => {
  const child = spawn('/usr/bin/python3', ['-S', '-c', BURN], { stdio: ['pipe', 'pipe', 'inherit'] });
  const pid = child.pid;
  assert.ok(pid !== undefined);
  const before = treeCpuTicks(pid);
  child.stdin.write('go\n');
  await once(child.stdout, 'data');
  const during = treeCpuTicks(pid);
  child.stdin.end();
  await once(child, 'exit');
  // 0.3 s is 30 ticks of USER_HZ; allow for tick rounding.
  assert.ok(during - before >= 25, `expected at least 25 ticks, got ${during - before}`);
  assert.equal(treeCpuTicks(pid), 0, 'a process that is gone has no tree');
});

test('runInterleaved: both sides run every job once, in alternating chunks A B B A…, each charged its own snippets', async () => {
  const log: string[] = [];
  const side = (label: string) => ({
    run: async (job: { code: string }) => {
      log.push(`${label}:${job.code}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
      return { kind: 'ok' as const, stdout: '', stderr: '', durationMs: 1 };
    },
    rootPid: () => undefined,
  });
  const [a, b] = await runInterleaved('case', 8, 1, (i) => ({ code: String(i) }), side('a'), side('b'), 2);
  // Four chunks of two jobs: a runs chunk 0 first, b runs chunk 1 first, and so on.
  assert.deepEqual(log, ['a:0', 'a:1', 'b:0', 'b:1', 'b:2', 'b:3', 'a:2', 'a:3', 'a:4', 'a:5', 'b:4', 'b:5', 'b:6', 'b:7', 'a:6', 'a:7']);
  for (const result of [a, b]) {
    assert.equal(result.n, 8);
    assert.deepEqual(result.kinds, { ok: 8 });
    assert.ok(result.per_s > 0 && result.p99_ms >= result.p50_ms);
    assert.ok(Number.isNaN(result.cpu_ms?.sandbox)); // no process tree to read
  }
});
