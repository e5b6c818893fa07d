/**
 * The local sandbox executor: a pool around one jailed fork server with a bounded number of
 * snippets in flight, a FIFO queue for the rest (back-pressure), automatic restart of a dead
 * server, one retry of infrastructure failures, and sessions with fork().
 */
import { closeSync, fstatSync, lstatSync, mkdtempSync, openSync, readSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CirError, InputError, UnsupportedError } from '../core/errors.js';
import type { CodeExecutor, ExecuteOptions, ExecutionOutcome, ExecutionSession } from '../core/execution.js';
import { createSandboxCgroup, removeSandboxCgroup, type MemoryBound } from './cgroup.js';
import { ForkServer } from './fork-server.js';
import { DEFAULT_PRELOAD, DEFAULT_PYTHON, DEFAULT_SITE_PACKAGES, INSTALL_HINT, findExecutable, type JailOptions } from './jail.js';
import { RETRYABLE_STATUSES, toOutcome, type ServerReply, type SnippetLimits } from './outcome.js';

/**
 * Snippets in flight by default. On the 2-core development machine 3 ran as many trivial and more mixed
 * snippets per second than 4, with lower latency, and 10–30% more than 2 (docs/interpreter.md, Figures).
 */
export const DEFAULT_CONCURRENCY = 3;

export interface SandboxOptions {
  /** Snippets running at once; more wait in a queue (default DEFAULT_CONCURRENCY). */
  concurrency?: number;
  /** Default wall-clock limit per snippet (paper: 5000 ms). */
  timeoutMs?: number;
  /** Default address-space limit per snippet in MiB. */
  memoryMb?: number;
  /** Default cap on stdout+stderr bytes. */
  maxOutputBytes?: number;
  /** Run without bubblewrap, seccomp or uid switching. Only for code you trust. */
  unsafe?: boolean;
  python?: string;
  sitePackages?: string;
  /** Size of the tmpfs shared by every snippet's scratch directory. */
  scratchMb?: number;
  /** How many slot uids (one per running snippet or live session family). */
  uids?: number;
  uidBase?: number;
  /**
   * Python packages imported once in the server and shared with every snippet (default DEFAULT_PRELOAD:
   * sympy, numpy, scipy, mpmath). Each makes every fork dearer and spares the snippets that import it the
   * import: without scipy a trivial snippet costs ~0.7 ms less CPU, a snippet that imports scipy 80–110 ms more.
   */
  preload?: readonly string[];
  /**
   * Bound each snippet's memory with all its descendants by a cgroup where the host offers one (default true).
   * Without it (or with false) one-shot snippets cannot fork, which keeps RLIMIT_AS a bound on the whole snippet.
   */
  memoryCgroup?: boolean;
}

/**
 * Slots kept prepared for one-shot snippets: their launcher child already forked and in the slot's memory cgroup.
 * Joining a cgroup waits now and then for the kernel (10-35 ms for 1-2% of joins here, every join on the machine
 * queued behind it), so the pool must outlast such a wait at the rate snippets start: 8 covered it at 3 in flight.
 */
export function preparedSlots(concurrency: number): number {
  return Math.min(32, Math.max(8, concurrency + 2));
}

interface Resolved {
  concurrency: number;
  limits: SnippetLimits;
  jail: JailOptions;
}

const IO_PREFIX = 'cir-sandbox-';

