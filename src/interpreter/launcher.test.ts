/**
 * Attacks on the launcher (issue 16): the root process that forks one-shot snippets from the warm heap. A snippet
 * knows its pid (its parent's), so each test is what a snippet would try against it: signal, trace or read it,
 * write to its socket, regain the privilege it uses, take it down with everything it can kill. And what must
 * happen when it dies anyway: clear failures, never a result, and a new launcher.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import type { ExecutionOutcome } from '../core/execution.js';
import { createSandboxExecutor, type SandboxExecutor } from './sandbox-executor.js';
import { isAlive, launcherPids, preparedChildren, processesWithUids, waitFor } from './testing/support.js';

const UID_BASE = 62200;
const UIDS = 8;
let executor: SandboxExecutor;

before(async () => {
  executor = await createSandboxExecutor({ uidBase: UID_BASE, uids: UIDS, timeoutMs: 5000, scratchMb: 64, concurrency: 3 });
});
after(async () => {
  await executor.close();
});

function stdoutOf(outcome: ExecutionOutcome): string {
  return outcome.kind === 'infra_error' ? `<infra ${outcome.reason}>` : outcome.stdout;
}

async function theLauncher(): Promise<number> {
  const root = executor.serverPid;
  assert.ok(root !== undefined);
  let found: number[] = [];
  await waitFor(() => (found = launcherPids(root)).length === 1, 2000); // it names itself right after it starts
  assert.equal(found.length, 1, `one launcher expected, found ${JSON.stringify(found)}`);
  return found[0]!;
}

/** The launcher is the same process as before, and a normal snippet still runs with nothing left behind. */
async function launcherSurvived(pid: number): Promise<void> {
  assert.equal(isAlive(pid), true, 'the launcher died');
  assert.equal(await theLauncher(), pid, 'the launcher was replaced');
  assert.equal(stdoutOf(await executor.execute('print(6 * 7)')), '42\n');
  assert.equal(await waitFor(() => processesWithUids(UID_BASE, UIDS).length === 0, 2000), true, 'processes survived');
}


/** Python for the attack snippets: records whether each attempt was refused (an exception or a negative return) or DONE. */
const ATTEMPT_PY = `def attempt(name, action):
    try:
        result = action()
        out.append('%s=%s' % (name, 'refused' if result is not None and result < 0 else 'DONE'))
    except OSError:
        out.append('%s=refused' % name)
`;

test('the launcher runs as root with only CAP_SETUID and CAP_SETGID, filtered, outside every slot cgroup and never the OOM choice', async () => {
  const pid = await theLauncher();
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(status)?.[1]?.trim();
  assert.equal(field('Uid'), '0\t0\t0\t0');
  assert.equal(field('CapEff'), '00000000000000c0');
  assert.equal(field('CapPrm'), '00000000000000c0');
  for (const set of ['CapInh', 'CapBnd', 'CapAmb']) assert.equal(field(set), '0000000000000000', set);
  assert.equal(field('NoNewPrivs'), '1');
  assert.equal(field('Seccomp'), '2');
  assert.doesNotMatch(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), /slot-|sess-/);
  assert.equal(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim(), '0');
  // Its snippets are the OOM killer's choice, each in its slot's cgroup.
  const probe = await executor.execute(`
import os
print(os.getppid() > 1, open('/proc/self/oom_score_adj').read().strip())`);
  assert.equal(stdoutOf(probe), 'True 1000\n');
});

