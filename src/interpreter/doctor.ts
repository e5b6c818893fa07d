/** `cir sandbox doctor`: what isolation this machine offers for the sandbox, and why not if it does not. */
import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import type { MemoryBound } from './cgroup.js';
import { DEFAULT_PYTHON, DEFAULT_SITE_PACKAGES, INSTALL_HINT, findExecutable } from './jail.js';
import { createSandboxExecutor } from './sandbox-executor.js';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DoctorReport {
  /** `full`: bubblewrap + seccomp + per-snippet uid, verified end to end; `none`: only --unsafe would run. */
  isolation: 'full' | 'none';
  /** How a snippet's memory is bounded with all its descendants: a cgroup, or (without one) no fork in one-shot snippets. */
  memory_bound?: MemoryBound;
  ok: boolean;
  checks: DoctorCheck[];
  advice: string[];
}

function run(command: string, args: string[]): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000, env: { PATH: '/usr/bin:/bin' } });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim() || (result.error?.message ?? '') };
}

/**
 * A listener on the host's loopback that the jail must not reach: the network check never sends a packet
 * anywhere else, so it is harmless where the jail is missing. Resolves with a probe and the connection count.
 */
async function loopbackListener(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, connections: () => connections, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export async function sandboxDoctor(options: { python?: string } = {}): Promise<DoctorReport> {
  const python = options.python ?? DEFAULT_PYTHON;
  const checks: DoctorCheck[] = [];
  const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  add('linux', process.platform === 'linux', `platform ${process.platform}`);
  const bwrap = findExecutable('bwrap');
  add('bubblewrap', Boolean(bwrap), bwrap ? run(bwrap, ['--version']).output : 'bwrap not found on PATH');
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  add('root', root, root ? 'running as root: snippets can get their own uids' : 'not root: per-snippet uids need root');
  if (bwrap) {
    const probe = run(bwrap, ['--unshare-all', '--die-with-parent', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/lib64', '/lib64', '--symlink', 'usr/lib', '/lib', '/usr/bin/true']);
    add('namespaces', probe.ok, probe.ok ? 'bwrap can create pid, net, ipc, uts and mount namespaces' : probe.output);
  }
  const havePython = Boolean(findExecutable(python));
  add('python', havePython, havePython ? run(python, ['--version']).output : `${python} not found`);
  if (havePython) {
    for (const module of ['sympy', 'numpy', 'scipy', 'mpmath', 'seccomp']) {
      const probe = run(python, ['-S', '-c', `import sys; sys.path.insert(0, ${JSON.stringify(DEFAULT_SITE_PACKAGES)}); import ${module}; print(getattr(${module}, '__version__', 'present'))`]);
      add(`python3-${module}`, probe.ok, probe.ok ? probe.output : probe.output.split('\n').slice(-1)[0] ?? 'missing');
    }
  }
  const ready = checks.every((check) => check.ok);
  let memoryBound: MemoryBound | undefined;
  if (ready) {
    try {
      const executor = await createSandboxExecutor({ concurrency: 1, uids: 4, uidBase: 61900 });
      try {
        const hello = await executor.execute('print(6 * 7)');
        add('end-to-end', hello.kind === 'ok' && hello.stdout === '42\n', `print(6 * 7) -> ${JSON.stringify(hello.kind === 'ok' ? hello.stdout : hello)}`);
        const exec = await executor.execute('import subprocess\nsubprocess.run(["/usr/bin/true"])');
        add('seccomp', exec.kind === 'error' && exec.errorType === 'PermissionError', `subprocess in a snippet -> ${exec.kind === 'error' ? exec.lastLine : exec.kind}`);
        const listener = await loopbackListener();
        try {
          const net = await executor.execute(`import socket\nsocket.create_connection(("127.0.0.1", ${listener.port}), timeout=2)`, { timeoutMs: 3000 });
          add('network', net.kind === 'error' && listener.connections() === 0, `connect to a host listener on 127.0.0.1:${listener.port} -> ${net.kind === 'error' ? net.lastLine : net.kind}`);
        } finally {
          await listener.close();
        }
        memoryBound = executor.memoryBound;
        add(
          'memory bound',
          memoryBound === 'cgroup-v1' || memoryBound === 'cgroup-v2' || memoryBound === 'no-fork',
          memoryBound?.startsWith('cgroup')
            ? `${memoryBound}: one memory cgroup per snippet and per session bounds it with all its descendants`
            : `${memoryBound}: no cgroup (${executor.cgroupNote ?? 'unknown'}), so one-shot snippets cannot fork and RLIMIT_AS bounds them; session blocks are bounded per process only`,
        );
        const info = executor.serverInfo;
        add('preloaded', Boolean(info?.preloaded.length), `${info?.preloaded.join(', ')}; import ${info?.import_ms} ms, warm-up ${info?.warmup_ms} ms; ${info?.heap_huge_mb ?? 0} MB of the warm heap on huge pages`);
      } finally {
        await executor.close();
      }
    } catch (error) {
      add('end-to-end', false, error instanceof Error ? error.message : String(error));
    }
  }
  const ok = checks.every((check) => check.ok);
  const advice = ok ? [] : [INSTALL_HINT];
  return { isolation: ok ? 'full' : 'none', ...(memoryBound ? { memory_bound: memoryBound } : {}), ok, checks, advice };
}