function resolveOptions(options: SandboxOptions, ioDir: string): Resolved {
  const positive = (value: number | undefined, name: string, fallback: number, max: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isFinite(value) || value <= 0 || value > max) throw new InputError(`must be a number in (0, ${max}], got ${value}`, name);
    return value;
  };
  const unsafe = options.unsafe ?? false;
  const preload = options.preload ?? DEFAULT_PRELOAD;
  for (const name of preload) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(name)) throw new InputError(`must be Python module names, got ${JSON.stringify(name)}`, 'preload');
  }
  const concurrency = Math.floor(positive(options.concurrency, 'concurrency', DEFAULT_CONCURRENCY, 256));
  return {
    concurrency,
    limits: {
      timeoutMs: positive(options.timeoutMs, 'timeoutMs', 5000, 3_600_000),
      memoryMb: Math.floor(positive(options.memoryMb, 'memoryMb', 2048, 1 << 20)),
      maxOutputBytes: Math.floor(positive(options.maxOutputBytes, 'maxOutputBytes', 1 << 20, 1 << 30)),
    },
    jail: {
      python: options.python ?? DEFAULT_PYTHON,
      sitePackages: options.sitePackages ?? DEFAULT_SITE_PACKAGES,
      ioDir,
      scratchMb: Math.floor(positive(options.scratchMb, 'scratchMb', 1024, 1 << 20)),
      uidBase: Math.floor(positive(options.uidBase, 'uidBase', 61000, 1 << 30)),
      uids: Math.floor(positive(options.uids, 'uids', 256, 4096)),
      unsafe,
      hostScratch: join(ioDir, 'scratch'),
      preload: [...preload],
      prepared: preparedSlots(concurrency),
    },
  };
}

/** A file the executor puts in each io directory it makes: the clean-up removes nothing without it. */
const IO_MARKER = '.cir-sandbox-io';

/** Makes this process's io directory in `base` (0700, with the marker). */
export function makeIoDir(base: string): string {
  const dir = mkdtempSync(join(base, `${IO_PREFIX}${process.pid}-`));
  writeFileSync(join(dir, IO_MARKER), '', { mode: 0o600, flag: 'wx' });
  return dir;
}

/**
 * Removes io directories of earlier runs whose owning process is gone (left by a SIGKILLed parent). Only what
 * makeIoDir made: a real directory (never a symlink), owned by this uid, mode 0700, holding the marker as a
 * regular file of this uid. `base` is a shared sticky directory (/dev/shm): anyone may plant names there.
 */
export function removeStaleIoDirs(base: string): void {
  const me = typeof process.getuid === 'function' ? process.getuid() : -1;
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  for (const name of names) {
    const match = new RegExp(`^${IO_PREFIX}(\\d+)-`).exec(name);
    if (!match) continue;
    const path = join(base, name);
    try {
      const dir = lstatSync(path);
      if (!dir.isDirectory() || dir.uid !== me || (dir.mode & 0o777) !== 0o700) continue;
      const marker = lstatSync(join(path, IO_MARKER));
      if (!marker.isFile() || marker.uid !== me) continue;
    } catch {
      continue; // gone, or no marker: not ours
    }
    try {
      process.kill(Number(match[1]), 0);
      continue; // its executor still runs
    } catch {
      rmSync(path, { recursive: true, force: true }); // rm never follows the symlinks it meets inside
    }
  }
}

function ioBase(): string {
  try {
    if (statSync('/dev/shm').isDirectory()) return '/dev/shm';
  } catch {
    // no /dev/shm (macOS)
  }
  return tmpdir();
}

interface Task {
  start: () => Promise<void>;
  signal: AbortSignal | undefined;
  cancel: () => void;
}

/** Reads at most `limit` bytes from the start (or the end) of a small file on tmpfs. Synchronous on
 * purpose: these are microsecond calls, cheaper than a trip through libuv's thread pool. */
function readPart(path: string, limit: number, fromEnd: boolean, missing: 'throw' | 'empty' = 'throw'): { data: Buffer; size: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if (missing === 'empty' && (error as NodeJS.ErrnoException).code === 'ENOENT') return { data: Buffer.alloc(0), size: 0 };
    throw error;
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, limit);
    const data = Buffer.alloc(length);
    if (length > 0) readSync(fd, data, 0, length, fromEnd ? size - length : 0);
    return { data, size };
  } finally {
    closeSync(fd);
  }
}

const STDERR_KEEP = 64 * 1024;

export class SandboxExecutor implements CodeExecutor {
  readonly name: string;
  private server: ForkServer | undefined;
  private starting: Promise<ForkServer> | undefined;
  private generation = 0;
  private readonly queue: Task[] = [];
  private inFlight = 0;
  private counter = 0;
  private closed = false;
  /** How often the server was (re)started; tests read it to see a restart happen. */
  starts = 0;

  private constructor(
    private readonly settings: Resolved,
    private readonly ioDir: string,
  ) {
    this.name = settings.jail.unsafe ? 'local-unsafe' : 'local-bwrap';
  }

