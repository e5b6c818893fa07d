/**
 * The second round of attacks on the jail (issue 16): each test is written as the attack a snippet would
 * make and fails where the class is open. Memory summed over a snippet's processes, kernel objects that
 * outlive a snippet or carry data to another one (System V IPC, POSIX message queues, abstract Unix
 * sockets, locks), /proc showing other snippets, system calls outside the allow-list, a session raising
 * its own CPU limit. Network traffic goes only to a listener this file opens on the host's loopback.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ExecutionOutcome, ExecutionSession } from '../core/execution.js';
import { createSandboxExecutor, type SandboxExecutor } from './sandbox-executor.js';

const UID_BASE = 62100;
const UIDS = 16; // and 4 more above them for the executor without a cgroup
let executor: SandboxExecutor;

before(async () => {
  executor = await createSandboxExecutor({ uidBase: UID_BASE, uids: UIDS, timeoutMs: 5000, memoryMb: 1024, scratchMb: 64, concurrency: 4 });
});
after(async () => {
  await executor.close();
});

/** Runs `work` in a fresh session of the shared executor and closes it whatever happens. */
async function withSession(work: (session: ExecutionSession) => Promise<void>): Promise<void> {
  const session = await executor.openSession();
  try {
    await work(session);
  } finally {
    await session.close();
  }
}

function stdoutOf(outcome: ExecutionOutcome): string {
  return outcome.kind === 'infra_error' ? `<infra ${outcome.reason}>` : outcome.stdout;
}

/** Forks 4 children that each fill `mb` MiB and then wait: how many held it at the same time. */
const FORKED_HOARD = (mb: number) => `
import os, time, select
r, w = os.pipe()
kids = []
for i in range(4):
    pid = os.fork()
    if pid == 0:
        os.close(r)
        block = bytearray(b'\\x01') * (${mb} << 20)   # every page touched
        os.write(w, b'%8d' % os.getpid())
        time.sleep(30)
        os._exit(0)
    kids.append(pid)
os.close(w)
acked, data = set(), b''
end = time.time() + 6
while len(acked) < 4 and time.time() < end:
    ready, _, _ = select.select([r], [], [], max(0.0, end - time.time()))
    if not ready:
        break
    chunk = os.read(r, 64)
    if not chunk:
        break
    data += chunk
    while len(data) >= 8:
        acked.add(int(data[:8])); data = data[8:]
time.sleep(0.3)
holding = sum(os.waitpid(pid, os.WNOHANG)[0] == 0 for pid in acked)  # filled its block and still alive
print('acks', len(acked), 'holding', holding)
`;

// RLIMIT_AS counts the whole address space, and a forked snippet starts with the warm server's (~300 MiB of
// mappings), so the limits below leave each process room for its own block: only a bound on the process tree
// can stop these attacks.
test('memory is bounded per snippet with all its descendants, and other snippets keep their results', async () => {
  // Innocent trajectories running beside the hoarder: each holds 100 MiB and computes a checkable value.
  const innocent = (k: number) =>
    executor.execute(`import time\nheld = bytearray(b'\\x02') * (100 << 20)\ntime.sleep(1.5)\nprint(sum(range(${k})), len(held) >> 20)`, { memoryMb: 512 });
  const [attack, ...innocents] = await Promise.all([executor.execute(FORKED_HOARD(300), { memoryMb: 768, timeoutMs: 12_000 }), innocent(1000), innocent(2000)]);
  const match = /holding (\d+)/.exec(stdoutOf(attack));
  // 4 x 300 MiB never fit in 768 MiB at once: at most two children may hold their block.
  assert.ok(match === null || Number(match[1]) <= 2, `the snippet held more than its limit across processes: ${JSON.stringify(attack)}`);
  assert.deepEqual(innocents.map(stdoutOf), ['499500 100\n', '1999000 100\n']);
});

