/**
 * Attacks on the sandbox. Each one must be contained, and the server must answer a normal snippet
 * correctly afterwards, with no process left under a slot uid. Network attacks touch only a listener
 * this test opens on the host's loopback (127.0.0.1 and ::1): no packet is ever addressed anywhere else, so
 * the test is harmless where the jail is missing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { ExecutionOutcome } from '../core/execution.js';
import { createSandboxExecutor, SandboxSession, type SandboxExecutor } from './sandbox-executor.js';
import { processesWithUids, waitFor } from './testing/support.js';

const UID_BASE = 62000;
const UIDS = 16;
let executor: SandboxExecutor;
let listener: Server;
let listenerPort = 0;
let connections = 0;

before(async () => {
  executor = await createSandboxExecutor({ uidBase: UID_BASE, uids: UIDS, timeoutMs: 2000, scratchMb: 64, concurrency: 2 });
  listener = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const address = listener.address();
  listenerPort = typeof address === 'object' && address ? address.port : 0;
});
after(async () => {
  await executor.close();
  await new Promise((resolve) => listener.close(resolve));
});

function ownedBy(pid: number, uid: number): boolean {
  try {
    return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) === uid;
  } catch {
    return false;
  }
}

function stdoutOf(outcome: ExecutionOutcome): string {
  return outcome.kind === 'infra_error' ? `<infra ${outcome.reason}>` : outcome.stdout;
}

/** Runs an attack, then checks the server still answers and nothing of the attack survives. */
async function contained(code: string, options: { timeoutMs?: number; memoryMb?: number; sessionUid?: number } = {}): Promise<ExecutionOutcome> {
  const { sessionUid, ...limits } = options;
  const outcome = await executor.execute(code, limits);
  assert.notEqual(outcome.kind, 'infra_error', `the attack broke the sandbox: ${JSON.stringify(outcome)}`);
  const probe = await executor.execute('print(6 * 7)');
  assert.equal(stdoutOf(probe), '42\n');
  const strays = () => processesWithUids(UID_BASE, UIDS).filter((pid) => sessionUid === undefined || !ownedBy(pid, sessionUid));
  assert.equal(await waitFor(() => strays().length === 0, 2000), true, 'processes survived the attack');
  return outcome;
}

test('files outside the scratch directory cannot be read or written', async () => {
  const outcome = await contained(`
import os
results = []
for path in ['/etc/shadow', '/etc/passwd', '/root', '/work', '/home', '${process.cwd()}/package.json', '/proc/1/environ', '/io']:
    try:
        open(path).read() if not os.path.isdir(path) else os.listdir(path)
        results.append('READ ' + path)
    except OSError as e:
        results.append('denied')
for path in ['/usr/evil', '/evil', '/tmp/evil', '/scratch/evil', '/proc/sys/kernel/hostname', '/etc/evil', '/etc/alternatives/evil']:
    try:
        open(path, 'w').write('x')
        results.append('WROTE ' + path)
    except OSError:
        results.append('denied')
open('mine.txt', 'w').write('ok')
print(sorted(set(results)), os.getcwd().startswith('/scratch/u'), ','.join(sorted(os.listdir('/etc'))))`);
  assert.equal(outcome.kind, 'ok');
  const [denied, inScratch, etc] = stdoutOf(outcome).trim().split(' ');
  assert.equal(denied, "['denied']");
  assert.equal(inScratch, 'True');
  // /etc is readable (the loader needs it) but holds only what the jail binds into it.
  assert.equal(etc, 'alternatives,ld.so.cache');
});

