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