  static async create(options: SandboxOptions = {}): Promise<SandboxExecutor> {
    const unsafe = options.unsafe ?? false;
    if (!unsafe) {
      if (process.platform !== 'linux') throw new UnsupportedError(`the sandbox needs Linux with bubblewrap; ${INSTALL_HINT}`);
      if (!findExecutable('bwrap')) throw new UnsupportedError(`bubblewrap (bwrap) is not installed; ${INSTALL_HINT}`);
      if (typeof process.getuid === 'function' && process.getuid() !== 0) {
        throw new UnsupportedError(`the sandbox must run as root to give each snippet its own uid; ${INSTALL_HINT}`);
      }
    }
    const python = options.python ?? DEFAULT_PYTHON;
    if (!findExecutable(python)) throw new UnsupportedError(`${python} is not installed; ${INSTALL_HINT}`);
    const base = ioBase();
    removeStaleIoDirs(base);
    const ioDir = makeIoDir(base); // mode 0700: only root enters
    let settings: Resolved;
    try {
      settings = resolveOptions(options, ioDir);
    } catch (error) {
      rmSync(ioDir, { recursive: true, force: true });
      throw error;
    }
    let cgroupNote: string | undefined;
    if (!unsafe && options.memoryCgroup !== false) {
      const { cgroup, reason } = createSandboxCgroup();
      if (cgroup) settings.jail.cgroup = cgroup;
      cgroupNote = reason;
    } else {
      cgroupNote = unsafe ? 'unsafe mode: no jail' : 'memoryCgroup: false';
    }
    const executor = new SandboxExecutor(settings, ioDir);
    executor.cgroupNote = cgroupNote;
    try {
      await executor.ensureServer();
    } catch (error) {
      await executor.close();
      throw error;
    }
    return executor;
  }

  /** Why no memory cgroup is in use, when none is. */
  cgroupNote: string | undefined;

  /** How each snippet's memory is bounded with all its descendants (what the server reported). */
  get memoryBound(): MemoryBound | undefined {
    return this.server?.ready.memory_bound;
  }

  /** Facts for the doctor and the benchmark. */
  get serverInfo(): ForkServer['ready'] | undefined {
    return this.server?.ready;
  }

  get serverPid(): number | undefined {
    return this.server?.pid;
  }

  private ensureServer(): Promise<ForkServer> {
    if (this.closed) return Promise.reject(new CirError('the executor is closed'));
    if (this.server?.alive) return Promise.resolve(this.server);
    if (!this.starting) {
      this.starting = ForkServer.start(this.settings.jail).then(
        (server) => {
          this.server = server;
          this.generation++;
          this.starts++;
          this.starting = undefined;
          if (this.closed) void server.close();
          return server;
        },
        (error: unknown) => {
          this.starting = undefined;
          throw error;
        },
      );
    }
    return this.starting;
  }

