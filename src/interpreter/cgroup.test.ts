/** Finding this process's memory cgroup from /proc/self/cgroup and /proc/self/mountinfo (formats: proc(5)). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryHierarchy } from './cgroup.js';

// Lines as this machine's kernel writes them (hybrid: v1 controllers plus an empty cgroup2 at /unified).
const V1_MOUNTS = [
  '30 25 0:27 / /sys/fs/cgroup/cpu rw,relatime shared:9 - cgroup cgroup rw,cpu',
  '33 25 0:30 / /sys/fs/cgroup/memory rw,relatime shared:12 - cgroup cgroup rw,memory',
  '38 25 0:35 / /sys/fs/cgroup/unified rw,relatime shared:17 - cgroup2 cgroup2 rw',
].join('\n');

test('cgroup v1: the memory hierarchy wins over an empty cgroup2 mount, and the path is below its mount point', () => {
  const found = memoryHierarchy('9:name=systemd:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n', V1_MOUNTS);
  assert.deepEqual(found, { version: 1, current: '/sys/fs/cgroup/memory/process_api/abc' });
});

test('cgroup v1 in a container: a mount of part of the hierarchy strips its root from the path', () => {
  const mounts = '33 25 0:30 /docker/c1 /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory';
  assert.deepEqual(memoryHierarchy('4:memory:/docker/c1/inner\n', mounts), { version: 1, current: '/sys/fs/cgroup/memory/inner' });
  assert.equal(memoryHierarchy('4:memory:/elsewhere\n', mounts), undefined, 'a cgroup outside the mounted part has no host path');
});

test('cgroup v2: used only where the memory controller is available to this cgroup', () => {
  const root = mkdtempSync(join(tmpdir(), 'cir-cgroup2-'));
  try {
    mkdirSync(join(root, 'user.slice'));
    const mounts = `29 23 0:26 / ${root} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate`;
    writeFileSync(join(root, 'user.slice', 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    assert.deepEqual(memoryHierarchy('0::/user.slice\n', mounts), { version: 2, current: join(root, 'user.slice') });
    writeFileSync(join(root, 'user.slice', 'cgroup.controllers'), 'cpu pids\n');
    assert.equal(memoryHierarchy('0::/user.slice\n', mounts), undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