test('a snippet killed by the memory bound of its process tree reports memory, not a crash', async () => {
  // Three children hold 120 MiB each; then the snippet itself grows to 350 MiB, past the 700 MiB of the tree.
  const outcome = await executor.execute(
    `import os, time
kids = []
for i in range(3):
    pid = os.fork()
    if pid == 0:
        block = bytearray(b'\\x01') * (120 << 20)
        time.sleep(30)
        os._exit(0)
    kids.append(pid)
time.sleep(1)
mine = [bytearray(b'\\x01') * (50 << 20) for _ in range(7)]
print('survived', sum(os.waitpid(p, os.WNOHANG)[0] == 0 for p in kids))`,
    { memoryMb: 700, timeoutMs: 8000 },
  );
  assert.equal(outcome.kind, 'memory', JSON.stringify(outcome));
});

test('System V IPC and POSIX message queues neither outlive a snippet nor reach the next one', async () => {
  const token = randomBytes(8).toString('hex');
  const maker = await executor.execute(`
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
librt = ctypes.CDLL('librt.so.1', use_errno=True)
made = []
shm = libc.shmget(0x5EC1, 4096, 0o1666)
if shm >= 0:
    libc.shmat.restype = ctypes.c_void_p
    addr = libc.shmat(shm, None, 0)
    if addr not in (None, ctypes.c_void_p(-1).value):
        ctypes.memmove(addr, b'${token}', 16)
        made.append('shm')
msq = libc.msgget(0x5EC2, 0o1666)
if msq >= 0:
    class Msg(ctypes.Structure):
        _fields_ = [('mtype', ctypes.c_long), ('mtext', ctypes.c_char * 16)]
    if libc.msgsnd(msq, ctypes.byref(Msg(1, b'${token}')), 16, 0) == 0:
        made.append('msg')
if libc.semget(0x5EC3, 1, 0o1666) >= 0:
    made.append('sem')
librt.mq_open.restype = ctypes.c_int
if librt.mq_open(b'/cir-${token}', 0o102, 0o666, None) >= 0:
    made.append('mq')
print(made)`);
  const reader = await executor.execute(`
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
librt = ctypes.CDLL('librt.so.1', use_errno=True)
found = []
shm = libc.shmget(0x5EC1, 0, 0)
if shm >= 0:
    libc.shmat.restype = ctypes.c_void_p
    addr = libc.shmat(shm, None, 0o10000)
    if addr not in (None, ctypes.c_void_p(-1).value):
        found.append(ctypes.string_at(addr, 16).decode(errors='replace'))
msq = libc.msgget(0x5EC2, 0)
if msq >= 0:
    buf = ctypes.create_string_buffer(64)
    if libc.msgrcv(msq, buf, 16, 0, 0o4000) > 0:
        found.append(buf.raw[8:24].decode(errors='replace'))
if libc.semget(0x5EC3, 0, 0) >= 0:
    found.append('sem')
if librt.mq_open(b'/cir-${token}', 0) >= 0:
    found.append('mq')
print(found)`);
  assert.equal(stdoutOf(maker), '[]\n', `IPC objects could be created: ${JSON.stringify(maker)}`);
  assert.equal(stdoutOf(reader), '[]\n', `IPC objects crossed to the next snippet: ${JSON.stringify(reader)}`);
});