test('a snippet cannot signal, trace, read or write the launcher, nor reach its socket', async () => {
  const pid = await theLauncher();
  const outcome = await executor.execute(`
import os
def is_open(fd):
    try:
        return os.fstat(fd) is not None
    except OSError:
        return False
inherited = [fd for fd in range(3, 1024) if is_open(fd)]
import ctypes, signal, socket
libc = ctypes.CDLL(None, use_errno=True)
target = os.getppid()  # the launcher, in the jail's pid namespace
out = []
${ATTEMPT_PY}attempt('signal0', lambda: os.kill(target, 0))
attempt('sigstop', lambda: os.kill(target, signal.SIGSTOP))
attempt('sigkill', lambda: os.kill(target, signal.SIGKILL))
attempt('pidfd_signal', lambda: signal.pidfd_send_signal(os.pidfd_open(target), signal.SIGKILL))
attempt('ptrace_attach', lambda: libc.syscall(101, 16, target, 0, 0))
attempt('ptrace_seize', lambda: libc.syscall(101, 0x4206, target, 0, 0))
attempt('pidfd_getfd', lambda: libc.syscall(438, os.pidfd_open(target), 3, 0))
buf = ctypes.create_string_buffer(64)
local = (ctypes.c_void_p * 2)(ctypes.addressof(buf), 64)
attempt('process_vm_readv', lambda: libc.syscall(310, target, local, 1, local, 1, 0))
for name in ('mem', 'environ', 'status', 'maps', 'fd', 'cmdline'):
    path = '/proc/%d/%s' % (target, name)
    attempt('read_' + name, lambda: os.listdir(path) if name == 'fd' else open(path, 'rb').read(1))
attempt('listed', lambda: None if str(target) in os.listdir('/proc') else -1)
# Every descriptor a snippet is given: none is the launcher's socket (or any socket).
sockets, written = 0, []
for fd in inherited:
    try:
        socket.socket(fileno=fd).detach(); sockets += 1
    except OSError:
        pass
    try:
        os.write(fd, b'1 0'); written.append(os.readlink('/proc/self/fd/%d' % fd))
    except OSError:
        pass
print(' '.join(out), 'sockets=%d' % sockets, 'written=%s' % written)`);
  assert.equal(outcome.kind, 'ok', JSON.stringify(outcome));
  const text = stdoutOf(outcome);
  assert.doesNotMatch(text, /=DONE/, text);
  // fd 250 is the snippet's own result record, opened for it: the only descriptor above 2.
  assert.match(text, /sockets=0 written=\['\/io\/j\d+\.meta'\]\n$/);
  await launcherSurvived(pid);
});

test('a snippet cannot regain privilege: setresuid, setresgid, setgroups, setuid and capset all fail', async () => {
  const pid = await theLauncher();
  const outcome = await executor.execute(`
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
me = os.getuid()
out = []
${ATTEMPT_PY}attempt('setresuid_root', lambda: os.setresuid(0, 0, 0))
attempt('setresuid_other_slot', lambda: os.setresuid(me + 1, me + 1, me + 1))
attempt('setresgid_root', lambda: os.setresgid(0, 0, 0))
attempt('setgroups', lambda: os.setgroups([0]))
attempt('setuid', lambda: os.setuid(0))
attempt('setreuid', lambda: os.setreuid(0, 0))
class Header(ctypes.Structure):
    _fields_ = [('version', ctypes.c_uint32), ('pid', ctypes.c_int)]
class Data(ctypes.Structure):
    _fields_ = [('effective', ctypes.c_uint32), ('permitted', ctypes.c_uint32), ('inheritable', ctypes.c_uint32)]
header, data = Header(0x20080522, 0), (Data * 2)()
for d in data:
    d.effective = d.permitted = d.inheritable = 0xffffffff
attempt('capset', lambda: libc.capset(ctypes.byref(header), data))
status = {k: v.split() for k, _, v in (line.partition(':') for line in open('/proc/self/status'))}
print(' '.join(out), status['Uid'] == [str(me)] * 4, status['Gid'] == [str(me)] * 4, status['CapEff'], status['CapPrm'])`);
  assert.equal(outcome.kind, 'ok', JSON.stringify(outcome));
  assert.equal(
    stdoutOf(outcome),
    'setresuid_root=refused setresuid_other_slot=refused setresgid_root=refused setgroups=refused setuid=refused setreuid=refused capset=refused True True [\'0000000000000000\'] [\'0000000000000000\']\n',
  );
  await launcherSurvived(pid);
});