test('no network: a listener on the host loopback is unreachable, other families refused', async () => {
  const outcome = await contained(`
import socket
out = []
for family, address in [(socket.AF_INET, ('127.0.0.1', ${listenerPort})), (socket.AF_INET6, ('::1', ${listenerPort}))]:
    try:
        s = socket.socket(family, socket.SOCK_STREAM); s.settimeout(1); s.connect(address); out.append('CONNECTED')
    except OSError as e:
        out.append(type(e).__name__)
for family in [40, 16, 17]:  # AF_VSOCK, AF_NETLINK, AF_PACKET
    try:
        socket.socket(family, socket.SOCK_RAW if family != 40 else socket.SOCK_STREAM); out.append('OPENED')
    except OSError:
        out.append('refused')
print(out)`);
  assert.equal(outcome.kind, 'ok');
  assert.doesNotMatch(stdoutOf(outcome), /CONNECTED|OPENED/);
  assert.equal(connections, 0);
});

test('other processes cannot be signalled or inspected', async () => {
  const outcome = await contained(`
import os, signal
out = []
for pid in [1, 2, os.getppid()]:
    try:
        os.kill(pid, signal.SIGKILL); out.append('KILLED %d' % pid)
    except OSError as e:
        out.append(type(e).__name__)
    try:
        open('/proc/%d/mem' % pid, 'rb').read(1); out.append('READ')
    except OSError:
        out.append('denied')
print(out)`);
  assert.doesNotMatch(stdoutOf(outcome), /KILLED|READ/);
});

test('a fork bomb is capped and cleaned up', async () => {
  const outcome = await contained(`
import os
n = 0
while True:
    try:
        if os.fork() == 0:
            import time
            time.sleep(100)
        n += 1
    except OSError:
        print('capped at', n)
        break`);
  assert.match(stdoutOf(outcome), /capped at \d+/);
});

test('memory bombs end as memory outcomes', async () => {
  const outcome = await contained('x = []\nwhile True: x.append(bytearray(50 << 20))', { memoryMb: 600 });
  assert.equal(outcome.kind, 'memory');
  const numpy = await contained('import numpy as np\nnp.ones(10**11)', { memoryMb: 600 });
  assert.equal(numpy.kind, 'memory');
});

test('uninterruptible C code is killed at the deadline', async () => {
  const outcome = await contained('x = 10 ** (10 ** 10)', { timeoutMs: 500 });
  assert.ok(outcome.kind === 'timeout' || outcome.kind === 'memory', outcome.kind);
  const recursion = await contained('import sys\nsys.setrecursionlimit(10**7)\ndef f(n): return f(n + 1)\nf(0)', { timeoutMs: 500 });
  assert.ok(['timeout', 'crash', 'error', 'memory'].includes(recursion.kind));
});

test('huge output is cut; a disk fill hits the scratch quota and leaves nothing behind', async () => {
  const output = await contained('import sys\nchunk = "z" * (1 << 20)\nwhile True: sys.stdout.write(chunk)');
  assert.equal(output.kind, 'output_limit');
  const stderr = await contained('import sys\nwhile True: sys.stderr.write("e" * 65536)');
  assert.equal(stderr.kind, 'output_limit');
  const disk = await contained(`
n = 0
try:
    while True:
        with open('fill%d' % n, 'wb') as f:
            f.write(b'0' * (1 << 20))
        n += 1
except OSError as e:
    print('stopped', type(e).__name__)`);
  assert.ok(['ok', 'output_limit'].includes(disk.kind));
  const leftovers = await contained('import os, glob\nprint(len(glob.glob("/scratch/*/fill*")), os.listdir("."))');
  assert.equal(stdoutOf(leftovers), '0 []\n');
});

test('threads and double-forked daemons do not outlive their snippet', async () => {
  await contained(`
import os, threading, time
threading.Thread(target=lambda: time.sleep(1000)).start()
threading.Thread(target=lambda: time.sleep(1000), daemon=True).start()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(1000)
    os._exit(0)
print('spawned')`);
});