  /** Runs `work` when a slot is free; queued work can be aborted. */
  private schedule<T>(signal: AbortSignal | undefined, aborted: T, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve) => {
      if (signal?.aborted) return resolve(aborted);
      let settled = false;
      const onAbort = () => {
        if (settled) return;
        settled = true;
        const index = this.queue.indexOf(task);
        if (index >= 0) this.queue.splice(index, 1);
        resolve(aborted);
      };
      const task: Task = {
        signal,
        cancel: onAbort,
        start: async () => {
          try {
            const result = await work();
            if (!settled) resolve(result);
          } finally {
            settled = true;
            signal?.removeEventListener('abort', onAbort);
          }
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(task);
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.settings.concurrency && this.queue.length > 0) {
      const task = this.queue.shift();
      if (!task) break;
      if (task.signal?.aborted) continue;
      this.inFlight++;
      void task.start().finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private limitsFor(options: ExecuteOptions | undefined): SnippetLimits {
    const base = this.settings.limits;
    const check = (value: number | undefined, name: string, fallback: number, max: number) => {
      if (value === undefined) return fallback;
      if (!Number.isFinite(value) || value <= 0 || value > max) throw new InputError(`must be a number in (0, ${max}], got ${value}`, name);
      return value;
    };
    return {
      timeoutMs: check(options?.timeoutMs, 'timeoutMs', base.timeoutMs, 3_600_000),
      memoryMb: Math.floor(check(options?.memoryMb, 'memoryMb', base.memoryMb, 1 << 20)),
      maxOutputBytes: Math.floor(check(options?.maxOutputBytes, 'maxOutputBytes', base.maxOutputBytes, 1 << 30)),
    };
  }

  /** One snippet through the server: write the files, send metadata, read the files, delete them. */
  async runOnce(code: string, options: ExecuteOptions | undefined, session?: { name: string; generation: number }): Promise<ExecutionOutcome> {
    const limits = this.limitsFor(options);
    const started = performance.now();
    let server: ForkServer;
    try {
      server = await this.ensureServer();
    } catch (error) {
      return { kind: 'infra_error', reason: error instanceof Error ? error.message : String(error), durationMs: performance.now() - started };
    }
    if (session && session.generation !== this.generation) {
      return { kind: 'infra_error', reason: 'session lost: the sandbox server restarted', durationMs: 0 };
    }
    const name = `j${++this.counter}`;
    const base = join(this.ioDir, name);
    const suffixes = options?.stdin ? ['py', 'in', 'out', 'err', 'meta'] : ['py', 'out', 'err', 'meta'];
    try {
      writeFileSync(`${base}.py`, code, { mode: 0o600 });
      const stdin = options?.stdin ?? '';
      // Most snippets read nothing: without a .in file the server gives them /dev/null.
      if (stdin !== '') writeFileSync(`${base}.in`, stdin, { mode: 0o600 });
      const request: Record<string, unknown> = {
        op: 'run',
        io: name,
        timeout: limits.timeoutMs / 1000,
        mem_mb: limits.memoryMb,
        max_output: limits.maxOutputBytes,
        stdin: stdin !== '',
      };
      if (session) request.session = session.name;
      const reply = await server.request(request, limits.timeoutMs + 10_000);
      const durationMs = reply.wall_ms ?? performance.now() - started;
      if (reply.status === 'server_died' || reply.status === 'refused' || reply.status === 'session_dead') {
        return this.markRetryable(reply, toOutcome(reply, { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), stdoutBytes: 0, stderrBytes: 0, meta: '' }, limits, durationMs));
      }
      // A snippet that failed to start may not have made its files.
      const missing = reply.status === 'setup_failed' ? 'empty' : 'throw';
      const out = readPart(`${base}.out`, limits.maxOutputBytes, false, missing);
      const err = readPart(`${base}.err`, STDERR_KEEP, true, missing);
      // The child writes its exception record only for errors, and only errors read it.
      const meta = reply.status === 'error' ? readPart(`${base}.meta`, 64 * 1024, false).data.toString('utf8') : '';
      return this.markRetryable(reply, toOutcome(reply, { stdout: out.data, stderr: err.data, stdoutBytes: out.size, stderrBytes: err.size, meta }, limits, durationMs));
    } catch (error) {
      return { kind: 'infra_error', reason: `sandbox i/o failed: ${error instanceof Error ? error.message : String(error)}`, durationMs: performance.now() - started };
    } finally {
      for (const suffix of suffixes) {
        try {
          unlinkSync(`${base}.${suffix}`);
        } catch {
          // never created (the server failed before opening it)
        }
      }
    }
  }

  private readonly retryable = new WeakSet<ExecutionOutcome>();

  private markRetryable(reply: ServerReply, outcome: ExecutionOutcome): ExecutionOutcome {
    if (RETRYABLE_STATUSES.has(reply.status)) this.retryable.add(outcome);
    return outcome;
  }

  execute(code: string, options?: ExecuteOptions): Promise<ExecutionOutcome> {
    this.limitsFor(options); // bad limits are the caller's error, thrown now
    const aborted: ExecutionOutcome = { kind: 'infra_error', reason: 'aborted', durationMs: 0 };
    return this.schedule(options?.signal, aborted, async () => {
      const first = await this.runOnce(code, options);
      if (first.kind !== 'infra_error' || this.closed || !this.retryable.has(first)) return first;
      return this.runOnce(code, options); // infrastructure failures are retried once, then reported
    });
  }

  /** Sends a control request (open/fork/close) outside the in-flight limit. */
  async control(body: Record<string, unknown>): Promise<ServerReply & { generation: number }> {
    const server = await this.ensureServer();
    const generation = this.generation;
    const reply = await server.request(body, 30_000);
    return { ...reply, generation };
  }

  async openSession(): Promise<ExecutionSession> {
    const name = `s${++this.counter}`;
    // The session's memory bound and CPU limit come from the executor's defaults: no block can go above them.
    const limits = this.settings.limits;
    const reply = await this.control({ op: 'open', session: name, mem_mb: limits.memoryMb, timeout: limits.timeoutMs / 1000 });
    if (reply.status !== 'ok') throw new CirError(`cannot open a sandbox session: ${reply.status}${reply.reason ? ` (${reply.reason})` : ''}`);
    return new SandboxSession(this, name, reply.generation, reply.uid);
  }

  /** Internal: schedules a session snippet under the same in-flight limit as one-shot snippets. */
  runInSession(session: SandboxSession, code: string, options?: ExecuteOptions): Promise<ExecutionOutcome> {
    this.limitsFor(options);
    const aborted: ExecutionOutcome = { kind: 'infra_error', reason: 'aborted', durationMs: 0 };
    return this.schedule(options?.signal, aborted, () => this.runOnce(code, options, { name: session.id, generation: session.generation }));
  }

  newSessionName(): string {
    return `s${++this.counter}`;
  }

  currentGeneration(): number {
    return this.generation;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const task of this.queue.splice(0)) task.cancel();
    const server = this.server ?? (await this.starting?.catch(() => undefined));
    await server?.close();
    rmSync(this.ioDir, { recursive: true, force: true });
    const cgroup = this.settings.jail.cgroup;
    // The jail's processes are gone with its pid namespace, but their exit may lag a moment: retry briefly.
    for (let attempt = 0; cgroup && attempt < 50 && !removeSandboxCgroup(cgroup.dir); attempt++) await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export class SandboxSession implements ExecutionSession {
  private closed = false;
  /** Serialises this session's snippets: a session runs one block at a time, in order. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly executor: SandboxExecutor,
    readonly id: string,
    readonly generation: number,
    /** The session family's slot uid (shared with its forks); for memory accounting. */
    readonly uid: number | undefined,
  ) {}

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work, work);
    this.tail = result.catch(() => undefined);
    return result;
  }