test('kill -1, its own process group and every pid leave the launcher, its prepared children and other snippets running', async () => {
  const pid = await theLauncher();
  const prepared = await allPrepared(pid);
  const bystander = executor.execute('import time\ntime.sleep(1.5)\nprint("still here")');
  await new Promise((resolve) => setTimeout(resolve, 300)); // the bystander is running
  const attacker = await executor.execute(`
import os, signal
for target in range(2, 4096):
    try:
        os.kill(target, signal.SIGKILL)
    except OSError:
        pass
try:
    os.kill(-1, signal.SIGKILL)
except OSError:
    pass
os.killpg(0, signal.SIGKILL)
print('unreachable')`);
  assert.equal(attacker.kind, 'crash', JSON.stringify(attacker)); // it killed itself, and only itself
  assert.equal(stdoutOf(await bystander), 'still here\n');
  // The bystander and the attacker each ran in one of them (it became the snippet); every other one lives on.
  const alive = () => prepared.filter(isAlive).length;
  assert.equal(await waitFor(() => alive() === prepared.length - 2, 5000), true, `${alive()} of ${prepared.length} prepared children alive`);
  await launcherSurvived(pid);
});

/** The server's count of ready prepared slots once it reaches `want`, or after 5 s: a forked child reports in once it is in its cgroup. */
async function readySlots(of: SandboxExecutor, want: number): Promise<number> {
  let ready = 0;
  for (let i = 0; i < 100 && (ready = ((await of.control({ op: 'stats' })) as unknown as { prepared: number }).prepared) !== want; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return ready;
}

/** The launcher's prepared children once every free slot has one (all UIDS here: fewer than the pool's size). */
async function allPrepared(launcher: number): Promise<number[]> {
  let found: number[] = [];
  const inSlot = (pid: number) => {
    try {
      return /:memory:.*\/slot-\d+$/m.test(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
    } catch {
      return false;
    }
  };
  await waitFor(() => (found = preparedChildren(launcher)).length === UIDS && found.every(inSlot), 5000);
  assert.equal(found.length, UIDS, `a prepared child per free slot expected, found ${found.length}`);
  return found;
}

test('each free slot waits with a prepared child: root with only CAP_SETUID and CAP_SETGID, filtered, alone in that slot\'s cgroup', async () => {
  const launcher = await theLauncher();
  const slots = new Set<string>();
  for (const pid of await allPrepared(launcher)) {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(status)?.[1]?.trim();
    assert.equal(field('Uid'), '0\t0\t0\t0');
    assert.equal(field('CapEff'), '00000000000000c0');
    assert.equal(field('CapPrm'), '00000000000000c0');
    assert.equal(field('CapBnd'), '0000000000000000');
    assert.equal(field('NoNewPrivs'), '1');
    assert.equal(field('Seccomp'), '2');
    const slot = /:memory:.*\/slot-(\d+)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1];
    assert.ok(slot !== undefined, `prepared child ${pid} is in no slot's cgroup`);
    assert.ok(Number(slot) >= UID_BASE && Number(slot) < UID_BASE + UIDS, `slot ${slot}`);
    slots.add(slot);
    // The socket to its launcher and nothing else beside stdio: not the server's socket, not another child's.
    const fds = readdirSync(`/proc/${pid}/fd`).map(Number).filter((fd) => fd > 2);
    assert.equal(fds.length, 1, `prepared child ${pid} holds descriptors ${JSON.stringify(fds)}`);
  }
  assert.equal(slots.size, UIDS, 'two prepared children share a slot');
});

test('a snippet runs in a process prepared before its request, and a killed prepared child is replaced', async () => {
  const launcher = await theLauncher();
  await allPrepared(launcher);
  await new Promise((resolve) => setTimeout(resolve, 400));
  // Its process's age when it runs (boot-time clock against its start time): a child forked for the request is a few ms old.
  const age = await executor.execute(`
import os, time
start = int(open('/proc/self/stat').read().rsplit(')', 1)[1].split()[19]) / os.sysconf('SC_CLK_TCK')
print(round(time.clock_gettime(time.CLOCK_BOOTTIME) - start, 2))`);
  assert.equal(age.kind, 'ok', JSON.stringify(age));
  assert.ok(Number(stdoutOf(age)) >= 0.3, `the snippet's process was ${stdoutOf(age).trim()} s old: not prepared ahead`);
  // Prepared children killed from outside: their slots serve snippets again and get new ones.
  const killed = preparedChildren(launcher);
  for (const pid of killed) process.kill(pid, 'SIGKILL');
  const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => executor.execute(`print(${i} * 2)`)));
  assert.deepEqual(outcomes.map(stdoutOf), Array.from({ length: 12 }, (_, i) => `${i * 2}\n`));
  const again = await allPrepared(launcher);
  assert.equal(again.filter((pid) => killed.includes(pid)).length, 0, 'a killed prepared child is still counted');
  assert.equal(await readySlots(executor, UIDS), UIDS);
  await launcherSurvived(launcher);
});