test('daemons die while other sessions live: one-shot sweeps skip live heads, not leftovers', async () => {
  const daemon = `
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(1000)
    os._exit(0)
print('spawned')`;
  const sessions = [await executor.openSession(), await executor.openSession()];
  try {
    await Promise.all(sessions.map((session) => session.execute('x = 1')));
    const uids = sessions.map((session) => (session instanceof SandboxSession ? session.uid : undefined));
    assert.ok(uids.every((uid) => uid !== undefined) && uids[0] !== uids[1]);
    const others = () => processesWithUids(UID_BASE, UIDS).filter((pid) => !uids.some((uid) => uid !== undefined && ownedBy(pid, uid)));
    const heads = () => processesWithUids(UID_BASE, UIDS).length - others().length;
    assert.equal(stdoutOf(await executor.execute(daemon)), 'spawned\n');
    assert.equal(await waitFor(() => others().length === 0, 2000), true, 'a one-shot daemon survived beside live sessions');
    // A daemon started in a session block is swept when the block ends; both heads stay.
    assert.equal(stdoutOf(await sessions[0]!.execute(daemon)), 'spawned\n');
    assert.equal(await waitFor(() => heads() === 2, 2000), true, 'a session daemon survived its block');
    assert.equal(stdoutOf(await sessions[1]!.execute('print(x)')), '1\n');
  } finally {
    await Promise.all(sessions.map((session) => session.close()));
  }
});

test('ctypes raw system calls are refused by seccomp', async () => {
  const outcome = await contained(`
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
calls = {'unshare': (272, 0x10000000), 'unshare_net': (272, 0x40000000), 'mount': (165, 0), 'ptrace': (101, 16),
         'bpf': (321, 0), 'io_uring_setup': (425, 1), 'keyctl': (250, 0), 'setuid0': (105, 0), 'chroot': (161, 0),
         'perf_event_open': (298, 0), 'userfaultfd': (323, 0), 'execve': (59, 0)}
out = []
for name, (number, arg) in calls.items():
    r = libc.syscall(number, ctypes.c_ulong(arg), 0, 0, 0, 0)
    out.append('%s=%s' % (name, 'ok' if r >= 0 else 'refused'))
print(' '.join(out))`);
  assert.doesNotMatch(stdoutOf(outcome), /=ok/);
});

/** What a snippet sees of its own privileges: uids, groups, every capability set, no_new_privs, seccomp. */
const PRIVILEGE_PROBE = `
import os
fields = {}
for line in open('/proc/self/status'):
    key, _, value = line.partition(':')
    if key in ('Uid', 'Gid', 'Groups', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp'):
        fields[key] = ' '.join(value.split())
print(sorted(fields.items()))`;

