/**
 * The sandbox's own memory cgroup: a directory below the cgroup this process runs in, root-only, bound into the
 * jail, where the fork server makes one cgroup per snippet slot and per session. Host I/O only; the policy
 * (which limits, when) lives in fork-server.py.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

/** How the total memory of a snippet and its descendants is bounded (reported by the server and the doctor). */
export type MemoryBound = 'cgroup-v1' | 'cgroup-v2' | 'no-fork' | 'rlimit-per-process';

export interface SandboxCgroup {
  version: 1 | 2;
  /** Host path of the sandbox's cgroup directory (0700, made by createSandboxCgroup). */
  dir: string;
}

const PREFIX = 'cir-sandbox-';

interface Hierarchy {
  version: 1 | 2;
  /** Host path of the cgroup this process runs in. */
  current: string;
}

/** Where this process's memory cgroup is on the host, from /proc/self/cgroup and /proc/self/mountinfo. */
export function memoryHierarchy(procCgroup: string, mountinfo: string): Hierarchy | undefined {
  const mounts = mountinfo.split('\n').map((line) => {
    const [left = '', right = ''] = line.split(' - ');
    const fields = left.split(' ');
    const [fstype = '', , options = ''] = right.split(' ');
    return { root: fields[3] ?? '', point: fields[4] ?? '', fstype, options: options.split(',') };
  });
  const within = (root: string, path: string) => (root === '/' ? path : path.startsWith(root) ? path.slice(root.length) || '/' : undefined);
  for (const line of procCgroup.split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!match || !match[1]?.split(',').includes('memory')) continue;
    const mount = mounts.find((m) => m.fstype === 'cgroup' && m.options.includes('memory'));
    const relative = mount && within(mount.root, match[2] ?? '');
    if (mount && relative !== undefined) return { version: 1, current: join(mount.point, relative) };
  }
  const unified = /^0::(.*)$/m.exec(procCgroup);
  const mount = mounts.find((m) => m.fstype === 'cgroup2');
  const relative = unified && mount && within(mount.root, unified[1] ?? '');
  if (!mount || relative === undefined || relative === null) return undefined;
  const current = join(mount.point, relative);
  try {
    if (!readFileSync(join(current, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('memory')) return undefined;
  } catch {
    return undefined;
  }
  return { version: 2, current };
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Makes the sandbox's cgroup below this process's own (so every limit above still applies), or says why not:
 * no memory controller, not root, or (v2) the controller not delegated to this cgroup.
 */
export function createSandboxCgroup(): { cgroup?: SandboxCgroup; reason?: string } {
  if (process.platform !== 'linux') return { reason: 'not Linux' };
  const hierarchy = memoryHierarchy(readOr('/proc/self/cgroup'), readOr('/proc/self/mountinfo'));
  if (!hierarchy) return { reason: 'no memory cgroup controller is mounted for this process' };
  removeStaleCgroups(hierarchy.current);
  const dir = join(hierarchy.current, `${PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(dir);
    chmodSync(dir, 0o700); // snippets (slot uids) cannot even look in
  } catch (error) {
    return { reason: `cannot make a memory cgroup in ${hierarchy.current}: ${error instanceof Error ? error.message : String(error)}` };
  }
  const limitFile = hierarchy.version === 1 ? 'memory.limit_in_bytes' : 'memory.max';
  if (hierarchy.version === 2 && !existsSync(join(dir, limitFile))) {
    try {
      writeFileSync(join(hierarchy.current, 'cgroup.subtree_control'), '+memory');
    } catch {
      // a v2 cgroup that holds processes cannot give its children controllers
    }
  }
  if (!existsSync(join(dir, limitFile))) {
    removeSandboxCgroup(dir);
    return { reason: `the memory controller is not enabled below ${hierarchy.current} (cgroup v${hierarchy.version})` };
  }
  return { cgroup: { version: hierarchy.version, dir } };
}

/** Removes a sandbox cgroup and the server's cgroups in it (cgroup directories go by rmdir, leaves first). */
export function removeSandboxCgroup(dir: string): boolean {
  let removed = true;
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) removed = removeSandboxCgroup(join(dir, entry.name)) && removed;
    }
    rmdirSync(dir);
  } catch {
    removed = false; // still populated (processes exiting) or already gone
  }
  return removed;
}

/** Sandbox cgroups left by a process that is gone (a SIGKILLed parent cannot clean up). */
function removeStaleCgroups(parent: string): void {
  try {
    for (const name of readdirSync(parent)) {
      const match = new RegExp(`^${PREFIX}(\\d+)-[0-9a-f]{8}$`).exec(name);
      if (!match || !lstatSync(join(parent, name)).isDirectory()) continue;
      try {
        process.kill(Number(match[1]), 0);
      } catch {
        removeSandboxCgroup(join(parent, name));
      }
    }
  } catch {
    // best effort
  }
}