test('a launcher that dies fails its running snippets clearly, never as a result, and is replaced', async () => {
  const starts = executor.starts;
  const pid = await theLauncher();
  const prepared = await allPrepared(pid);
  const running = executor.execute('import time\ntime.sleep(3)\nprint("finished")');
  await new Promise((resolve) => setTimeout(resolve, 500));
  process.kill(pid, 'SIGKILL');
  const outcome = await running;
  assert.equal(outcome.kind, 'infra_error', JSON.stringify(outcome));
  assert.match(outcome.kind === 'infra_error' ? outcome.reason : '', /launcher died/);
  assert.equal(await waitFor(() => processesWithUids(UID_BASE, UIDS).length === 0, 2000), true, 'its snippet survived');
  assert.equal(await waitFor(() => prepared.filter(isAlive).length === 0, 2000), true, 'its prepared children survived');
  const next = await theLauncher();
  assert.notEqual(next, pid);
  assert.equal(executor.starts, starts, 'the server itself was restarted');
  assert.equal(stdoutOf(await executor.execute('print(6 * 7)')), '42\n');
  assert.equal(await theLauncher(), next);
});

test('a daemon left by a snippet that skipped its own clean-up is swept from its slot', async () => {
  // os._exit skips the child's final kill(-1): the server's sweep of the slot (its cgroup, then its uid) must find it.
  const outcome = await executor.execute(`
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(30)
    os._exit(0)
time.sleep(0.2)
print('left one', flush=True)
os._exit(0)`);
  assert.equal(stdoutOf(outcome), 'left one\n');
  assert.deepEqual(processesWithUids(UID_BASE, UIDS), [], 'the daemon outlived its snippet');
});

test('sessions may take prepared slots when no other is free, and give them back prepared', async () => {
  const base = UID_BASE + 100;
  const small = await createSandboxExecutor({ uidBase: base, uids: 3, timeoutMs: 5000, scratchMb: 64, concurrency: 2 });
  try {
    const root = small.serverPid;
    assert.ok(root !== undefined);
    let launcher: number[] = [];
    await waitFor(() => (launcher = launcherPids(root)).length === 1, 3000);
    assert.equal(await readySlots(small, 3), 3, 'every slot prepared while idle');
    const sessions = [await small.openSession(), await small.openSession()];
    for (const [i, session] of sessions.entries()) {
      const set = await session.execute(`x = ${i}`);
      assert.equal(set.kind, 'ok', JSON.stringify(set));
      assert.equal(stdoutOf(await session.execute('print(x + 10)')), `${i + 10}\n`);
    }
    // One slot is left for one-shot snippets: three queue for it.
    const outcomes = await Promise.all([1, 2, 3].map((i) => small.execute(`print(${i})`)));
    assert.deepEqual(outcomes.map(stdoutOf), ['1\n', '2\n', '3\n']);
    for (const session of sessions) await session.close();
    // Back from the sessions, each slot is prepared again, with one child each (the old ones waited on).
    assert.equal(await readySlots(small, 3), 3, 'a slot back from a session was never prepared again');
    assert.equal(await waitFor(() => preparedChildren(launcher[0]!).length === 3, 5000), true, `${preparedChildren(launcher[0]!).length} prepared children, 3 expected`);
    assert.equal(stdoutOf(await small.execute('print(7)')), '7\n');
    assert.equal(await waitFor(() => processesWithUids(base, 3).length === 0, 5000), true, 'processes survived');
  } finally {
    await small.close();
  }
});