test('abstract Unix sockets and locks give no channel between snippets running at the same time', async () => {
  const name = `cir-${randomBytes(6).toString('hex')}`;
  await withSession(async (session) => {
    // The listener lives in a session (held across blocks); a one-shot snippet of another trajectory calls it.
    const listen = await session.execute(`
import socket, fcntl
listener = None
try:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind('\\0${name}')
    listener.settimeout(0.5)
    print('listening')
except OSError as e:
    print('refused', type(e).__name__)
lock = open('/usr/lib/python3/dist-packages/sympy/__init__.py')
try:
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    print('locked')
except OSError as e:
    print('no lock', type(e).__name__)`);
    const send = await executor.execute(`
import socket, fcntl
out = []
for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
    try:
        s = socket.socket(socket.AF_UNIX, kind)
        s.settimeout(0.5)
        s.connect('\\0${name}')
        s.send(b'hello')
        out.append('SENT')
    except OSError as e:
        out.append(type(e).__name__)
# A connected pair whose peer is gone can be bound and addressed, which a filter must also stop.
try:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    b.close()
    a.bind('\\0${name}-2')
    out.append('BOUND')
except OSError as e:
    out.append(type(e).__name__)
try:
    fcntl.flock(open('/usr/lib/python3/dist-packages/sympy/__init__.py'), fcntl.LOCK_EX | fcntl.LOCK_NB)
    out.append('lock free')
except BlockingIOError:
    out.append('SAW LOCK')
except OSError as e:
    out.append(type(e).__name__)
print(out)`);
    const received = await session.execute(`
try:
    print('GOT', listener.recv(64)) if listener else print('nothing')
except OSError:
    print('nothing')`);
    assert.doesNotMatch(stdoutOf(send), /SENT|BOUND|SAW LOCK/, stdoutOf(send));
    assert.equal(stdoutOf(received), 'nothing\n');
    assert.match(stdoutOf(listen), /^refused .*\nno lock /);
  });
});

test('/proc shows a snippet only its own processes', async () => {
  await withSession(async (session) => {
    await session.execute('x = 1');
    const outcome = await executor.execute(`
import os
me = os.getuid()
others = []
for entry in os.listdir('/proc'):
    if entry.isdigit():
        try:
            st = os.stat('/proc/' + entry)
        except OSError:
            continue
        if st.st_uid != me:
            others.append((entry, st.st_uid))
print(len(others), others[:5])`);
    assert.match(stdoutOf(outcome), /^0 \[\]\n$/, `other processes are visible: ${stdoutOf(outcome)}`);
  });
});

test('system calls outside the allow-list are refused, including ones no deny-list named', async () => {
  // (number on x86_64, first argument): aio, System V IPC, sync (a machine-wide flush), NUMA page moves,
  // modify_ldt, sysfs, capset, the socket calls that name or connect a socket.
  const outcome = await executor.execute(`
import ctypes, platform
if platform.machine() != 'x86_64':
    print('skip: numbers are for x86_64'); raise SystemExit
libc = ctypes.CDLL(None, use_errno=True)
calls = {'io_setup': (206, 8), 'shmget': (29, 0), 'msgget': (68, 0), 'semget': (64, 0), 'sync': (162, 0),
         'syncfs': (306, 0), 'mbind': (237, 0), 'migrate_pages': (256, 0), 'move_pages': (279, 0),
         'modify_ldt': (154, 0), 'sysfs': (139, 3), 'capset': (126, 0), 'bind': (49, 0), 'connect': (42, 0),
         'listen': (50, 0), 'setsockopt': (54, 0), 'flock': (73, 0), 'mq_open': (240, 0), 'acct': (163, 0),
         'vmsplice': (278, 0), 'socket_unix': (41, 1)}
ctx = ctypes.c_ulong(0)
out = []
for name, (number, arg) in calls.items():
    ctypes.set_errno(0)
    first = ctypes.byref(ctx) if name == 'io_setup' else ctypes.c_ulong(arg)
    second = ctypes.byref(ctx) if name == 'io_setup' else ctypes.c_ulong(0)
    r = libc.syscall(number, first, second, 0, 0, 0)
    e = ctypes.get_errno()
    # EPERM, ENOLCK, ENOSYS, EAFNOSUPPORT come from the filter; EFAULT/EINVAL/EBADF mean the kernel ran the call.
    out.append('%s=%s' % (name, 'REACHED' if r >= 0 or e not in (1, 37, 38, 97) else 'refused'))
print(' '.join(out))`);
  assert.doesNotMatch(stdoutOf(outcome), /REACHED/, stdoutOf(outcome));
  assert.match(stdoutOf(outcome), /refused|skip/);
});

