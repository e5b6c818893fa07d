/** Behaviour of the local sandbox: every outcome kind, stdin, load, sessions and forks, restart, shutdown. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { InputError } from '../core/errors.js';
import { createSandboxExecutor, makeIoDir, removeStaleIoDirs, type SandboxExecutor } from './sandbox-executor.js';
import { isAlive, processesWithUids, waitFor } from './testing/support.js';

const UID_BASE = 63000; // own slot range, so parallel test files never share uids
const UIDS = 32;
let executor: SandboxExecutor;

before(async () => {
  executor = await createSandboxExecutor({ uidBase: UID_BASE, uids: UIDS, timeoutMs: 3000, concurrency: 3 });
});
after(async () => {
  await executor.close();
});

test('every outcome kind', async () => {
  const [ok, error, timeout, hardTimeout, memory, crash, output] = await Promise.all([
    executor.execute('import sympy\nx = sympy.Symbol("x")\nprint(sympy.solve(x**2 - 4, x))'),
    executor.execute('print("before")\n{}["missing"]'),
    executor.execute('while True: pass', { timeoutMs: 400 }),
    executor.execute('try:\n    while True: pass\nexcept BaseException:\n    while True: pass', { timeoutMs: 300 }),
    executor.execute('blocks = [bytearray(64 << 20) for _ in range(100)]', { memoryMb: 512 }),
    executor.execute('import ctypes\nctypes.string_at(0)'),
    executor.execute('while True: print("y" * 1000)', { maxOutputBytes: 5000 }),
  ]);
  assert.deepEqual(ok.kind === 'ok' && ok.stdout, '[-2, 2]\n');
  assert.equal(error.kind, 'error');
  if (error.kind === 'error') {
    assert.equal(error.errorType, 'KeyError');
    assert.equal(error.lastLine, "KeyError: 'missing'");
    assert.equal(error.stdout, 'before\n');
  }
  assert.equal(timeout.kind, 'timeout');
  assert.equal(hardTimeout.kind, 'timeout'); // survives its own TimeoutError: killed by the server
  assert.equal(memory.kind, 'memory');
  assert.deepEqual(crash.kind === 'crash' && crash.signal, 'SIGSEGV');
  assert.equal(output.kind, 'output_limit');
  assert.ok(output.kind === 'output_limit' && output.stdout.length <= 5000 && output.stdout.startsWith('yyy'));
});

test('stdin reaches the program; syntax errors and sys.exit are reported', async () => {
  const echo = await executor.execute('n = int(input())\nprint(sum(map(int, input().split())) * n)', { stdin: '2\n1 2 3\n' });
  assert.deepEqual(echo.kind === 'ok' && echo.stdout, '12\n');
  const syntax = await executor.execute('print(1 +)');
  assert.deepEqual(syntax.kind === 'error' && syntax.errorType, 'SyntaxError');
  const exit = await executor.execute('import sys\nprint("a")\nsys.exit(3)');
  assert.deepEqual(exit.kind === 'error' && exit.lastLine, 'SystemExit: 3');
  const exitZero = await executor.execute('import sys\nsys.exit(0)');
  assert.equal(exitZero.kind, 'ok');
});

test('standard streams behave as in python3 with redirected files: empty stdin, seekable outputs, SIGPIPE ignored', async () => {
  const probe = `
import os, sys
try:
    input()
    eof = 'no EOFError'
except EOFError:
    eof = 'EOFError'
r, w = os.pipe()
os.close(r)
try:
    os.write(w, b'x')
    pipe = 'written'
except BrokenPipeError:
    pipe = 'BrokenPipeError'
print(eof, sys.stdin.read() == '', sys.stdout.seekable(), sys.stderr.seekable(), pipe)
sys.stderr.write('to stderr')`;
  for (let i = 0; i < 2; i++) {
    const outcome = await executor.execute(probe);
    assert.deepEqual(outcome.kind === 'ok' && [outcome.stdout, outcome.stderr], ['EOFError True True True BrokenPipeError\n', 'to stderr']);
  }
  const piped = await executor.execute('import sys\nprint(sys.stdin.read().upper(), end="")', { stdin: 'abc' });
  assert.deepEqual(piped.kind === 'ok' && piped.stdout, 'ABC');
});

test('a fresh namespace per block (the paper semantics)', async () => {
  await executor.execute('leak = 1');
  const second = await executor.execute('print(leak)');
  assert.deepEqual(second.kind === 'error' && second.errorType, 'NameError');
});

test('hundreds of concurrent requests are queued and all answered correctly', async () => {
  const outcomes = await Promise.all(Array.from({ length: 150 }, (_, i) => executor.execute(`print(${i} * 3)`)));
  outcomes.forEach((outcome, i) => assert.deepEqual(outcome.kind === 'ok' && outcome.stdout, `${i * 3}\n`));
});

test('a queued execution can be aborted', async () => {
  const controller = new AbortController();
  const busy = Array.from({ length: 3 }, () => executor.execute('import time\ntime.sleep(0.3)'));
  const queued = executor.execute('print(1)', { signal: controller.signal });
  controller.abort();
  assert.deepEqual(await queued, { kind: 'infra_error', reason: 'aborted', durationMs: 0 });
  for (const outcome of await Promise.all(busy)) assert.equal(outcome.kind, 'ok');
});

test('sessions keep state; timeouts and crashes roll back; errors keep what ran', async () => {
  const session = await executor.openSession();
  assert.equal((await session.execute('a = 2\nimport math')).kind, 'ok');
  assert.equal((await session.execute('a = 999\nwhile True: pass', { timeoutMs: 300 })).kind, 'timeout');
  assert.deepEqual(await session.execute('print(a)').then((o) => o.kind === 'ok' && o.stdout), '2\n');
  assert.equal((await session.execute('a = 777\nimport ctypes\nctypes.string_at(0)')).kind, 'crash');
  assert.deepEqual(await session.execute('print(a)').then((o) => o.kind === 'ok' && o.stdout), '2\n');
  assert.equal((await session.execute('b = 5\n1/0')).kind, 'error');
  assert.deepEqual(await session.execute('print(a + b, math.pi > 3)').then((o) => o.kind === 'ok' && o.stdout), '7 True\n');
  await session.close();
  const closed = await session.execute('print(1)');
  assert.equal(closed.kind, 'infra_error');
});

test('forked sessions start from the parent state and then diverge', async () => {
  const parent = await executor.openSession();
  await parent.execute('values = [1]\nopen("notes.txt", "w").write("from parent")');
  const children = await parent.fork(3);
  const results = await Promise.all(
    children.map((child, i) => child.execute(`values.append(${i})\nprint(values, open("notes.txt").read())`)),
  );
  results.forEach((outcome, i) => assert.deepEqual(outcome, { kind: "ok", stdout: `[1, ${i}] from parent\n`, stderr: "", durationMs: outcome.durationMs }));
  assert.deepEqual(await parent.execute('print(values)').then((o) => o.kind === 'ok' && o.stdout), '[1]\n');
  const grandchildren = await children[0]!.fork(1);
  assert.deepEqual(await grandchildren[0]!.execute('print(values)').then((o) => o.kind === 'ok' && o.stdout), '[1, 0]\n');
  await Promise.all([parent, ...children, ...grandchildren].map((s) => s.close()));
});

test('threads a session snippet leaves behind do not live on in the session', async () => {
  const session = await executor.openSession();
  await session.execute('import threading, time\nt = threading.Thread(target=lambda: time.sleep(1000), daemon=True)\nt.start()');
  const check = await session.execute('import threading\nprint(threading.active_count())');
  assert.deepEqual(check.kind === 'ok' && check.stdout, '1\n');
  await session.close();
});

test('a killed server is restarted by the pool; its sessions report infra_error', async () => {
  const session = await executor.openSession();
  const startsBefore = executor.starts;
  const pid = executor.serverPid;
  assert.ok(pid);
  process.kill(pid, 'SIGKILL');
  await waitFor(() => !isAlive(pid), 5000);
  const outcome = await executor.execute('print("back")');
  assert.deepEqual(outcome.kind === 'ok' && outcome.stdout, 'back\n');
  assert.equal(executor.starts, startsBefore + 1);
  const lost = await session.execute('print(1)');
  assert.equal(lost.kind, 'infra_error');
});

test('close() leaves no process behind', async () => {
  const own = await createSandboxExecutor({ uidBase: UID_BASE + UIDS, uids: 8 });
  const session = await own.openSession();
  await session.execute('x = 1');
  const running = own.execute('import time\ntime.sleep(30)');
  const pid = own.serverPid!;
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.ok(processesWithUids(UID_BASE + UIDS, 8).length >= 2);
  await own.close();
  assert.equal((await running).kind, 'infra_error');
  assert.equal(isAlive(pid), false);
  assert.deepEqual(await waitFor(() => processesWithUids(UID_BASE + UIDS, 8).length === 0, 3000), true);
});

test('when the parent process is SIGKILLed, the sandbox goes with it', async () => {
  const base = UID_BASE + UIDS + 8;
  const script = `
    const { createSandboxExecutor } = await import(${JSON.stringify(new URL('./sandbox-executor.js', import.meta.url).href)});
    const executor = await createSandboxExecutor({ uidBase: ${base}, uids: 4 });
    void executor.execute('import time\\ntime.sleep(60)');
    setTimeout(() => console.log(JSON.stringify({ server: executor.serverPid })), 300);
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
  const server = (JSON.parse(line) as { server: number }).server;
  assert.equal(isAlive(server), true);
  assert.ok(processesWithUids(base, 4).length >= 1);
  child.kill('SIGKILL');
  assert.equal(await waitFor(() => !isAlive(server) && processesWithUids(base, 4).length === 0, 5000), true);
});

test('preload chooses what the server imports; snippets can still import the rest; bad names are refused', async () => {
  const probe = "import sys\nprint(sorted(m for m in ('sympy', 'numpy', 'scipy', 'mpmath') if m in sys.modules))";
  const full = await executor.execute(probe);
  assert.deepEqual(full.kind === 'ok' && full.stdout, "['mpmath', 'numpy', 'scipy', 'sympy']\n");
  // `imported` (what the bench's fork baseline imports too) names exactly modules a snippet finds loaded.
  const imported = executor.serverInfo?.imported ?? [];
  assert.ok(imported.includes('scipy.optimize') && imported.includes('subprocess'), imported.join(','));
  const loaded = await executor.execute(`import sys\nprint([m for m in ${JSON.stringify(imported)} if m not in sys.modules])`);
  assert.deepEqual(loaded.kind === 'ok' && loaded.stdout, '[]\n');
  const light = await createSandboxExecutor({ uidBase: UID_BASE + UIDS + 12, uids: 2, preload: ['mpmath'] });
  try {
    assert.deepEqual(light.serverInfo?.preloaded, ['mpmath']);
    assert.ok(light.serverInfo?.imported.includes('mpmath') && !light.serverInfo.imported.some((m) => m.startsWith('scipy')));
    const before = await light.execute(probe);
    assert.deepEqual(before.kind === 'ok' && before.stdout, "['mpmath']\n");
    const numpy = await light.execute('import numpy as np\nprint(int(np.arange(4).sum()))');
    assert.deepEqual(numpy.kind === 'ok' && numpy.stdout, '6\n');
  } finally {
    await light.close();
  }
  await assert.rejects(createSandboxExecutor({ preload: ['os; import evil'] }), (error: unknown) => error instanceof InputError && error.input === 'preload');
});

test('the stale-directory clean-up follows no symlink and removes only directories it made', () => {
  const base = mkdtempSync(join(tmpdir(), 'cir-stale-'));
  const victim = mkdtempSync(join(tmpdir(), 'cir-victim-'));
  try {
    writeFileSync(join(victim, 'keep'), 'x');
    const dead = spawnSync('/usr/bin/true').pid; // exited: its io directories are stale
    assert.ok(dead !== undefined && !isAlive(dead));
    symlinkSync(victim, join(base, `cir-sandbox-${dead}-link`));
    const foreign = join(base, `cir-sandbox-${dead}-foreign`);
    mkdirSync(foreign, { mode: 0o700 });
    writeFileSync(join(foreign, 'theirs'), 'x');
    chownSync(foreign, 4242, 4242); // another user's directory that happens to match the name
    const unmarked = join(base, `cir-sandbox-${dead}-plain`);
    mkdirSync(unmarked, { mode: 0o700 }); // ours, but not made by the sandbox
    const mine = makeIoDir(base);
    const staleOurs = mine.replace(`cir-sandbox-${process.pid}-`, `cir-sandbox-${dead}-`);
    renameSync(mine, staleOurs); // as if made by the dead process
    const live = makeIoDir(base);
    removeStaleIoDirs(base);
    assert.deepEqual(readdirSync(victim), ['keep']);
    assert.ok(lstatSync(join(base, `cir-sandbox-${dead}-link`)).isSymbolicLink(), 'a planted symlink was removed');
    assert.deepEqual(readdirSync(foreign), ['theirs'], "another user's directory was touched");
    assert.ok(existsSync(unmarked), 'a directory the sandbox did not make was removed');
    assert.equal(existsSync(staleOurs), false, 'a stale io directory of the sandbox was kept');
    assert.ok(existsSync(live), 'the io directory of a live executor was removed');
  } finally {
    rmSync(base, { recursive: true, force: true });
    rmSync(victim, { recursive: true, force: true });
  }
});