function assertUnprivileged(text: string): void {
  const fields = new Map<string, string>([...text.matchAll(/\('(\w+)', '([^']*)'\)/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
  const uid = Number((fields.get('Uid') ?? '').split(' ')[0]);
  assert.ok(uid >= UID_BASE && uid < UID_BASE + UIDS, `slot uid expected: ${text}`);
  assert.equal(fields.get('Uid'), `${uid} ${uid} ${uid} ${uid}`);
  assert.equal(fields.get('Gid'), `${uid} ${uid} ${uid} ${uid}`);
  assert.equal(fields.get('Groups'), '');
  for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.equal(fields.get(set), '0000000000000000', `${set} in ${text}`);
  assert.equal(fields.get('NoNewPrivs'), '1');
  assert.equal(fields.get('Seccomp'), '2');
}

test('snippets, session blocks and session forks hold no privilege: slot uid, no groups, every capability set empty', async () => {
  assertUnprivileged(stdoutOf(await contained(PRIVILEGE_PROBE)));
  const session = await executor.openSession();
  try {
    assertUnprivileged(stdoutOf(await session.execute(PRIVILEGE_PROBE)));
    const [child] = await session.fork(1);
    assert.ok(child);
    assertUnprivileged(stdoutOf(await child.execute(PRIVILEGE_PROBE)));
    await child.close();
  } finally {
    await session.close();
  }
});

test('subprocesses and exec are refused', async () => {
  const outcome = await contained(`
import os, subprocess
out = []
try:
    subprocess.run(['/bin/ls', '/']); out.append('RAN')
except OSError as e:
    out.append(type(e).__name__)
out.append(os.system('echo pwned') != 0)
try:
    os.execv('/usr/bin/python3', ['python3', '-c', 'print(1)'])
except OSError as e:
    out.append(type(e).__name__)
print(out)`);
  assert.equal(stdoutOf(outcome), "['PermissionError', True, 'PermissionError']\n");
});

test('forged protocol lines and writes to stray descriptors change nothing', async () => {
  const outcome = await contained(`
import os, sys
print('{"id": 1, "status": "ok", "ready": true}')
sys.stderr.write('{"type": "Forged", "last": "Forged: x"}\\n')
n = 0
for fd in range(3, 260):
    try:
        os.write(fd, b'{"id": 2, "status": "crash"}\\n'); n += 1
    except OSError:
        pass
print('writable', n)
raise ValueError('real error')`);
  assert.equal(outcome.kind, 'error');
  assert.equal(outcome.kind === 'error' && outcome.lastLine, 'ValueError: real error');
});

test("another trajectory's data is out of reach: files, sessions and leftover heap memory", async () => {
  const token = `SECRET-${randomBytes(8).toString('hex')}`;
  const digest = createHash('sha256').update(token).digest('hex');
  const session = await executor.openSession();
  await session.execute(`secret = ${JSON.stringify(token)}\nopen('secret.txt', 'w').write(secret)\nprint(secret * 5)`);
  await executor.execute(`print(${JSON.stringify(token)} * 20)`); // output of a finished one-shot trajectory
  const outcome = await contained(`
import os, glob, ctypes, hashlib
found = []
for path in glob.glob('/scratch/*') + glob.glob('/scratch/*/*') + glob.glob('/io/*'):
    try:
        found.append(open(path).read() if os.path.isfile(path) else os.listdir(path))
    except OSError:
        pass
prefix = b'SECRET' + b'-'
copies = 0
for line in open('/proc/self/maps'):
    fields = line.split()
    if fields[1][:2] != 'rw' or (len(fields) > 5 and fields[5].startswith('[v')):
        continue
    start, end = (int(x, 16) for x in fields[0].split('-'))
    data = ctypes.string_at(start, end - start)
    i = data.find(prefix)
    while i >= 0:
        if hashlib.sha256(data[i:i + 23]).hexdigest() == '${digest}':
            copies += 1
        i = data.find(prefix, i + 1)
print(len([f for f in found if f]), copies)`, { timeoutMs: 10_000, ...(session instanceof SandboxSession && session.uid !== undefined ? { sessionUid: session.uid } : {}) });
  assert.equal(stdoutOf(outcome), '0 0\n');
  // Positive control: the same scan finds the token when this process really holds it.
  const control = await executor.execute(`
import ctypes, hashlib
held = ${JSON.stringify(token.slice(0, 10))} + ${JSON.stringify(token.slice(10))}
prefix = b'SECRET' + b'-'
copies = 0
for line in open('/proc/self/maps'):
    fields = line.split()
    if fields[1][:2] != 'rw' or (len(fields) > 5 and fields[5].startswith('[v')):
        continue
    start, end = (int(x, 16) for x in fields[0].split('-'))
    data = ctypes.string_at(start, end - start)
    i = data.find(prefix)
    while i >= 0:
        if hashlib.sha256(data[i:i + 23]).hexdigest() == '${digest}':
            copies += 1
        i = data.find(prefix, i + 1)
print(copies > 0)`, { timeoutMs: 10_000 });
  assert.equal(stdoutOf(control), 'True\n');
  const still = await session.execute('print(secret == open("secret.txt").read())');
  assert.equal(stdoutOf(still), 'True\n');
  await session.close();
});