test('a session cannot raise its own CPU limit', async () => {
  // The executor's default timeout is 5000 ms, so the session's CPU limit is 6 s soft, 7 s hard.
  await withSession(async (session) => {
    const outcome = await session.execute(`
import os, resource
soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
try:
    resource.setrlimit(resource.RLIMIT_CPU, (10**6, 10**6))
except (ValueError, OSError):
    resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
raised = resource.getrlimit(resource.RLIMIT_CPU)
head = resource.prlimit(os.getppid(), resource.RLIMIT_CPU)  # the session head, parent of the block's process
print(soft, raised[0], raised[1], head[1])`, { timeoutMs: 3000 });
    const [soft, raisedSoft, raisedHard, headHard] = stdoutOf(outcome).trim().split(' ').map(Number);
    assert.equal(soft, 4, stdoutOf(outcome)); // the block's own limit: its timeout + 1 s
    assert.ok(raisedSoft !== undefined && raisedHard !== undefined && raisedSoft <= 7 && raisedHard <= 7, `a block raised its CPU limit: ${stdoutOf(outcome)}`);
    assert.equal(headHard, 7, `the session head may use more than the session's limit: ${stdoutOf(outcome)}`);
    // A block's raise dies with it: the next block (a successor of the block that raised) has its own limit.
    assert.equal(stdoutOf(await session.execute('import resource\nprint(resource.getrlimit(resource.RLIMIT_CPU))', { timeoutMs: 2000 })), '(3, 7)\n');
    // Rollbacks leave a head with fresh CPU time: a long run of timed-out blocks never exhausts the session.
    for (let i = 0; i < 2; i++) assert.equal((await session.execute('while True: pass', { timeoutMs: 300 })).kind, 'timeout');
    assert.equal(stdoutOf(await session.execute('print("alive")')), 'alive\n');
  });
});

test('a session block that hoards memory through forks is bounded by its session', async () => {
  await withSession(async (session) => {
    await session.execute('kept = bytearray(b"\\x03") * (50 << 20)');
    // The session's bound (1024 MiB, set when it opened) holds its state and at most two 400 MiB blocks.
    const attack = await session.execute(FORKED_HOARD(400), { timeoutMs: 12_000 });
    const match = /holding (\d+)/.exec(stdoutOf(attack));
    assert.ok(match === null || Number(match[1]) <= 2, `a session block held more than its limit: ${JSON.stringify(attack)}`);
    assert.equal(stdoutOf(await session.execute('print(len(kept) >> 20)')), '50\n');
  });
});

test('session forks are bounded each on their own', async () => {
  await withSession(async (session) => {
    await session.execute('x = 1');
    const children = await session.fork(2);
    // Two forks of one session each hold 600 MiB of a 1024 MiB bound: both fit, since each has its own.
    const held = await Promise.all(children.map((child) => child.execute('import time\nb = bytearray(b"\\x01") * (600 << 20)\ntime.sleep(0.5)\nprint(len(b) >> 20)')));
    assert.deepEqual(held.map(stdoutOf), ['600\n', '600\n']);
    await Promise.all(children.map((child) => child.close()));
  });
});


test('without a cgroup, one-shot snippets cannot fork, so RLIMIT_AS bounds them whole', async () => {
  const fallback = await createSandboxExecutor({ uidBase: UID_BASE + UIDS, uids: 4, memoryCgroup: false, concurrency: 1 });
  try {
    assert.equal(fallback.memoryBound, 'no-fork');
    const hoard = await fallback.execute(FORKED_HOARD(300), { memoryMb: 768 });
    assert.equal(hoard.kind === 'error' && hoard.errorType, 'PermissionError', JSON.stringify(hoard));
    // Threads share the address space RLIMIT_AS bounds: they still work, and so do sessions.
    const threads = await fallback.execute('import threading, numpy\nt = threading.Thread(target=print, args=("thread",))\nt.start(); t.join()');
    assert.equal(stdoutOf(threads), 'thread\n');
    const session = await fallback.openSession();
    await session.execute('x = 41');
    assert.equal(stdoutOf(await session.execute('x += 1\nprint(x)')), '42\n');
    await session.close();
  } finally {
    await fallback.close();
  }
});
