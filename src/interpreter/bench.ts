/**
 * `cir bench sandbox`: snippets per second and latency for a trivial, a sympy and a realistic mixed
 * workload through the jailed fork server, beside two baselines measured in the same run: the bare limit
 * (a Python process with the same packages loaded that forks one child per snippet, no jail) and a fresh
 * Python per snippet.
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { ExecuteOptions, ExecutionOutcome } from '../core/execution.js';
import { DEFAULT_PYTHON, DEFAULT_SITE_PACKAGES } from './jail.js';
import { createSandboxExecutor, DEFAULT_CONCURRENCY, SandboxSession, type SandboxExecutor, type SandboxOptions } from './sandbox-executor.js';

export interface BenchCase {
  name: string;
  n: number;
  per_s: number;
  p50_ms: number;
  p99_ms: number;
  kinds: Record<string, number>;
  /**
   * CPU time per snippet in ms (sandbox and fork-baseline cases): `sandbox` is the jailed server (for the fork
   * baseline, its Python process) and every snippet process
   * it started, `node` this process (executor, queue, file i/o). Other work on the machine slows the wall clock
   * far more than it inflates these, so they compare runs on a busy machine.
   */
  cpu_ms?: { sandbox: number; node: number };
}

export interface BenchReport {
  cases: BenchCase[];
  /** The bare limit: one Python process that imported the same modules as the server (`imported`) forks a child per snippet, no jail, same concurrency. */
  fork_baseline: BenchCase[];
  /** Sandbox snippets/s over the fork baseline's, per case (the goal is 0.85). */
  vs_fork_baseline: Record<string, number>;
  /** The fork baseline's CPU per snippet over the sandbox's (process trees and this process): the same ratio, robust to other load. */
  vs_fork_baseline_cpu: Record<string, number>;
  /** Fresh python3 per snippet (imports sympy and numpy), 2 in flight. */
  baseline: BenchCase[];
  /** Private memory (USS) of an idle session: the cost of one more. */
  idle_session_mb: number;
  /** Its proportional share (PSS), which shrinks as more processes share the server's pages. */
  idle_session_pss_mb: number;
  /** Session blocks (`n += 1; print(n)`), one session per slot in flight; no baseline (a fresh process has no state). */
  session?: BenchCase;
  concurrency: number;
  /** What the server imported before forking (SandboxOptions.preload). */
  preloaded: string[];
  /** Every module the server and the fork baseline imported before forking (the preloaded packages, their
   * submodules and the server's standard set): the same address space on both sides. */
  imported: string[];
  server_start_ms: number;
  /** Load averages (1, 5, 15 min) when the run started and ended: figures from a busy machine need a quiet re-run. */
  machine: { cpus: number; load_start: number[]; load_end: number[] };
}

export interface BenchOptions {
  /** Snippets per case for the sandbox (the baseline runs a tenth, at least 10). */
  n?: number;
  concurrency?: number;
  sandbox?: SandboxOptions;
  /** Run the fresh-process baseline too (default true; it takes most of the time on a busy machine). */
  baseline?: boolean;
  onProgress?: (label: string) => void;
}

type Job = { code: string; options?: ExecuteOptions };

const trivial = (): Job => ({ code: 'print(1+1)' });
// Vary the coefficient so sympy's cache cannot answer.
const sympyJob = (i: number): Job => ({ code: `from sympy import symbols, solve\nx = symbols('x')\nprint(solve(x**2 - ${(i % 97) + 2}*x - 7, x))` });

