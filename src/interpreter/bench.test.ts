/** The benchmark's CPU accounting: a process tree's time, live descendants and reaped ones alike. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { treeCpuTicks } from './bench.js';

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
