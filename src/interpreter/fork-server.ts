/**
 * One fork-server process (normally bwrap + python3 fork-server.py), driven over JSON lines.
 * It knows nothing of queues or retries: the executor in sandbox-executor.ts does.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { CirError } from '../core/errors.js';
import type { MemoryBound } from './cgroup.js';
import { serverCommand, type JailOptions } from './jail.js';
import type { ServerReply } from './outcome.js';

export interface ReadyInfo {
  pid: number;
  import_ms: number;
  warmup_ms: number;
  preloaded: string[];
  /** Every module the server imported before forking (its standard set, the preloaded packages and their
   * submodules): what the bench's fork baseline imports too, so both fork the same address space. */
  imported: string[];
  seccomp: boolean;
  unsafe: boolean;
  python: string;
  /** MiB of the warm heap on 2 MiB pages (MADV_COLLAPSE; 0 on kernels before 6.1): cheaper forks. */
  heap_huge_mb?: number;
  /** How a snippet's memory is bounded with all its descendants (cgroup.ts, MemoryBound). */
  memory_bound?: MemoryBound;
}

/** The server could not be started or died; requests in flight get `server_died`. */
export class SandboxStartError extends CirError {
  override readonly name: string = 'SandboxStartError';
}

const live = new Set<ForkServer>();
let exitHookInstalled = false;

/** Last resort for a parent that exits without close(): bwrap's --die-with-parent covers SIGKILL. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const server of live) server.kill();
  });
}

export class ForkServer {
  private readonly pending = new Map<number, { resolve: (reply: ServerReply) => void; timer: NodeJS.Timeout }>();
  private nextId = 1;
  private stderrTail = '';
  private exited = false;
  readonly exitPromise: Promise<void>;
  onExit: (() => void) | undefined;

  private constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, Readable>,
    readonly ready: ReadyInfo,
  ) {
    this.exitPromise = new Promise((resolve) => {
      child.once('exit', () => {
        this.exited = true;
        live.delete(this);
        for (const [id, entry] of this.pending) {
          clearTimeout(entry.timer);
          entry.resolve({ id, status: 'server_died', reason: this.describeDeath() });
        }
        this.pending.clear();
        this.onExit?.();
        resolve();
      });
    });
  }

  get alive(): boolean {
    return !this.exited;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private describeDeath(): string {
    const tail = this.stderrTail.trim().split('\n').slice(-3).join(' | ');
    return `the sandbox server exited${tail ? ` (${tail})` : ''}`;
  }

  /** Starts the server and waits for its ready line (imports and warm-up take about a second). */
  static start(options: JailOptions, startTimeoutMs = 60_000): Promise<ForkServer> {
    const command = serverCommand(options);
    const [program, ...args] = command;
    if (!program) throw new SandboxStartError('empty sandbox command');
    installExitHook();
    const child = spawn(program, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' },
    });
    return new Promise((resolve, reject) => {
      let server: ForkServer | undefined;
      let stderr = '';
      const lines = createInterface({ input: child.stdout });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new SandboxStartError(`the sandbox server did not start within ${startTimeoutMs} ms: ${stderr.slice(-500)}`));
      }, startTimeoutMs);
      child.stderr.on('data', (chunk: Buffer) => {
        if (server) server.stderrTail = (server.stderrTail + chunk.toString('utf8')).slice(-4000);
        else stderr = (stderr + chunk.toString('utf8')).slice(-4000);
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new SandboxStartError(`cannot start ${program}: ${error.message}`, { cause: error }));
      });
      child.once('exit', (code, signal) => {
        if (server) return;
        clearTimeout(timer);
        reject(new SandboxStartError(`the sandbox server exited before it was ready (${signal ?? `code ${code}`}): ${stderr.trim().slice(-800)}`));
      });
      child.stdin.on('error', () => {
        // the server died: its exit handler answers everything pending
      });
      lines.on('line', (line) => {
        let message: Record<string, unknown>;
        try {
          message = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return; // the server writes only JSON; anything else is ignored, never trusted
        }
        if (!server) {
          if (message.ready !== true) return;
          clearTimeout(timer);
          server = new ForkServer(child, message as unknown as ReadyInfo);
          server.stderrTail = stderr;
          live.add(server);
          resolve(server);
          return;
        }
        server.onReply(message as unknown as ServerReply);
      });
    });
  }

  private onReply(reply: ServerReply): void {
    if (typeof reply.id !== 'number') return;
    const entry = this.pending.get(reply.id);
    if (!entry) return;
    this.pending.delete(reply.id);
    clearTimeout(entry.timer);
    entry.resolve(reply);
  }

  /**
   * Sends one request; resolves with the reply. A reply that does not come within `watchdogMs`
   * means the server is wedged: it is killed, and everything pending gets `server_died`.
   */
  request(body: Record<string, unknown>, watchdogMs: number): Promise<ServerReply> {
    if (this.exited) return Promise.resolve({ status: 'server_died', reason: this.describeDeath() });
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.stderrTail += `\nno reply to request ${id} within ${watchdogMs} ms`;
        this.kill();
      }, watchdogMs);
      this.pending.set(id, { resolve, timer });
      this.child.stdin.write(`${JSON.stringify({ ...body, id })}\n`);
    });
  }

  /** Closes the protocol: the server kills every snippet and session, then exits. */
  async close(graceMs = 3000): Promise<void> {
    if (this.exited) return;
    this.child.stdin.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exitPromise;
    clearTimeout(timer);
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}