/** Mostly light code, some sympy, a few errors and timeouts (timeouts use a 500 ms limit). */
function mixedJob(i: number): Job {
  const slot = i % 100;
  if (slot < 60) return { code: `total = sum(k * k for k in range(${200 + slot}))\nprint(total % 1000)` };
  if (slot < 75) return { code: `import math\nfrom fractions import Fraction\nprint(math.comb(${20 + slot}, 5), Fraction(${slot}, 7) + Fraction(1, 3))` };
  if (slot < 90) return sympyJob(i);
  if (slot < 94) return { code: `import numpy as np\nprint(np.linalg.solve(np.eye(3) * ${slot}, np.ones(3)).sum())` };
  if (slot < 99) return { code: `values = [1, 2, 3]\nprint(values[${slot}])` };
  return { code: 'while True: pass', options: { timeoutMs: 500 } };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

/** What one stretch of snippets measured: merged over the chunks of an interleaved case. */
interface Tally {
  n: number;
  wallMs: number;
  latencies: number[];
  kinds: Record<string, number>;
  /** CPU of the measured process tree (clock ticks) and of this process (µs); NaN when the tree was not measurable. */
  treeTicks: number;
  nodeMicros: number;
}

const emptyTally = (): Tally => ({ n: 0, wallMs: 0, latencies: [], kinds: {}, treeTicks: 0, nodeMicros: 0 });

/** Runs jobs `from`..`to`-1 with `concurrency` in flight and adds what it measured to `tally`. */
async function runChunk(tally: Tally, from: number, to: number, concurrency: number, job: (i: number) => Job, run: (job: Job) => Promise<ExecutionOutcome>, rootPid?: number): Promise<void> {
  let next = from;
  const treeBefore = rootPid === undefined ? NaN : treeCpuTicks(rootPid);
  const nodeBefore = process.cpuUsage();
  const started = performance.now();
  const worker = async () => {
    while (next < to) {
      const item = job(next++);
      const t = performance.now();
      const outcome = await run(item);
      tally.latencies.push(performance.now() - t);
      tally.kinds[outcome.kind] = (tally.kinds[outcome.kind] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  tally.wallMs += performance.now() - started;
  tally.n += to - from;
  const node = process.cpuUsage(nodeBefore);
  tally.nodeMicros += node.user + node.system;
  tally.treeTicks += rootPid === undefined ? NaN : treeCpuTicks(rootPid) - treeBefore;
}

function summarise(name: string, tally: Tally, withCpu: boolean): BenchCase {
  const latencies = [...tally.latencies].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  const round2 = (x: number) => Math.round(x * 100) / 100;
  const result: BenchCase = { name, n: tally.n, per_s: round(tally.n / (tally.wallMs / 1000)), p50_ms: round(percentile(latencies, 0.5)), p99_ms: round(percentile(latencies, 0.99)), kinds: tally.kinds };
  if (withCpu) result.cpu_ms = { sandbox: round2((tally.treeTicks * 1000) / CLOCK_TICKS_PER_S / tally.n), node: round2(tally.nodeMicros / 1000 / tally.n) };
  return result;
}

async function runCase(name: string, n: number, concurrency: number, job: (i: number) => Job, run: (job: Job) => Promise<ExecutionOutcome>): Promise<BenchCase> {
  const tally = emptyTally();
  await runChunk(tally, 0, n, concurrency, job, run);
  return summarise(name, tally, false);
}

/** One measured side of an interleaved case: how to run a snippet and the process tree its CPU is read from. */
interface Side {
  run: (job: Job) => Promise<ExecutionOutcome>;
  rootPid: () => number | undefined;
}

/**
 * The same `n` jobs on two sides in alternating chunks, ordered A B B A A B B A…, so that a machine whose speed
 * drifts during the run (other work, a shared host) slows both sides alike and their ratio stays meaningful.
 * Each side runs every job index once.
 */
export async function runInterleaved(name: string, n: number, concurrency: number, job: (i: number) => Job, a: Side, b: Side, rounds = INTERLEAVE_ROUNDS): Promise<[BenchCase, BenchCase]> {
  const tallies = [emptyTally(), emptyTally()] as const;
  const sides = [a, b] as const;
  const chunks = Math.max(1, Math.min(rounds * 2, n));
  for (let c = 0; c < chunks; c++) {
    const from = Math.floor((c * n) / chunks);
    const to = Math.floor(((c + 1) * n) / chunks);
    const order = c % 2 === 0 ? [0, 1] : [1, 0];
    for (const index of order) await runChunk(tallies[index]!, from, to, concurrency, job, sides[index]!.run, sides[index]!.rootPid());
  }
  return [summarise(name, tallies[0], true), summarise(name, tallies[1], true)];
}

/** Chunk pairs per interleaved case. */
const INTERLEAVE_ROUNDS = 4;

const FRESH_PRELUDE = `import sys, resource
sys.path.insert(0, ${JSON.stringify(DEFAULT_SITE_PACKAGES)})
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
import sympy, numpy
exec(compile(sys.stdin.read(), '<snippet>', 'exec'), {'__name__': '__main__'})
`;

/** The baseline: a fresh `python3` per snippet that imports sympy and numpy, no isolation. */
function freshRun(job: Job): Promise<ExecutionOutcome> {
  const started = performance.now();
  const timeoutMs = job.options?.timeoutMs ?? 5000;
  return new Promise((resolve) => {
    const child = spawn(DEFAULT_PYTHON, ['-S', '-E', '-s', '-c', FRESH_PRELUDE], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: '/usr/bin:/bin', OPENBLAS_NUM_THREADS: '1' },
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    // A hung baseline snippet is killed a second after its limit.
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs + 1000);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('close', (code) => {
      clearTimeout(timer);
      const durationMs = performance.now() - started;
      if (timedOut) resolve({ kind: 'timeout', stdout, stderr, durationMs, limitMs: timeoutMs });
      else if (code === 0) resolve({ kind: 'ok', stdout, stderr, durationMs });
      else resolve({ kind: 'error', errorType: 'Error', message: '', lastLine: stderr.trim().split('\n').at(-1) ?? '', stdout, stderr, durationMs });
    });
    child.stdin.end(job.code);
  });
}

/**
 * The fork baseline's server: reads {"id","code","timeout"} lines, forks a child per snippet that runs the code
 * with its output on a pipe, and answers {"id","status","out"}. Warmed with the benchmark's snippet kinds and its
 * heap frozen for the collector, like the sandbox's server; no jail, uid, rlimit, cgroup or seccomp: the bare
 * cost of forking a warm Python, which the sandbox's figures are compared with.
 */
const FORK_BASELINE_SERVER = `import gc, os, sys, io, json, select, signal, traceback
sys.path.insert(0, sys.argv[1])
for name in filter(None, sys.argv[2].split(',')):
    __import__(name)
protocol, sys.stdout = sys.stdout, io.StringIO()  # what the warm-up prints must not reach the protocol
for warm in json.loads(sys.argv[3]):  # run here once, so every child inherits warm caches (as the sandbox's do)
    try:
        exec(compile(warm, '<warm-up>', 'exec'), {'__name__': '__warmup__'})
    except Exception:
        pass
sys.stdout = protocol
gc.collect(); gc.freeze()  # as the sandbox's server does: the collector then leaves the shared heap alone
poller, children, pending = select.poll(), {}, b''
poller.register(0, select.POLLIN)
while True:
    for fd, _ in poller.poll():
        if fd == 0:
            data = os.read(0, 1 << 16)
            if not data:
                sys.exit(0)
            pending += data
            while b'\\n' in pending:
                line, pending = pending.split(b'\\n', 1)
                req = json.loads(line)
                r, w = os.pipe()
                pid = os.fork()
                if pid == 0:
                    os.close(r); os.dup2(w, 1); os.dup2(w, 2)
                    signal.setitimer(signal.ITIMER_REAL, req['timeout'])
                    rc = 0
                    try:
                        exec(compile(req['code'], '<snippet>', 'exec'), {'__name__': '__main__'})
                    except BaseException:
                        traceback.print_exc(); rc = 1
                    sys.stdout.flush(); sys.stderr.flush()
                    os._exit(rc)
                os.close(w)
                children[r] = (pid, req['id'], [])
                poller.register(r, select.POLLIN)
        else:
            chunk = os.read(fd, 1 << 16)
            if chunk:
                children[fd][2].append(chunk); continue
            pid, rid, chunks = children.pop(fd)
            poller.unregister(fd); os.close(fd)
            status = os.waitpid(pid, 0)[1]
            kind = 'ok' if status == 0 else 'timeout' if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGALRM else 'error'
            os.write(1, (json.dumps({'id': rid, 'status': kind, 'out': b''.join(chunks).decode('utf-8', 'replace')}) + '\\n').encode())
`;

/** Starts the fork baseline; `run` sends a snippet and resolves with its outcome. */
function startForkBaseline(preload: readonly string[]): { pid: number | undefined; run: (job: Job) => Promise<ExecutionOutcome>; close: () => Promise<void> } {
  // Warmed with each kind of the benchmark's snippets (the sandbox's server runs its own warm-up before forking).
  const warmUp = JSON.stringify([trivial().code, ...[0, 60, 75, 90].map((slot) => mixedJob(slot).code)]); // light, math, sympy, numpy
  const child = spawn(DEFAULT_PYTHON, ['-S', '-E', '-s', '-c', FORK_BASELINE_SERVER, DEFAULT_SITE_PACKAGES, preload.join(','), warmUp], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { PATH: '/usr/bin:/bin', OPENBLAS_NUM_THREADS: '1', LANG: 'C.UTF-8' },
  });
  const waiting = new Map<number, { resolve: (outcome: ExecutionOutcome) => void; started: number }>();
  let next = 0;
  createInterface({ input: child.stdout }).on('line', (line) => {
    let reply: { id: number; status: string; out: string };
    try {
      reply = JSON.parse(line) as typeof reply;
    } catch {
      return; // not a reply
    }
    const entry = waiting.get(reply.id);
    if (!entry) return;
    waiting.delete(reply.id);
    const durationMs = performance.now() - entry.started;
    if (reply.status === 'ok') entry.resolve({ kind: 'ok', stdout: reply.out, stderr: '', durationMs });
    else if (reply.status === 'timeout') entry.resolve({ kind: 'timeout', stdout: reply.out, stderr: '', durationMs, limitMs: 0 });
    else entry.resolve({ kind: 'error', errorType: 'Error', message: '', lastLine: reply.out.trim().split('\n').at(-1) ?? '', stdout: '', stderr: reply.out, durationMs });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const entry of waiting.values()) entry.resolve({ kind: 'infra_error', reason: 'the fork baseline exited', durationMs: 0 });
    waiting.clear();
  });
  return {
    pid: child.pid,
    run: (job) =>
      new Promise((resolve) => {
        const id = next++;
        waiting.set(id, { resolve, started: performance.now() });
        child.stdin.write(`${JSON.stringify({ id, code: job.code, timeout: (job.options?.timeoutMs ?? 5000) / 1000 })}\n`);
      }),
    close: async () => {
      if (!child.stdin.writableEnded) child.stdin.end(); // idempotent: closed after its cases and again on the way out
      await exited;
    },
  };
}

/** `n` blocks over `concurrency` sessions, each session running its blocks in order (a notebook per trajectory). */
async function runSessions(executor: SandboxExecutor, n: number, concurrency: number): Promise<BenchCase> {
  const sessions = await Promise.all(Array.from({ length: concurrency }, () => executor.openSession()));
  try {
    await Promise.all(sessions.map((session) => session.execute('n = 0')));
    // Each worker of runCase takes the next idle session, so no two blocks wait on one session.
    const idle = [...sessions];
    return await runCase('session', n, concurrency, () => ({ code: 'n += 1\nprint(n)' }), async (job) => {
      const session = idle.pop();
      if (!session) throw new Error('bench: more workers than sessions');
      try {
        return await session.execute(job.code);
      } finally {
        idle.push(session);
      }
    });
  } finally {
    await Promise.all(sessions.map((session) => session.close()));
  }
}

/** USER_HZ: the unit of the times in /proc/<pid>/stat (100 on every Linux architecture Node runs on). */
const CLOCK_TICKS_PER_S = 100;

/**
 * CPU ticks used by `rootPid` and all its descendants, reaped or not: each live process's own user+system
 * time plus the times of the children it has reaped (cutime/cstime), which appear nowhere else.
 */
export function treeCpuTicks(rootPid: number): number {
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(entry), Number(fields[1]));
      ticks.set(Number(entry), [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0));
    } catch {
      // exited meanwhile
    }
  }
  let total = 0;
  for (const [pid, own] of ticks) {
    for (let p: number | undefined = pid, depth = 0; p !== undefined && p > 0 && depth < 64; p = parent.get(p), depth++) {
      if (p === rootPid) {
        total += own;
        break;
      }
    }
  }
  return total;
}

