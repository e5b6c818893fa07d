/** Helpers shared by the interpreter's tests: host-side views of sandbox processes. */
import { readdirSync, readFileSync } from 'node:fs';

/** Host pids whose real uid lies in [base, base + count): processes of sandbox slots. */
export function processesWithUids(base: number, count: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      if (uid >= base && uid < base + count) found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` until it returns true or `limitMs` passes; returns the last result. */
export async function waitFor(check: () => boolean, limitMs: number): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

/** Host pids of the sandbox launchers (comm `cir-launcher`, root) below `rootPid` (the executor's bwrap). */
export function launcherPids(rootPid: number): number[] {
  const parent = new Map<number, number>();
  const launchers: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1]);
      if (comm === 'cir-launcher' && uid === 0) launchers.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  const below = (pid: number) => {
    for (let p: number | undefined = pid, depth = 0; p !== undefined && p > 0 && depth < 64; p = parent.get(p), depth++) if (p === rootPid) return true;
    return false;
  };
  return launchers.filter(below);
}

/** Host pids of the root children of a launcher: the children it prepared for free slots (a running snippet has its slot's uid). */
export function preparedChildren(launcherPid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== launcherPid) continue;
      const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1]);
      if (uid === 0) found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}
