/**
 * Where the sandbox's pieces live on the host, and the bubblewrap command line that jails the fork
 * server. Pure: no I/O except `findExecutable`, so the argv can be inspected in tests and by the doctor.
 */
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SandboxCgroup } from './cgroup.js';

export const SERVER_SCRIPT = fileURLToPath(new URL('./fork-server.py', import.meta.url));
/** Debian's interpreter: its sympy/numpy/scipy come from apt, so CI can always reinstall them. */
export const DEFAULT_PYTHON = '/usr/bin/python3';
export const DEFAULT_SITE_PACKAGES = '/usr/lib/python3/dist-packages';
export const INSTALL_HINT =
  'install the isolation with: apt-get install -y bubblewrap python3-sympy python3-numpy python3-scipy python3-mpmath python3-seccomp ' +
  '(and run as root: each snippet gets its own uid), or pass the unsafe flag (--unsafe) to run code without isolation';

export interface JailOptions {
  python: string;
  sitePackages: string;
  /** Host directory (0700, root) holding code/stdin/output files; bound read-write at /io. */
  ioDir: string;
  /** Size of the tmpfs that holds every snippet's scratch directory. */
  scratchMb: number;
  uidBase: number;
  uids: number;
  unsafe: boolean;
  /** Host scratch directory for unsafe mode (no tmpfs there). */
  hostScratch: string;
  /** Packages the server imports once (and warms up) before forking snippets. */
  preload: readonly string[];
  /** The sandbox's memory cgroup (bound at /cgroup); without it one-shot snippets cannot fork. */
  cgroup?: SandboxCgroup;
  /** Free slots whose launcher child is forked and in the slot's cgroup before its job (PREPARED in fork-server.py). */
  prepared?: number;
}

/** What the server preloads unless told otherwise: what model-written maths code imports. */
export const DEFAULT_PRELOAD: readonly string[] = ['sympy', 'numpy', 'scipy', 'mpmath'];

/** The command that starts the fork server: `bwrap … python3 fork-server.py …`, or python alone when unsafe. */
export function serverCommand(options: JailOptions): string[] {
  const inJail = !options.unsafe;
  const script = inJail ? '/sandbox/fork-server.py' : SERVER_SCRIPT;
  const python = [
    options.python,
    '-S',
    '-E',
    '-s',
    script,
    '--path',
    options.sitePackages,
    '--io-dir',
    inJail ? '/io' : options.ioDir,
    '--scratch',
    inJail ? '/scratch' : options.hostScratch,
    '--uid-base',
    String(options.uidBase),
    '--uids',
    String(options.uids),
    '--preload',
    options.preload.join(','),
    ...(inJail && options.cgroup ? ['--cgroup', '/cgroup', '--cgroup-version', String(options.cgroup.version)] : []),
    ...(options.prepared === undefined ? [] : ['--prepared', String(options.prepared)]),
  ];
  if (!inJail) return [...python, '--unsafe'];
  return [
    'bwrap',
    '--die-with-parent',
    '--new-session',
    '--unshare-pid',
    '--unshare-net',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    // A minimal read-only root: /usr and the links into it; no /etc beyond what the loader needs, no /home, /tmp, /work.
    ...['--ro-bind', '/usr', '/usr', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64'],
    ...['--symlink', 'usr/bin', '/bin', '--symlink', 'usr/sbin', '/sbin'],
    // /etc must be traversable by the slot uids (bwrap would create it 0700): the loader resolves alternatives-managed
    // libraries (libblas.so.3, liblapack.so.3) through /etc/alternatives when a snippet imports what was not preloaded.
    ...['--perms', '0755', '--dir', '/etc'],
    ...['--ro-bind-try', '/etc/alternatives', '/etc/alternatives', '--ro-bind-try', '/etc/ld.so.cache', '/etc/ld.so.cache'],
    ...['--proc', '/proc', '--dev', '/dev'],
    ...['--clearenv', '--setenv', 'PATH', '/usr/bin:/bin', '--setenv', 'LANG', 'C.UTF-8'],
    ...(options.python.startsWith('/usr/') ? [] : ['--ro-bind', options.python, options.python]),
    ...(options.sitePackages.startsWith('/usr/') ? [] : ['--ro-bind', options.sitePackages, options.sitePackages]),
    ...['--ro-bind', SERVER_SCRIPT, '/sandbox/fork-server.py'],
    ...['--size', String(options.scratchMb * 1024 * 1024), '--tmpfs', '/scratch'],
    ...['--bind', options.ioDir, '/io'],
    ...(options.cgroup ? ['--bind', options.cgroup.dir, '/cgroup'] : []),
    // bwrap run as root keeps every capability unless told otherwise: keep only what the server needs to create
    // slot directories and switch each child to its slot uid, and to mount /proc with hidepid (CAP_SYS_ADMIN,
    // which the server drops right after).
    ...['--cap-drop', 'ALL'],
    ...['CAP_SETUID', 'CAP_SETGID', 'CAP_KILL', 'CAP_CHOWN', 'CAP_FOWNER', 'CAP_DAC_OVERRIDE', 'CAP_SETPCAP', 'CAP_SYS_ADMIN'].flatMap((cap) => [
      '--cap-add',
      cap,
    ]),
    ...python,
  ];
}

/** The absolute path of an executable found on PATH (or given absolute), or undefined. */
export function findExecutable(name: string, path = process.env.PATH ?? '/usr/bin:/bin'): string | undefined {
  const candidates = name.includes('/') ? [name] : path.split(':').filter(Boolean).map((dir) => `${dir}/${name}`);
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