/** Runs one sandbox case and charges it the CPU the sandbox tree and this process spent on it. */
async function measuredCase(serverPid: () => number | undefined, run: () => Promise<BenchCase>): Promise<BenchCase> {
  const root = serverPid();
  const before = root === undefined ? 0 : treeCpuTicks(root);
  const node = process.cpuUsage();
  const result = await run();
  const nodeUsed = process.cpuUsage(node);
  const sandboxMs = root === undefined || serverPid() !== root ? NaN : ((treeCpuTicks(root) - before) * 1000) / CLOCK_TICKS_PER_S;
  const round = (x: number) => Math.round(x * 100) / 100;
  return { ...result, cpu_ms: { sandbox: round(sandboxMs / result.n), node: round((nodeUsed.user + nodeUsed.system) / 1000 / result.n) } };
}

/**
 * Memory of every host process running as `uid`, in MB: `pss` (proportional share, which depends on how
 * many processes share the server's pages) and `uss` (private pages: what one more session costs).
 */
function memoryOfUid(uid: number): { pss: number; uss: number } {
  let pss = 0;
  let uss = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) !== uid) continue;
      const rollup = readFileSync(`/proc/${entry}/smaps_rollup`, 'utf8');
      const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? 0);
      pss += field('Pss');
      uss += field('Private_Clean') + field('Private_Dirty');
    } catch {
      // gone
    }
  }
  const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;
  return { pss: mb(pss), uss: mb(uss) };
}