  execute(code: string, options?: ExecuteOptions): Promise<ExecutionOutcome> {
    if (this.closed) return Promise.resolve({ kind: 'infra_error', reason: 'session closed', durationMs: 0 });
    return this.enqueue(() => this.executor.runInSession(this, code, options));
  }

  fork(count: number): Promise<ExecutionSession[]> {
    if (!Number.isInteger(count) || count < 1 || count > 64) return Promise.reject(new InputError(`must be an integer in [1, 64], got ${count}`, 'count'));
    if (this.closed) return Promise.reject(new CirError('cannot fork a closed session'));
    return this.enqueue(async () => {
      const children = Array.from({ length: count }, () => this.executor.newSessionName());
      if (this.executor.currentGeneration() !== this.generation) throw new CirError('cannot fork: session lost (the sandbox server restarted)');
      const reply = await this.executor.control({ op: 'fork', session: this.id, children });
      if (reply.status !== 'ok') throw new CirError(`cannot fork session ${this.id}: ${reply.status}${reply.reason ? ` (${reply.reason})` : ''}`);
      return children.map((name) => new SandboxSession(this.executor, name, this.generation, this.uid));
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return this.enqueue(async () => {
      if (this.executor.currentGeneration() !== this.generation) return;
      await this.executor.control({ op: 'close', session: this.id }).catch(() => undefined);
    });
  }
}

/** The local bubblewrap fork-server pool. Refuses to run without isolation unless `unsafe` is set. */
export function createSandboxExecutor(options: SandboxOptions = {}): Promise<SandboxExecutor> {
  return SandboxExecutor.create(options);
}