export async function benchSandbox(options: BenchOptions = {}): Promise<BenchReport> {
  const n = options.n ?? 400;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const progress = options.onProgress ?? (() => undefined);
  const loadStart = loadavg().map((x) => Math.round(x * 100) / 100);
  const t0 = performance.now();
  const executor = await createSandboxExecutor({ ...options.sandbox, concurrency });
  const serverStartMs = Math.round(performance.now() - t0);
  const preloaded = executor.serverInfo?.preloaded ?? [];
  const cases: BenchCase[] = [];
  const forkBaseline: BenchCase[] = [];
  const baseline: BenchCase[] = [];
  let idleSessionMb = 0;
  let sessionCase: BenchCase | undefined;
  let idleSessionPssMb = 0;
  // The fork baseline runs beside the sandbox from the start: each case alternates chunks of the two.
  const imported = executor.serverInfo?.imported ?? preloaded;
  const bare = startForkBaseline(imported);
  try {
    const sandboxRun = (job: Job) => executor.execute(job.code, job.options);
    for (let i = 0; i < 8; i++) await sandboxRun(sympyJob(1000 + i)); // settle caches after start
    for (let i = 0; i < 8; i++) await bare.run(sympyJob(1000 + i));
    const jailed: Side = { run: sandboxRun, rootPid: () => executor.serverPid };
    // cpu_ms.sandbox of the fork baseline is its own process tree: the CPU ratio holds on a busy machine too.
    const unjailed: Side = { run: bare.run, rootPid: () => bare.pid };
    const plan: [string, number, (i: number) => Job][] = [
      ['trivial', n, trivial],
      ['sympy', Math.max(20, Math.round(n / 4)), sympyJob],
      ['mixed', Math.max(100, Math.round(n / 2)), mixedJob],
    ];
    for (const [name, count, job] of plan) {
      progress(name);
      const [sandboxCase, bareCase] = await runInterleaved(name, count, concurrency, job, jailed, unjailed);
      cases.push(sandboxCase);
      forkBaseline.push(bareCase);
    }
    await bare.close();
    progress('sessions');
    sessionCase = await measuredCase(() => executor.serverPid, () => runSessions(executor, Math.max(30, Math.round(n / 4)), concurrency));
    progress('idle session');
    const session = await executor.openSession();
    if (session instanceof SandboxSession && session.uid !== undefined) {
      await session.execute('x = 1');
      await new Promise((resolve) => setTimeout(resolve, 200));
      const memory = memoryOfUid(session.uid);
      idleSessionMb = memory.uss;
      idleSessionPssMb = memory.pss;
      await session.close();
    }
  } finally {
    await bare.close();
    await executor.close();
  }
  const vsForkBaseline: Record<string, number> = {};
  const vsForkBaselineCpu: Record<string, number> = {};
  const cpuOf = (c: BenchCase) => (c.cpu_ms ? c.cpu_ms.sandbox + c.cpu_ms.node : NaN);
  for (const bareCase of forkBaseline) {
    const jailed = cases.find((c) => c.name === bareCase.name);
    if (!jailed) continue;
    if (bareCase.per_s > 0) vsForkBaseline[bareCase.name] = Math.round((jailed.per_s / bareCase.per_s) * 100) / 100;
    const ratio = cpuOf(bareCase) / cpuOf(jailed);
    if (Number.isFinite(ratio)) vsForkBaselineCpu[bareCase.name] = Math.round(ratio * 100) / 100;
  }
  if (options.baseline !== false) {
    const baseN = Math.max(10, Math.round(n / 20));
    const baseConcurrency = 2;
    progress('baseline');
    baseline.push(await runCase('trivial', baseN, baseConcurrency, trivial, freshRun));
    baseline.push(await runCase('sympy', baseN, baseConcurrency, sympyJob, freshRun));
    baseline.push(await runCase('mixed', baseN, baseConcurrency, mixedJob, freshRun));
  }
  return { cases, fork_baseline: forkBaseline, vs_fork_baseline: vsForkBaseline, vs_fork_baseline_cpu: vsForkBaselineCpu, baseline, idle_session_mb: idleSessionMb, idle_session_pss_mb: idleSessionPssMb, ...(sessionCase ? { session: sessionCase } : {}), concurrency, preloaded, imported, server_start_ms: serverStartMs, machine: { cpus: (await import('node:os')).cpus().length, load_start: loadStart, load_end: loadavg().map((x) => Math.round(x * 100) / 100) } };
}
