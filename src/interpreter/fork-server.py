"""cir sandbox fork server ("zygote"): runs model-written Python snippets.

Started by Node (src/interpreter/fork-server.ts), normally inside one bubblewrap jail, as
  python3 -S -E -s fork-server.py --io-dir DIR --scratch DIR [--path SITE]... [--unsafe]
It imports sympy/numpy/scipy once, warms them up, then forks one child per snippet (through its launcher where
a memory cgroup bounds snippets). The child drops to a slot uid under rlimits, no_new_privs and a seccomp filter,
and runs the code.

Protocol: JSON lines on stdin/stdout (moved off fds 0/1 so children cannot reach them).
  {"id":1,"op":"run","io":"j1","timeout":5.0,"mem_mb":2048,"max_output":1048576[,"stdin":false][,"session":"s1"]}
  {"id":2,"op":"open","session":"s1","mem_mb":2048}
  {"id":3,"op":"fork","session":"s1","children":["s2","s3"]}
  {"id":4,"op":"close","session":"s1"}
  {"id":5,"op":"stats"}
Replies carry metadata only: {"id":1,"status":"ok|error|memory|timeout|output_limit|crash|exit|
session_dead|refused|launcher_died","signal":..,"exit_code":..,"wall_ms":..}.
Code, stdin and output pass through files IO/<name>.{py,in,out,err,meta} that this process opens
but never reads, so no trajectory's data ever enters its heap (forked children inherit that heap).
With "stdin":false there is no .in file and the snippet reads /dev/null.
"""
import os, sys, time, json, signal, select, resource, socket, errno, ctypes, gc, shutil, struct

T0 = time.perf_counter()
for _k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_k] = "1"

OPT = {"path": [], "io_dir": None, "scratch": None, "uid_base": 61000, "uids": 256, "unsafe": False,
       "warmup": True, "cgroup": None, "cgroup_version": 0, "prepared": 8, "nproc": 64, "nofile": 256, "preload": ["sympy", "numpy", "scipy", "mpmath"]}
_args = sys.argv[1:]
while _args:
    _a = _args.pop(0)
    if _a == "--path": OPT["path"].append(_args.pop(0))
    elif _a == "--io-dir": OPT["io_dir"] = _args.pop(0)
    elif _a == "--scratch": OPT["scratch"] = _args.pop(0)
    elif _a == "--uid-base": OPT["uid_base"] = int(_args.pop(0))
    elif _a == "--uids": OPT["uids"] = int(_args.pop(0))
    elif _a == "--unsafe": OPT["unsafe"] = True
    elif _a == "--cgroup": OPT["cgroup"] = _args.pop(0)
    elif _a == "--cgroup-version": OPT["cgroup_version"] = int(_args.pop(0))
    elif _a == "--prepared": OPT["prepared"] = max(0, int(_args.pop(0)))
    elif _a == "--no-warmup": OPT["warmup"] = False
    elif _a == "--preload": OPT["preload"] = [m for m in _args.pop(0).split(",") if m]
    else: raise SystemExit("fork-server: unknown argument " + _a)
for _p in reversed(OPT["path"]):
    sys.path.insert(0, _p)
if not OPT["io_dir"] or not OPT["scratch"]:
    raise SystemExit("fork-server: --io-dir and --scratch are required")
UNSAFE = OPT["unsafe"]

import builtins, traceback, io, threading  # noqa: E401
# What snippets typically import: loaded once here and shared copy-on-write with every child.
ALWAYS_IMPORTED = ["math", "cmath", "itertools", "functools", "fractions", "decimal", "collections", "re", "random",
                   "statistics", "heapq", "bisect", "string", "operator", "typing", "dataclasses", "copy", "numbers",
                   "subprocess"]
for _m in ALWAYS_IMPORTED:
    __import__(_m)
# What preloading a package imports besides it (scipy loads its submodules lazily; these are the common ones).
PRELOAD_EXTRAS = {"scipy": ["scipy.optimize", "scipy.special", "scipy.integrate", "scipy.linalg"]}
# Each preloaded package makes every fork dearer (scipy's ~330 mappings cost ~0.7 ms per snippet) and saves
# its import (scipy: 80-110 ms) in the snippets that use it; the caller chooses (SandboxOptions.preload).
PRELOADED = []
for _m in OPT["preload"]:
    try:
        __import__(_m)
        for _extra in PRELOAD_EXTRAS.get(_m, []):
            __import__(_extra)
        PRELOADED.append(_m)
    except Exception as _e:  # keep serving without it; the doctor reports missing packages
        print("fork-server: cannot preload %s: %r" % (_m, _e), file=sys.stderr)
T_IMPORT = time.perf_counter() - T0

WARMUP_SYMPY = r'''
from sympy import *
x, y, n = symbols('x y n')
solve(x**2 - 3*x - 7, x); solve([x + y - 3, x - y - 1], [x, y]); simplify(sin(x)**2 + cos(x)**2)
factor(x**4 - 1); expand((x + 1)**5); integrate(sin(x)**2, x); diff(exp(x)*x, x); limit(sin(x)/x, x, 0)
series(exp(x), x, 0, 5); Matrix([[1, 2], [3, 4]]).det(); nsimplify(0.125); factorint(360)
summation(n**2, (n, 1, 10)); N(pi, 30); sqrt(8); Rational(3, 4) + Rational(1, 6); latex(x**2/3)
'''
WARMUP_NUMPY = r'''
import numpy as np
a = np.arange(12.0).reshape(3, 4); a @ a.T; np.linalg.solve(np.eye(3) * 2, np.ones(3)); np.roots([1, -3, 2])
from fractions import Fraction; Fraction(3, 7) + Fraction(2, 9)
'''
T1 = time.perf_counter()
if OPT["warmup"]:
    try:
        for _name, _code in (("sympy", WARMUP_SYMPY), ("numpy", WARMUP_NUMPY)):
            if _name in PRELOADED:
                exec(compile(_code, "<warmup>", "exec"), {"__name__": "__warmup__"})
        if "scipy" in PRELOADED:
            import scipy.optimize as _so
            _so.brentq(lambda t: t * t - 2, 0, 2); _so.minimize(lambda v: (v[0] - 1) ** 2, [0.0])
    except Exception as _e:
        print("fork-server: warm-up failed: %r" % (_e,), file=sys.stderr)
T_WARM = time.perf_counter() - T1

# ------------------------------------------------------------------ kernel interfaces
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG, PR_SET_SECCOMP, PR_CAPBSET_DROP, PR_SET_CHILD_SUBREAPER = 1, 22, 24, 36
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, PR_SET_NAME = 38, 47, 4, 15


def prctl(option, arg=0, arg2=0):
    if libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg), ctypes.c_ulong(arg2), ctypes.c_ulong(0),
                  ctypes.c_ulong(0)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "prctl(%d): %s" % (option, os.strerror(err)))


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


# The system calls a snippet may make: what CPython, its C extensions (numpy, scipy's Fortran, OpenBLAS with one
# thread) and glibc need to compute, read the read-only tree, write files in the scratch dir, run threads, fork
# and talk over pipes and socketpairs. Everything else is refused (docs/security.md, "Snippet <-> host").
ALLOWED_SYSCALLS = (
    # files and descriptors
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2",
    "open", "openat", "openat2", "creat", "close", "close_range", "lseek", "dup", "dup2", "dup3",
    "stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs", "access", "faccessat", "faccessat2",
    "readlink", "readlinkat", "getdents", "getdents64", "getcwd", "chdir", "fchdir", "mkdir", "mkdirat", "rmdir",
    "unlink", "unlinkat", "rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat", "chmod",
    "fchmod", "fchmodat", "fchmodat2", "fchown", "lchown", "chown", "fchownat", "truncate", "ftruncate", "fallocate",
    "fsync", "fdatasync", "utime", "utimes", "utimensat", "futimesat", "umask", "mknod", "mknodat", "pipe", "pipe2",
    "splice", "tee", "sendfile", "copy_file_range", "fadvise64", "readahead", "getxattr", "lgetxattr", "fgetxattr",
    "listxattr", "llistxattr", "flistxattr", "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
    "memfd_create", "eventfd", "eventfd2", "signalfd", "signalfd4", "timerfd_create", "timerfd_settime",
    "timerfd_gettime", "select", "pselect6", "poll", "ppoll", "epoll_create", "epoll_create1", "epoll_ctl",
    "epoll_wait", "epoll_pwait", "epoll_pwait2",
    # memory
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "msync", "mincore", "membarrier", "get_mempolicy",
    "map_shadow_stack", "mseal",
    # processes, threads, signals, time
    "fork", "vfork", "exit", "exit_group", "wait4", "waitid", "getpid", "getppid", "gettid", "getuid", "geteuid",
    "getgid", "getegid", "getresuid", "getresgid", "getgroups", "getpgid", "getpgrp", "setpgid", "getsid", "setsid",
    "set_tid_address", "set_robust_list", "get_robust_list", "rseq", "futex", "futex_waitv", "futex_wake",
    "futex_wait", "futex_requeue", "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam",
    "sched_getscheduler", "sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval",
    "getpriority", "setpriority", "prctl", "arch_prctl", "getrlimit", "setrlimit", "prlimit64", "getrusage",
    "times", "uname", "sysinfo", "getcpu", "getrandom", "kill", "tkill", "tgkill", "pidfd_open",
    "pidfd_send_signal", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "rt_sigpending",
    "rt_sigtimedwait", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack", "pause", "alarm", "setitimer",
    "getitimer", "timer_create", "timer_settime", "timer_gettime", "timer_getoverrun", "timer_delete", "nanosleep",
    "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday", "time", "restart_syscall", "capget",
    "uretprobe",
    # connected sockets only (socketpair below): no socket(), bind(), connect(), listen() or setsockopt()
    "sendmsg", "recvmsg", "sendto", "recvfrom", "sendmmsg", "recvmmsg", "shutdown", "getsockopt", "getsockname",
    "getpeername",
)
# Refused with EPERM (a readable PermissionError) rather than the default ENOSYS: what code commonly tries.
REFUSED_LOUDLY = ("execve", "execveat", "socket", "bind", "connect", "listen", "accept", "accept4", "setsockopt",
                  "shmget", "shmat", "shmctl", "shmdt", "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop",
                  "semtimedop", "semctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify",
                  "mq_getsetattr", "ptrace", "unshare", "setns", "mount", "io_setup", "io_uring_setup", "bpf",
                  "setuid", "setgid", "setresuid", "setresgid", "setreuid", "setregid", "setgroups", "capset")
LAUNCHER_SWITCHES = ("setresuid", "setresgid")
CLONE_NEW_FLAGS = 0x7E020080  # CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET and CLONE_NEWTIME
CLONE_VM = 0x00000100
TIOCSTI = 0x5412
F_LOCK_CMDS = (5, 6, 7, 36, 37, 38, 1024)  # F_GETLK F_SETLK F_SETLKW F_OFD_GETLK F_OFD_SETLK F_OFD_SETLKW F_SETLEASE
F_ALLOWED_CMDS = (0, 1, 2, 3, 4, 8, 9, 10, 11, 15, 16, 1025, 1030, 1031, 1032, 1033, 1034)


def build_seccomp(allow_processes=True, for_launcher=False):
    """The allow-list filter as raw BPF (errno, not kill, so Python raises a readable OSError). Unlisted calls get
    ENOSYS, which glibc treats as an old kernel and falls back from. With allow_processes=False a snippet cannot
    create a process (clone without CLONE_VM): the memory bound where no cgroup is available. With
    for_launcher=True it is the launcher's filter, which its children inherit: the same plus setresuid and
    setresgid, so a child can still switch to its slot uid (after which, holding no capability, it can switch
    only among the ids it already has: docs/security.md)."""
    import seccomp as S
    f = S.SyscallFilter(defaction=S.ERRNO(errno.ENOSYS))
    try:  # a binary tree of syscall numbers instead of a linear chain (libseccomp 2.5+)
        f.set_attr(S.Attr.CTL_OPTIMIZE, 2)
    except Exception:
        pass
    allow, eperm = S.ALLOW, S.ERRNO(errno.EPERM)

    def rule(action, name, *args):
        try:
            f.add_rule(action, name, *args)
        except Exception:  # a name this libseccomp or architecture does not know
            pass
    skip = set() if allow_processes else {"fork", "vfork"}
    switches = LAUNCHER_SWITCHES if for_launcher else ()
    for name in ALLOWED_SYSCALLS + switches:
        if name not in skip:
            rule(allow, name)
    for name in REFUSED_LOUDLY + tuple(skip):
        if name not in switches:
            rule(eperm, name)
    # clone3 keeps its flags in memory, where a filter cannot read them: ENOSYS makes glibc fall back to clone.
    rule(S.ERRNO(errno.ENOSYS), "clone3")
    if allow_processes:
        rule(allow, "clone", S.Arg(0, S.MASKED_EQ, CLONE_NEW_FLAGS, 0))
    else:  # threads (which share the address space RLIMIT_AS bounds) but no new process
        rule(allow, "clone", S.Arg(0, S.MASKED_EQ, CLONE_NEW_FLAGS | CLONE_VM, CLONE_VM))
        rule(eperm, "clone", S.Arg(0, S.MASKED_EQ, CLONE_VM, 0))
    # Only connected, unnamed pairs: an AF_UNIX socket() could bind an abstract name another snippet reaches.
    rule(allow, "socketpair", S.Arg(0, S.EQ, socket.AF_UNIX))
    rule(S.ERRNO(errno.EAFNOSUPPORT), "socketpair", S.Arg(0, S.NE, socket.AF_UNIX))
    rule(allow, "ioctl", S.Arg(1, S.NE, TIOCSTI))
    rule(eperm, "ioctl", S.Arg(1, S.EQ, TIOCSTI))
    # Locks on the shared read-only tree would be a channel between snippets running at the same time.
    for cmd in F_ALLOWED_CMDS:
        rule(allow, "fcntl", S.Arg(1, S.EQ, cmd))
    for cmd in F_LOCK_CMDS:
        rule(S.ERRNO(errno.ENOLCK), "fcntl", S.Arg(1, S.EQ, cmd))
    rule(S.ERRNO(errno.ENOLCK), "flock")
    fd = os.memfd_create("bpf")
    with os.fdopen(fd, "w+b") as fh:
        f.export_bpf(fh)
        fh.seek(0)
        return fh.read()


def seccomp_args(bpf):
    """prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) with its arguments built once: each child only loads it."""
    buf = ctypes.create_string_buffer(bpf, max(1, len(bpf)))
    prog = SockFprog(len(bpf) // 8, ctypes.cast(buf, ctypes.c_void_p))
    KEEP.extend((buf, prog))
    return (ctypes.c_int(PR_SET_SECCOMP),) + tuple(ctypes.c_ulong(v) for v in (2, ctypes.addressof(prog), 0, 0))


KEEP = []  # the buffers the prctl arguments point into
SECCOMP_BPF = SECCOMP_BPF_NO_FORK = b""
if not UNSAFE:
    SECCOMP_BPF = build_seccomp()
    SECCOMP_BPF_NO_FORK = build_seccomp(allow_processes=False)
SECCOMP_ARGS = seccomp_args(SECCOMP_BPF)
SECCOMP_ARGS_NO_FORK = seccomp_args(SECCOMP_BPF_NO_FORK)
# Built here, before the heap is collapsed: a launcher that built it would write all over the shared heap.
SECCOMP_ARGS_LAUNCHER = seccomp_args(build_seccomp(for_launcher=True) if not UNSAFE else b"")

prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans of snippets are re-parented to us and reaped
try:
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # unsafe mode has no bwrap --die-with-parent
except OSError:
    pass
IO_DIR, SCRATCH = OPT["io_dir"], OPT["scratch"]
PREPARED = OPT["prepared"]  # free slots kept with a launcher child ready in their cgroup (Server.top_up)
os.makedirs(SCRATCH, exist_ok=True)
DEVNULL = os.open("/dev/null", os.O_RDWR)
PROTO_IN, PROTO_OUT = os.dup(0), os.dup(1)
os.set_inheritable(PROTO_IN, False); os.set_inheritable(PROTO_OUT, False)
os.dup2(DEVNULL, 0); os.dup2(DEVNULL, 1)
for _s in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
    signal.signal(_s, signal.SIG_IGN if _s == signal.SIGPIPE else signal.SIG_DFL)
CHILD_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1",
             "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
# The server's own environment is the children's (it needs nothing else), so a child only sets HOME and TMPDIR.
os.environ.clear(); os.environ.update(CHILD_ENV)


def cap_status():
    """The capability lines of /proc/self/status, e.g. {'CapBnd': 0, ...}, and NoNewPrivs."""
    with open("/proc/self/status") as fh:
        return {k: int(v, 16) for k, v in (ln.split(":") for ln in fh if ln.startswith(("Cap", "NoNewPrivs")))}


def drop_server_privileges():
    """Done once here rather than in every child (each is inherited by fork): empty the capability bounding,
    ambient and inheritable sets, the supplementary groups, and set no_new_privs. The server keeps its
    permitted and effective capabilities (it switches uids); a child's setresuid() from root to its slot
    uid clears those two, so after it the child holds no capability in any set. The server refuses to
    serve if the sets did not come out empty."""
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            err = ctypes.get_errno()
            if err == errno.EINVAL:  # past the kernel's last capability
                break
            raise OSError(err, "PR_CAPBSET_DROP(%d): %s" % (cap, os.strerror(err)))
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    hdr, data = CapHeader(0x20080522, 0), (CapData * 2)()
    if libc.capget(ctypes.byref(hdr), data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    for d in data:
        d.inheritable = 0
    # CAP_SYS_ADMIN was kept by bwrap only to remount /proc (hide_other_processes, already done): gone now.
    data[0].effective &= ~(1 << CAP_SYS_ADMIN); data[0].permitted &= ~(1 << CAP_SYS_ADMIN)
    if libc.capset(ctypes.byref(hdr), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")
    os.setgroups([])
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    caps = cap_status()
    if caps.get("CapBnd") or caps.get("CapAmb") or caps.get("CapInh") or caps.get("NoNewPrivs") != 1:
        raise SystemExit("fork-server: could not drop the inheritable capability sets: %r" % (caps,))


CAP_SYS_ADMIN = 21
MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8


def hide_other_processes():
    """Mounts a /proc that shows each uid only its own processes (hidepid=invisible): a snippet sees neither the
    server nor another snippet. The server, root, still sees all of them."""
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    if libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, b"hidepid=2") != 0:
        err = ctypes.get_errno()
        raise SystemExit("fork-server: cannot mount /proc with hidepid: %s" % os.strerror(err))


if not UNSAFE:
    hide_other_processes()
    drop_server_privileges()


def make_stdio():
    """A one-shot child's sys.stdin/stdout/stderr, built once here (building three text wrappers in every
    child cost about 0.15 ms and 30 copy-on-write faults). They are built over an empty regular file at
    offset 0, which is what a child's own .in/.out/.err files are, so what the wrappers learn at
    construction (seekable, position 0) holds for them; a child only dup2()s its files under fds 0-2."""
    path = os.path.join(SCRATCH, ".stdio-%d" % os.getpid())
    try:  # a server killed right here (unsafe mode, same host dir) may have left one
        os.unlink(path)
    except FileNotFoundError:
        pass
    probe = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    os.unlink(path)
    saved = os.dup(2)
    try:
        for fd in (0, 1, 2):
            os.dup2(probe, fd)
        return new_stdio()
    finally:
        os.dup2(DEVNULL, 0); os.dup2(DEVNULL, 1); os.dup2(saved, 2)
        os.close(saved); os.close(probe)


def new_stdio():
    return (io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8", errors="replace"),
            io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="backslashreplace"),
            io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace",
                             line_buffering=True))


ONESHOT_STDIO = make_stdio()
gc.collect(); gc.freeze()  # keep the warm heap out of the collector: fewer copy-on-write faults


def collapse_heap():
    """Backs the warm anonymous heap with 2 MiB pages (MADV_COLLAPSE, Linux 6.1+). fork() then copies one
    page-table entry per 2 MiB instead of 512 (copy_page_range was the largest per-snippet cost), and a
    child's exit tears down fewer entries; a child's first write to a huge page splits only its own copy.
    The pages stay private copy-on-write, as before. Returns the MiB collapsed (0 where unsupported)."""
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    huge, done = 1 << 21, 0
    try:
        with open("/proc/self/maps") as fh:
            maps = fh.read().splitlines()
    except OSError:
        return 0
    for line in maps:
        parts = line.split()
        if len(parts) < 5 or parts[1][:2] != "rw" or parts[1][3] != "p" or (len(parts) > 5 and parts[5] != "[heap]"):
            continue
        lo, hi = (int(v, 16) for v in parts[0].split("-"))
        start, end = (lo + huge - 1) & ~(huge - 1), hi & ~(huge - 1)
        if end > start and libc.madvise(start, end - start, 25) == 0:  # MADV_COLLAPSE
            done += end - start
    return done >> 20


HEAP_HUGE_MB = collapse_heap()


class MemoryCgroups:
    """The memory bound on a snippet and all its descendants: one cgroup per one-shot slot (reused, one snippet at
    a time) and one per session, below the sandbox's own cgroup (made by Node, root-only, bound at --cgroup).
    A child joins its cgroup itself before it drops root. v1: memory.limit_in_bytes (and memsw where swap is
    accounted), OOM kills counted in memory.oom_control; v2: memory.max, memory.swap.max, memory.events."""

    def __init__(self, root, version):
        self.root, self.version = root, version
        self.limits = {}      # cgroup name -> bytes currently set
        self.oom = {}         # cgroup name -> OOM kills already attributed
        self.doomed = set()   # removed but still busy (its processes were dying): rmdir later
        if version == 1:
            swap = "memory.memsw.limit_in_bytes"
            self.limit_file, self.swap_file = "memory.limit_in_bytes", swap if os.path.exists(os.path.join(root, swap)) else None
            self.events_file = "memory.oom_control"
        else:
            self.limit_file, self.swap_file, self.events_file = "memory.max", None, "memory.events"
            self.write(os.path.join(root, "cgroup.subtree_control"), "+memory")

    @staticmethod
    def write(path, text):
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)

    def ensure(self, name, mem_mb):
        """The cgroup's path, made if new, its limit set to mem_mb if it differs."""
        path = os.path.join(self.root, name)
        if name not in self.limits:
            self.doomed.discard(name)
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                pass
            self.limits[name] = None
            self.oom[name] = self.oom_kills(name)
            if self.version == 2:
                try:
                    self.write(os.path.join(path, "memory.swap.max"), "0")
                except OSError:  # no swap accounting: nothing to bound
                    pass
        want = mem_mb << 20
        before = self.limits[name]
        if before != want:
            files = [self.limit_file] + ([self.swap_file] if self.swap_file else [])
            if before is not None and want > before:
                files.reverse()  # v1 keeps memsw >= limit: raise memsw first, lower it last
            for f in files:
                self.write(os.path.join(path, f), str(want))
            self.limits[name] = want
        return path

    def oom_kills(self, name):
        try:  # os.open, not open(): a file object costs four more system calls per snippet
            fd = os.open(os.path.join(self.root, name, self.events_file), os.O_RDONLY | os.O_CLOEXEC)
            try:
                data = os.read(fd, 4096)
            finally:
                os.close(fd)
            start = data.index(b"\noom_kill ") + 10  # v1 and v2 both list it after another line
            return int(data[start:].split(None, 1)[0])
        except (OSError, ValueError):
            return 0

    def had_oom(self, name):
        """Whether a process of the cgroup was OOM-killed since the last call."""
        count = self.oom_kills(name)
        seen, self.oom[name] = self.oom.get(name, 0), count
        return count > seen

    def pids(self, name):
        """The processes in a cgroup (never its zombies)."""
        try:
            fd = os.open(os.path.join(self.root, name, "cgroup.procs"), os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return []
        try:
            return [int(v) for v in os.read(fd, 65536).split()]
        finally:
            os.close(fd)

    def move(self, name, pid):
        try:
            self.write(os.path.join(self.root, name, "cgroup.procs"), str(pid))
        except OSError:
            pass

    def remove(self, name):
        self.limits.pop(name, None)
        self.oom.pop(name, None)
        self.doomed.add(name)
        self.sweep()

    def sweep(self):
        for name in list(self.doomed):
            try:
                os.rmdir(os.path.join(self.root, name))
                self.doomed.discard(name)
            except FileNotFoundError:
                self.doomed.discard(name)
            except OSError:  # still populated: its processes are exiting
                pass

    def close(self):
        for name in list(self.limits):
            self.remove(name)


CGROUPS = None
if OPT["cgroup"] and not UNSAFE:
    try:
        CGROUPS = MemoryCgroups(OPT["cgroup"], OPT["cgroup_version"])
    except OSError as _e:  # e.g. a v2 cgroup that cannot give its children the memory controller
        print("fork-server: no memory cgroups (%s): one-shot snippets cannot fork" % (_e,), file=sys.stderr)
# How a snippet's total memory is bounded: a cgroup; without one, a one-shot snippet cannot fork (the seccomp
# filter refuses new processes) so RLIMIT_AS bounds it all; unsafe mode has RLIMIT_AS per process only.
MEMORY_BOUND = ("cgroup-v%d" % OPT["cgroup_version"]) if CGROUPS else ("rlimit-per-process" if UNSAFE else "no-fork")

# Limits every snippet has, set once here (inherited by every child): the server needs no core dumps, locked
# memory or message queues either.
for _limit in (resource.RLIMIT_CORE, resource.RLIMIT_MEMLOCK, resource.RLIMIT_MSGQUEUE):
    resource.setrlimit(_limit, (0, 0))

META_FD = 250  # where the child keeps its result-record file (below RLIMIT_NOFILE)
EXIT_ERROR, EXIT_MEMORY, EXIT_TIMEOUT, EXIT_SETUP = 201, 203, 204, 220


# ------------------------------------------------------------------ child side
def join_cgroup(cgroup):
    """Moves this process (and all it forks later) into the cgroup at path `cgroup`."""
    MemoryCgroups.write(cgroup + "/cgroup.procs", "0")


def drop_privileges(uid, scratch, mem_mb, cpu_s, fsize, cgroup=None, seccomp=SECCOMP_ARGS):
    """Runs in a fresh fork of the server or the launcher, still privileged; after it the process is untrusted.
    Kept lean: every object touched here costs a copy-on-write page fault in every child. The bounding,
    ambient and inheritable capability sets, supplementary groups and no_new_privs come from the server
    (drop_server_privileges); setresuid() below clears the permitted and effective sets. seccomp=None: the
    filter is already in force (a launcher's child inherits it)."""
    os.setsid()
    if cgroup is not None:  # join the snippet's memory cgroup while still root
        join_cgroup(cgroup)
    setrlimit = resource.setrlimit
    setrlimit(resource.RLIMIT_AS, (mem_mb << 20, mem_mb << 20))
    setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    setrlimit(resource.RLIMIT_NOFILE, (OPT["nofile"], OPT["nofile"]))
    if not UNSAFE:
        setrlimit(resource.RLIMIT_NPROC, (OPT["nproc"], OPT["nproc"]))
    setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    try:  # the kernel's OOM killer should pick snippets, never the server
        fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
        try:
            os.write(fd, b"1000")
        finally:
            os.close(fd)
    except OSError:
        pass
    if not UNSAFE:
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # clears the permitted and effective capability sets
        if os.getuid() == 0 or os.geteuid() == 0:
            raise OSError("still root after setresuid")
        if seccomp is not None and libc.prctl(*seccomp) != 0:
            raise OSError(ctypes.get_errno(), "seccomp")
    else:
        prctl(PR_SET_NO_NEW_PRIVS, 1)
    os.chdir(scratch)  # as the slot uid, which owns it: the launcher cannot search other uids' directories
    environ = os.environ
    environ["HOME"] = scratch; environ["TMPDIR"] = scratch
    # SIGPIPE stays ignored (inherited from the server), as in any CPython program. SIGXFSZ, which CPython
    # ignores, must kill: that is how an oversized output ends as output_limit.
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)


def read_all(fd):
    """A regular file's content. Reads of 64 KiB come from the heap (1 MiB ones cost an mmap, an mremap and a
    munmap each), and a short read of a regular file is its end: most snippets take one read."""
    chunks = []
    while True:
        b = os.read(fd, 1 << 16)
        chunks.append(b)
        if len(b) < 1 << 16:
            return b"".join(chunks)


def bind_stdio(in_fd, out_fd, err_fd, meta_fd, prebuilt=None):
    """Puts a snippet's files under fds 0-2 and META_FD. Session runners build fresh wrappers (a block
    before them may have changed the inherited ones); one-shot children use the server's prebuilt ones."""
    os.dup2(in_fd, 0); os.dup2(out_fd, 1); os.dup2(err_fd, 2); os.dup2(meta_fd, META_FD)
    sys.stdin, sys.stdout, sys.stderr = prebuilt or new_stdio()


TIMED_OUT = [False]


def on_timer(signum, frame):
    TIMED_OUT[0] = True
    raise TimeoutError("snippet exceeded its time limit")


def write_meta(record):
    data = json.dumps(record).encode()
    try:
        os.ftruncate(META_FD, 0)
        os.pwrite(META_FD, data, 0)
    except OSError:
        pass


def run_code(src, ns, timeout):
    """exec()s one snippet; returns the exit code for the server (0 ok)."""
    TIMED_OUT[0] = False
    signal.signal(signal.SIGALRM, on_timer)
    signal.signal(signal.SIGXCPU, on_timer)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    rc = 0
    try:
        exec(compile(src, "<snippet>", "exec"), ns)
    except SystemExit as e:
        if e.code not in (None, 0):
            rc = EXIT_ERROR
            write_meta({"type": "SystemExit", "message": str(e.code), "last": "SystemExit: %s" % (e.code,)})
    except BaseException as e:  # noqa: B902 - report everything, including KeyboardInterrupt
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        except BaseException:
            pass
        rc = EXIT_TIMEOUT if TIMED_OUT[0] else (EXIT_MEMORY if isinstance(e, MemoryError) else EXIT_ERROR)
        try:
            tb = e.__traceback__.tb_next if e.__traceback__ is not None else None
            lines = traceback.format_exception(type(e), e, tb)
            sys.stderr.write("".join(lines))
            last = lines[-1].strip() if lines else type(e).__name__
            write_meta({"type": type(e).__name__, "message": str(e), "last": last})
        except BaseException:
            write_meta({"type": type(e).__name__, "message": "", "last": type(e).__name__})
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        except BaseException:
            pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            rc = rc or EXIT_ERROR
    return rc


def child_oneshot(job, uid, scratch, fds, cgroup, launcher=None):
    """A one-shot snippet's process, forked by the server or (`launcher`: its pid) by the launcher."""
    try:
        code = read_all(fds["py"]).decode("utf-8", "replace")  # read while privileged: /io is root-only
        drop_privileges(uid, scratch, job["mem_mb"], job["cpu_s"], job["fsize"], cgroup,
                        None if launcher else SECCOMP_ARGS if cgroup is not None else SECCOMP_ARGS_NO_FORK)
        if launcher and os.getppid() != launcher:
            # The launcher died while this child switched ids (which cleared its death signal): the server swept
            # the slot's uid before this child had it, so nothing would end it.
            os._exit(EXIT_SETUP)
        bind_stdio(fds["in"], fds["out"], fds["err"], fds["meta"], ONESHOT_STDIO)
        os.closerange(3, META_FD); os.closerange(META_FD + 1, 1 << 16)
    except BaseException as e:
        try:
            os.write(fds["err"], ("SandboxSetupError: %r\n" % (e,)).encode())
        except BaseException:
            pass
        os._exit(EXIT_SETUP)
    rc = run_code(code, {"__name__": "__main__", "__builtins__": builtins}, job["timeout"])
    if not UNSAFE:
        try:
            os.kill(-1, signal.SIGKILL)  # every process of this slot uid except us: threads die with us
        except BaseException:
            pass
    os._exit(rc)


def session_head(sock, uid, scratch, job, cgroup):
    """A session's long-lived head. Each snippet runs in a fork (the runner); if it finishes, the runner
    forks a thread-free successor that becomes the head, so timeouts and crashes roll back to the old
    state, and threads or children a snippet left behind never live on in the session."""
    try:
        # The session's CPU limit (from its default timeout), hard included: no block can raise its own above it.
        drop_privileges(uid, scratch, job["mem_mb"], job["cpu_s"], job["fsize"], cgroup)
        keep = sock.fileno()
        os.closerange(3, keep); os.closerange(keep + 1, 1 << 16)
    except BaseException:
        os._exit(EXIT_SETUP)
    ns = {"__name__": "__main__", "__builtins__": builtins}
    head_loop(sock, ns, {"head": True})


def send_msg(sock, obj):
    try:
        sock.sendmsg([json.dumps(obj).encode()])
    except OSError:
        os._exit(121)


def head_loop(sock, ns, announce):
    send_msg(sock, announce)
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 1 << 16, 8)
        except OSError:
            os._exit(0)
        if not msg:
            os._exit(0)
        req = json.loads(msg)
        if req.get("op") == "fork":
            for i, child_fd in enumerate(fds):
                pid = os.fork()
                if pid == 0:
                    for other in fds:
                        if other != child_fd:
                            os.close(other)
                    sock.close()
                    child = socket.socket(fileno=child_fd)
                    copy_tree(".", req["scratch"][i])
                    os.chdir(req["scratch"][i])
                    os.environ["HOME"] = os.environ["TMPDIR"] = req["scratch"][i]
                    head_loop(child, ns, {"head": True})
                    os._exit(0)
            for f in fds:
                os.close(f)
            send_msg(sock, {"forked": len(fds)})
            continue
        run_in_session(sock, ns, req, fds)


def copy_tree(src, dst):
    """Copies regular files and folders of the parent's scratch into a fork's (same uid, no privilege)."""
    for entry in os.scandir(src):
        target = os.path.join(dst, entry.name)
        try:
            if entry.is_dir(follow_symlinks=False):
                os.mkdir(target, 0o700); copy_tree(entry.path, target)
            elif entry.is_file(follow_symlinks=False):
                shutil.copyfile(entry.path, target, follow_symlinks=False)
        except OSError:
            pass


def run_in_session(sock, ns, req, fds):
    in_fd, out_fd, err_fd, meta_fd, py_fd = fds
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the runner
        os.close(r)
        os.setsid()
        # The block's CPU limit; the hard one is the session's, which no process of it can raise (the counter
        # restarts at 0 with each fork, so heads are refreshed by forking, never by raising a limit).
        hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
        resource.setrlimit(resource.RLIMIT_CPU, (min(req["cpu_s"], hard), hard))
        code = read_all(py_fd).decode("utf-8", "replace")
        os.close(py_fd)
        bind_stdio(in_fd, out_fd, err_fd, meta_fd)
        for f in (in_fd, out_fd, err_fd, meta_fd):
            os.close(f)
        send_msg(sock, {"started": True})
        rc = run_code(code, ns, req["timeout"])
        if TIMED_OUT[0]:
            os._exit(EXIT_TIMEOUT)  # no commit: the old head resumes with the state before the snippet
        if rc in (0, EXIT_ERROR, EXIT_MEMORY):
            # Commit: a fork of this thread alone becomes the head; its stdio goes back to /dev/null.
            signal.signal(signal.SIGALRM, signal.SIG_DFL); signal.signal(signal.SIGXCPU, signal.SIG_DFL)
            successor = os.fork()
            if successor == 0:
                os.close(w)
                os.setsid()
                nul = os.open("/dev/null", os.O_RDWR)
                for f in (0, 1, 2, META_FD):
                    os.dup2(nul, f)
                os.close(nul)
                sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))
                sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False))
                sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False))
                head_loop(sock, ns, {"head": True, "status": rc << 8})
                os._exit(0)
            os.write(w, b"c")
        os._exit(rc)
    for f in fds:
        os.close(f)
    os.close(w)
    # Wait for the runner itself, not for pipe EOF: processes the snippet forked inherit the pipe.
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            status = signal.SIGKILL
            break
    os.set_blocking(r, False)
    try:
        committed = os.read(r, 1) == b"c"
    except OSError:
        committed = False
    os.close(r)
    if committed:
        os._exit(0)  # the successor is the head now
    # Rolled back: a fresh fork of us (the state before the block, CPU time counted from 0) becomes the head.
    fresh = os.fork()
    if fresh == 0:
        head_loop(sock, ns, {"head": True, "status": status})
    os._exit(0)


# ------------------------------------------------------------------ the launcher
# Where one-shot snippets may fork (a memory cgroup bounds them), the server does not fork them itself: a launcher,
# forked from the warm server once, does. It holds what is the same for every snippet, paid once instead of per
# snippet: the seccomp filter (a child inherits it by reference; loading it cost each child ~0.3 ms of checking
# and JIT-compiling), and the capability sets cut to the two a child needs to switch uids. And it keeps the server
# off the fork path: every page a forking process writes while a child shares it is copied, and the server's
# bookkeeping writes many; the launcher's loop writes few. Root (snippets cannot signal, trace or inspect it), in
# the server's cgroup (never a slot's), not a subreaper (orphans go to the server, which reaps and sweeps them).
# Protocol (SOCK_SEQPACKET pair): the server sends a job as b"TAG UID MEM_MB CPU_S FSIZE TIMEOUT STDIN IO SCRATCH
# CGROUP"; the child opens its files itself; the launcher answers b"TAG STATUS" once it has reaped it. Ahead of
# jobs, b"P UID CGROUP" asks for a child prepared for that slot: forked and in the slot's cgroup before its job
# (the launcher answers b"R UID" when it is, b"X UID" if it died first); the slot's next job goes to it. The loop
# between two forks is kept short (only the child parses the job): each page it writes is copied once per fork,
# and each object the child touches costs it a copy too (hence no JSON).
CAP_SETGID, CAP_SETUID = 6, 7


def launcher_main(sock):
    try:
        libc.prctl(PR_SET_NAME, b"cir-launcher", 0, 0, 0)  # how tests and `ps` on the host tell it apart
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        keep = sock.fileno()
        os.closerange(3, keep); os.closerange(keep + 1, 1 << 16)  # the protocol pipes, the server's epoll
        hdr, data = CapHeader(0x20080522, 0), (CapData * 2)()
        data[0].effective = data[0].permitted = (1 << CAP_SETUID) | (1 << CAP_SETGID)
        if libc.capset(ctypes.byref(hdr), data) != 0:
            raise OSError(ctypes.get_errno(), "capset")
        if libc.prctl(*SECCOMP_ARGS_LAUNCHER) != 0:
            raise OSError(ctypes.get_errno(), "seccomp")
    except BaseException as e:
        print("fork-server: the launcher cannot start: %r" % (e,), file=sys.stderr)
        os._exit(EXIT_SETUP)
    poller = select.poll()
    poller.register(keep, select.POLLIN)
    kids = {}      # pidfd -> (pid, tag): children running a job
    prepared = {}  # uid -> [pid, channel, ready]: children waiting in their slot's cgroup for its next job
    channels = {}  # channel fd -> uid
    me = os.getpid()
    recv, fork, pidfd_open, close, waitpid = sock.recv, os.fork, os.pidfd_open, os.close, os.waitpid
    # One poll can report a descriptor that an earlier event of the same batch closed (a channel whose child got
    # its job), or whose number a new descriptor took since: every read below is non-blocking and checks.
    nowait, wnohang = socket.MSG_DONTWAIT, os.WNOHANG
    while True:
        for fd, _ in poller.poll():
            if fd in kids:
                pid, tag = kids[fd]
                try:
                    done, status = waitpid(pid, wnohang)
                except ChildProcessError:
                    done, status = pid, signal.SIGKILL  # never an unknown end reported as success
                if done == 0:
                    continue
                del kids[fd]
                poller.unregister(fd)
                close(fd)
                sock.send(b"%s %d" % (tag, status))
                continue
            if fd in channels:  # a prepared child is in its cgroup (b"r"), or died before its job (end of file)
                uid = channels[fd]
                entry = prepared[uid]
                try:
                    got = entry[1].recv(16, nowait)
                except BlockingIOError:
                    continue
                except OSError:
                    got = b""
                if got == b"r":
                    entry[2] = True
                    sock.send(b"R " + uid)
                    continue
                del prepared[uid], channels[fd]
                poller.unregister(fd)
                entry[1].close()
                try:
                    waitpid(entry[0], 0)
                except ChildProcessError:
                    pass
                sock.send(b"X " + uid)
                continue
            if fd != keep:
                continue
            try:
                msg = recv(4096, nowait)
            except BlockingIOError:
                continue
            if not msg:
                os._exit(0)  # the server is gone
            if msg[:2] == b"P ":  # b"P UID CGROUP": prepare a child for the slot's next job
                _, uid, cgroup = msg.split(b" ")
                if uid in prepared:  # asked again (the slot served a session meanwhile): still waiting
                    if prepared[uid][2]:
                        sock.send(b"R " + uid)
                    continue
                ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                try:
                    pid = fork()
                except OSError:
                    ours.close(); theirs.close()
                    sock.send(b"X " + uid)
                    continue
                if pid == 0:
                    prepared_child(theirs.fileno(), cgroup.decode(), me)
                theirs.close()
                prepared[uid] = [pid, ours, False]
                channels[ours.fileno()] = uid
                poller.register(ours.fileno(), select.POLLIN)
                continue
            tag, uid, _ = msg.split(b" ", 2)
            pid = None
            entry = prepared.pop(uid, None)
            if entry is not None:  # hand the job to the slot's prepared child (ready or still joining)
                channel = entry[1]
                del channels[channel.fileno()]
                poller.unregister(channel.fileno())
                try:
                    channel.send(msg)
                    pid = entry[0]
                except OSError:  # it died: reap it and fork as usual
                    try:
                        waitpid(entry[0], 0)
                    except ChildProcessError:
                        pass
                channel.close()
            if pid is None:
                try:
                    pid = fork()
                except OSError:  # out of memory or processes: this snippet fails to start, the next may not
                    sock.send(b"%s %d" % (tag, EXIT_SETUP << 8))
                    continue
                if pid == 0:
                    launcher_child(me)
                    launched_child(msg, me, joined=False)
            pidfd = pidfd_open(pid)
            kids[pidfd] = (pid, tag)
            poller.register(pidfd, select.POLLIN)


def launcher_child(launcher):
    """The first steps of every child the launcher forks. Until it switches uid (which clears this), the launcher's
    death ends it: the server, which then sweeps the slot's uid, could not find a child still setting up as root."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    libc.prctl(PR_SET_NAME, b"python3", 0, 0, 0)
    if os.getppid() != launcher:
        os._exit(EXIT_SETUP)


def prepared_child(channel, cgroup, launcher):
    """A launcher's child made ahead of its job: it joins the slot's cgroup now, off the snippet's path (joining
    waits for an RCU grace period now and then: 10-35 ms, the whole latency tail before), says b"r" and waits
    for the job line."""
    launcher_child(launcher)
    os.closerange(3, channel); os.closerange(channel + 1, 1 << 16)  # the server's socket, other children's
    try:
        join_cgroup(cgroup)
    except OSError:
        os._exit(EXIT_SETUP)
    try:
        os.write(channel, b"r")
    except OSError:  # the job came first and the launcher closed its end: the job is still queued here
        pass
    try:
        msg = os.read(channel, 4096)
    except OSError:
        msg = b""
    os.close(channel)
    if not msg:
        os._exit(EXIT_SETUP)
    launched_child(msg, launcher, joined=True)


def launched_child(msg, launcher, joined):
    """A launcher's child (after launcher_child) with its job line b"TAG UID MEM_MB CPU_S FSIZE TIMEOUT STDIN IO
    SCRATCH CGROUP"; `joined`: already in the slot's cgroup (a prepared child)."""
    _, uid, mem_mb, cpu_s, fsize, timeout, stdin, io, scratch, cgroup = msg.decode().split(" ")
    job = {"mem_mb": int(mem_mb), "cpu_s": int(cpu_s), "fsize": int(fsize), "timeout": float(timeout)}
    try:
        fds = open_io(io, stdin == "1")
    except OSError:
        os._exit(EXIT_SETUP)
    child_oneshot(job, int(uid), scratch, fds, None if joined else cgroup, launcher)
    os._exit(EXIT_SETUP)


class Launcher:
    """The server's end of a launcher: its socket, pid, and the jobs it runs by tag."""

    def __init__(self):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            ours.close()
            launcher_main(theirs)
            os._exit(0)
        theirs.close()
        TRACKED.add(pid)  # reaped by launcher_lost only, after it is killed: its pid cannot name another process
        self.sock, self.pid, self.jobs = ours, pid, {}


# ------------------------------------------------------------------ server side
def proc_uid(pid, living=False):
    """The real uid of a process, or None (with living=True also for a zombie, which holds nothing and whose pid
    stays its own until its parent reaps it). One raw read of /proc/<pid>/status (a sweep reads it for every
    process it does not know, so this is 4x cheaper than line iteration plus a read of /proc/<pid>/stat)."""
    try:
        fd = os.open("/proc/%d/status" % pid, os.O_RDONLY | os.O_CLOEXEC)
        try:
            data = os.read(fd, 8192)
        finally:
            os.close(fd)
        if living and b"\nState:\tZ" in data:
            return None
        start = data.index(b"\nUid:") + 5
        return int(data[start:data.index(b"\n", start)].split()[0])
    except (OSError, ValueError, IndexError):
        return None


# Session heads pinned by a pidfd, with the uid read while the pidfd showed them alive: {pid: (pidfd, uid)}.
# While a pidfd is not readable its process has not exited, so its pid cannot name another process, and its
# uid (an unprivileged slot uid) cannot have changed: a sweep for another uid can skip it without reading /proc.
PINNED = {}


def pin(pid, uid):
    if UNSAFE or pid in PINNED:
        return
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return
    # Read the uid through the pid after the pidfd exists; if the process is still alive afterwards, the
    # uid read was its own (its pid could not have been reused meanwhile).
    probe = select.poll()  # not select.select: descriptors above 1023 are common with many sessions
    probe.register(fd, select.POLLIN)
    if proc_uid(pid) != uid or probe.poll(0):
        os.close(fd)
        return
    PINNED[pid] = (fd, uid)


def pinned_alive():
    """Drops pins whose process has exited; returns {pid: uid} of the rest."""
    if not PINNED:
        return {}
    poller = select.poll()
    for fd, _ in PINNED.values():
        poller.register(fd, select.POLLIN)
    exited = {fd for fd, _ in poller.poll(0)}
    alive = {}
    for pid, (fd, uid) in list(PINNED.items()):
        if fd in exited:
            del PINNED[pid]
            os.close(fd)
        else:
            alive[pid] = uid
    return alive


def kill_uid(uid, spare=lambda pid: False):
    """SIGKILLs every process of a slot uid, except those `spare` keeps; repeats until none is left."""
    if UNSAFE:
        return
    for _ in range(100):
        found = False
        # Skipped without reading /proc (the read costs ~12 us per process, and every live session has a
        # head): our own unreaped one-shot children, which run under other slot uids and whose pids cannot
        # be reused before we reap them, pid 1, ourselves, and pinned heads of other uids that are alive.
        others = {pid for pid, owner in pinned_alive().items() if owner != uid}
        skip = TRACKED | others | {1, MY_PID}
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) in skip:
                continue
            # Zombies are skipped: a launched child waits for the launcher to reap it, and SIGKILL cannot end one.
            if proc_uid(int(d), True) == uid and not spare(int(d)):
                found = True
                try:
                    os.kill(int(d), signal.SIGKILL)
                except OSError:
                    pass
        # A pinned head that exited during the pass may have freed its pid for a process of `uid`: scan again.
        if not found and not (others - set(pinned_alive())):
            reap()  # what it killed and we inherited (daemons of the slot) is gone, not left a zombie of the uid
            return
        reap()
        time.sleep(0.0005)


TRACKED = set()  # pids of one-shot jobs forked and not yet reaped
MY_PID = os.getpid()


def reap():
    """Reaps orphans re-parented to us (we are a subreaper), never a tracked one-shot job."""
    while True:
        try:
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if info is None or info.si_pid in TRACKED:
            return
        try:
            os.waitpid(info.si_pid, 0)
        except ChildProcessError:
            pass


def wipe(path):
    """Removes a scratch directory; most snippets leave it empty, and one rmdir is cheaper than rmtree."""
    try:
        os.rmdir(path)
    except OSError:
        shutil.rmtree(path, ignore_errors=True)


def open_io(name, stdin=True):
    """Opens a snippet's files IO/<name>.*: the code and stdin to read, the output and result record to write."""
    base = os.path.join(IO_DIR, safe_name(name))
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW
    fds = {"py": os.open(base + ".py", os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)}
    try:
        # No .in file when the snippet's stdin is empty: it reads /dev/null.
        fds["in"] = os.open(base + ".in" if stdin else "/dev/null", os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        for k in ("out", "err", "meta"):
            fds[k] = os.open(base + "." + k, flags, 0o600)
    except OSError:
        for f in fds.values():
            os.close(f)
        raise
    return fds


def safe_name(value):
    name = str(value)
    if not name or len(name) > 64 or not all(c.isalnum() or c in "-_" for c in name):
        raise ValueError("bad io name")
    return name


class Job:
    __slots__ = ("id", "job", "uid", "pid", "pidfd", "t0", "deadline", "killed", "scratch", "session", "grace",
                 "cgroup", "key", "io")


class Session:
    def __init__(self, name, family, sock, scratch):
        self.name, self.family, self.sock, self.scratch = name, family, sock, scratch
        self.head_pid = None    # kernel-verified (SCM_CREDENTIALS), never taken from message text
        self.running = None     # Job
        self.queue = []
        self.pending_fork = None
        self.dead = False
        self.mem_mb = 2048


class Poller:
    """epoll without the selectors module's bookkeeping (one register and one unregister per snippet)."""

    def __init__(self):
        self.ep = select.epoll()
        self.data = {}

    def register(self, fd, data):
        self.ep.register(fd, select.EPOLLIN)
        self.data[fd] = data

    def unregister(self, fd):
        del self.data[fd]  # KeyError when not registered, like selectors
        self.ep.unregister(fd)

    def poll(self, timeout):
        data = self.data
        return [data[fd] for fd, _ in self.ep.poll(timeout) if fd in data]


class Server:
    def __init__(self):
        self.sel = Poller()
        self.free_uids = list(range(OPT["uid_base"], OPT["uid_base"] + OPT["uids"]))
        # Free slots whose launcher child is already forked and in the slot's cgroup (`ready`, newest last) or is
        # being prepared (`preparing`): a one-shot job takes a ready slot first.
        self.ready, self.preparing = [], set()
        self.last_mem_mb = 2048  # the cgroup limit a prepared slot gets until its job sets its own
        self.jobs = {}
        self.queue = []
        self.sessions = {}
        self.families = {}      # uid -> set of session names sharing it (a session and its forks)
        self.inbuf = b""
        self.done = 0
        self.sel.register(PROTO_IN, ("proto", None))
        self.launcher = None
        self.launcher_deaths = []  # when launchers died: too many too fast and the server forks snippets itself
        self.next_tag = 0
        if CGROUPS is not None and not UNSAFE:
            self.start_launcher()

    def start_launcher(self):
        self.launcher = Launcher()
        self.sel.register(self.launcher.sock.fileno(), ("launcher", self.launcher))
        self.top_up()

    def launcher_lost(self, launcher, reason):
        """The launcher died (or its socket failed): its jobs end as launcher_died, never as a result; a new
        launcher takes over unless they keep dying, then the server forks snippets itself."""
        if launcher is not self.launcher:
            return
        self.launcher = None
        try:
            self.sel.unregister(launcher.sock.fileno())
        except (KeyError, ValueError):
            pass
        launcher.sock.close()
        try:
            os.kill(launcher.pid, signal.SIGKILL)
            os.waitpid(launcher.pid, 0)
        except OSError:
            pass
        TRACKED.discard(launcher.pid)
        for j in list(launcher.jobs.values()):
            self.end_launched(j)
            self.send({"id": j.id, "status": "launcher_died", "reason": reason,
                       "wall_ms": round((time.perf_counter() - j.t0) * 1000, 2)})
        launcher.jobs.clear()
        # Its prepared children die with it (their death signal): those slots are plain free slots again.
        self.free_uids.extend(self.ready); self.free_uids.extend(self.preparing)
        self.ready, self.preparing = [], set()
        now = time.monotonic()
        self.launcher_deaths = [t for t in self.launcher_deaths if now - t < 10] + [now]
        if len(self.launcher_deaths) < 3:
            self.start_launcher()
        else:
            print("fork-server: the launcher keeps dying; forking snippets from the server", file=sys.stderr)
        reap()
        self.top_up()
        while self.queue and self.has_uid():
            self.safe_handle(self.queue.pop(0))

    def end_launched(self, j):
        """Ends a launched job whose launcher died: nothing of its slot uid survives, its slot is free."""
        del self.jobs[j.key]
        kill_uid(j.uid)
        wipe(j.scratch)
        self.free_uids.append(j.uid)

    def launcher_msg(self, launcher):
        try:
            msg = launcher.sock.recv(64)
        except OSError as e:
            return self.launcher_lost(launcher, "the sandbox launcher failed: %s" % (e,))
        if not msg:
            return self.launcher_lost(launcher, "the sandbox launcher died")
        if msg[:1] in (b"R", b"X"):  # a prepared child is in its slot's cgroup, or died before its job
            uid = int(msg[2:])
            if msg[:1] == b"R":
                if uid in self.preparing:  # else a job or a session took the slot meanwhile
                    self.preparing.discard(uid)
                    self.ready.append(uid)
                return
            if uid in self.preparing:
                self.preparing.discard(uid)
            elif uid in self.ready:
                self.ready.remove(uid)
            else:
                return  # a job took the slot: the launcher forks for it
            self.free_uids.append(uid)
            self.top_up()
            return
        tag, status = (int(v) for v in msg.split())
        j = launcher.jobs.pop(tag, None)
        if j is not None:
            self.finish_job(j, status)

    def kill_launched(self, j):
        """Timeout of a launched job: everything in its slot's cgroup (the child joins it first) and of its uid.
        Repeated until it ends: a child still setting up as root may have been missed."""
        for pid in CGROUPS.pids(j.cgroup):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        kill_uid(j.uid)
        j.grace = time.perf_counter() + 0.5

    def send(self, obj):
        view = memoryview((json.dumps(obj) + "\n").encode())
        while view:
            try:
                n = os.write(PROTO_OUT, view)
            except BlockingIOError:
                time.sleep(0.001); continue
            view = view[n:]

    def has_uid(self):
        return bool(self.ready or self.free_uids or self.preparing)

    def take_job_uid(self):
        """A slot for a one-shot job: one whose child is ready, else a free one, else one being prepared (its job
        waits in the launcher for the child)."""
        if self.ready:
            return self.ready.pop()
        if self.free_uids:
            return self.free_uids.pop()
        return self.preparing.pop()

    def top_up(self):
        """Asks the launcher to prepare children for free slots, up to PREPARED ready or on the way."""
        launcher = self.launcher
        while launcher is not None and self.free_uids and len(self.ready) + len(self.preparing) < PREPARED:
            uid = self.free_uids.pop()
            path = CGROUPS.ensure("slot-%d" % uid, self.last_mem_mb)
            try:
                launcher.sock.send(b"P %d %s" % (uid, path.encode()))
            except OSError as e:
                self.free_uids.append(uid)
                return self.launcher_lost(launcher, "the sandbox launcher failed: %s" % (e,))
            self.preparing.add(uid)

    def job_params(self, req):
        timeout = min(max(float(req.get("timeout", 5.0)), 0.01), 3600.0)
        max_output = min(max(int(req.get("max_output", 1 << 20)), 16), 1 << 30)
        return {"timeout": timeout, "mem_mb": min(max(int(req.get("mem_mb", 2048)), 64), 1 << 20),
                "cpu_s": int(timeout) + 1, "fsize": max_output + 1}

    def make_scratch(self, uid, suffix=""):
        d = os.path.join(SCRATCH, "u%d%s" % (uid, suffix))
        try:
            os.mkdir(d, 0o700)
        except FileExistsError:  # left by a snippet whose wipe failed: start empty
            shutil.rmtree(d, ignore_errors=True)
            os.mkdir(d, 0o700)
        if not UNSAFE:
            os.chown(d, uid, uid)
        return d

    def reply_error(self, req, message):
        self.send({"id": req.get("id"), "status": "refused", "reason": message})

    # ---- one-shot jobs
    def start_job(self, req):
        if not self.has_uid():
            self.queue.append(req); return
        params = self.job_params(req)
        io, stdin = safe_name(req.get("io")), req.get("stdin", True) is not False
        # A launched child opens its files itself (as root, before it drops it): no descriptors to pass around.
        fds = open_io(io, stdin) if self.launcher is None else None
        # Last freed, first reused: the few slots in use stay warm (their cgroups, limits and the kernel's caches),
        # instead of rotating through all of them. A freed slot has no process left (kill_uid), so reuse is safe.
        uid = self.take_job_uid()
        scratch = self.make_scratch(uid)
        cgroup = "slot-%d" % uid
        cgroup_path = CGROUPS.ensure(cgroup, params["mem_mb"]) if CGROUPS else None
        self.last_mem_mb = params["mem_mb"]
        j = Job()
        j.id, j.job, j.uid, j.scratch, j.session = req.get("id"), params, uid, scratch, None
        j.cgroup, j.io = cgroup, io
        j.t0 = time.perf_counter(); j.deadline = j.t0 + params["timeout"] + 0.25; j.killed = False
        j.grace = None
        launcher = self.launcher
        if launcher is not None:
            self.next_tag += 1
            j.key, j.pid, j.pidfd = "L%d" % self.next_tag, None, None
            launcher.jobs[self.next_tag] = j
            self.jobs[j.key] = j
            msg = ("%d %d %d %d %d %r %d %s %s %s" % (self.next_tag, uid, params["mem_mb"], params["cpu_s"], params["fsize"],
                                                      params["timeout"], stdin, io, scratch, cgroup_path)).encode()
            try:
                launcher.sock.send(msg)
            except OSError as e:
                return self.launcher_lost(launcher, "the sandbox launcher failed: %s" % (e,))
            self.top_up()
            return
        pid = os.fork()
        if pid == 0:
            try:
                child_oneshot(params, uid, scratch, fds, cgroup_path)
            finally:
                os._exit(EXIT_SETUP)
        for f in fds.values():
            os.close(f)
        j.pid = pid
        j.pidfd = j.key = os.pidfd_open(pid)
        TRACKED.add(pid)
        self.jobs[j.key] = j
        self.sel.register(j.pidfd, ("job", j))

    def finish_job(self, j, status=None):
        """A one-shot snippet ended: reaped here (status None) or by the launcher (its status)."""
        del self.jobs[j.key]
        if status is None:
            self.sel.unregister(j.pidfd)
            try:
                _, status, _ = os.wait4(j.pid, 0)
            except ChildProcessError:
                status = signal.SIGKILL  # never report an unknown end as success
            TRACKED.discard(j.pid)
            os.close(j.pidfd)
        wall = (time.perf_counter() - j.t0) * 1000
        if j.pid is None and os.WIFSIGNALED(status) and not os.path.exists(os.path.join(IO_DIR, j.io + ".meta")):
            # Killed before it opened its files (a prepared child killed from outside before its job reached it):
            # it never ran, so it is a failure to start, which Node retries, not the snippet's crash.
            status = EXIT_SETUP << 8
        if j.pid is None:
            # Launched: every process of the snippet is in its slot's cgroup (the child joined it before it
            # dropped root, and nothing in the jail can move out); the uid sweep only if one is left.
            if CGROUPS.pids(j.cgroup):
                kill_uid(j.uid)
        elif not UNSAFE:
            kill_uid(j.uid)  # daemons that left the process group
        else:
            try:
                os.killpg(j.pid, signal.SIGKILL)
            except OSError:
                pass
        wipe(j.scratch)
        oom = CGROUPS.had_oom(j.cgroup) if CGROUPS else False
        if CGROUPS and CGROUPS.doomed:
            CGROUPS.sweep()
        self.free_uids.append(j.uid)
        self.send(self.result(j, status, wall, oom))
        self.done += 1
        self.top_up()
        while self.queue and self.has_uid():
            self.safe_handle(self.queue.pop(0))

    def result(self, j, status, wall, oom=False):
        """The reply for a finished snippet; `oom`: its cgroup's OOM killer ended one of its processes."""
        res = {"id": j.id, "wall_ms": round(wall, 2)}
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            res["signal"] = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            if j.killed:
                res["status"] = "timeout"
            elif sig == signal.SIGXCPU:
                res["status"] = "timeout"
            elif sig == signal.SIGXFSZ:
                res["status"] = "output_limit"
            elif sig == signal.SIGKILL and oom:
                res["status"] = "memory"
            else:
                res["status"] = "crash"
        else:
            code = os.WEXITSTATUS(status)
            res["exit_code"] = code
            res["status"] = {0: "ok", EXIT_ERROR: "error", EXIT_MEMORY: "memory", EXIT_TIMEOUT: "timeout",
                             EXIT_SETUP: "setup_failed"}.get(code, "exit")
            if j.killed and code != 0:
                res["status"] = "timeout"
        return res

    # ---- sessions
    def take_uid(self):
        """A slot for a session family: a plain free one first (a prepared slot's child waits on for a later job)."""
        if self.free_uids:
            return self.free_uids.pop()
        if self.ready:
            return self.ready.pop()
        return self.preparing.pop() if self.preparing else None

    def session_open(self, req):
        name = safe_name(req.get("session"))
        if name in self.sessions:
            return self.reply_error(req, "session exists")
        uid = self.take_uid()
        if uid is None:
            return self.reply_error(req, "no free slot")
        params = self.job_params(req)
        scratch = self.make_scratch(uid, "-" + name)
        cgroup_path = CGROUPS.ensure("sess-" + name, params["mem_mb"]) if CGROUPS else None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        pid = os.fork()
        if pid == 0:
            try:
                ours.close()
                session_head(theirs, uid, scratch, params, cgroup_path)
            finally:
                os._exit(EXIT_SETUP)
        theirs.close()
        s = Session(name, uid, ours, scratch)
        s.mem_mb = params["mem_mb"]
        s.pending_fork = ("open", req.get("id"))
        self.sessions[name] = s
        self.families[uid] = {name}
        self.sel.register(ours.fileno(), ("sess", s))

    def session_run(self, s, req):
        if s.dead:
            return self.send({"id": req.get("id"), "status": "session_dead"})
        if s.running is not None or s.head_pid is None or s.pending_fork:
            s.queue.append(req); return
        params = self.job_params(req)
        fds = open_io(req.get("io"), req.get("stdin", True) is not False)
        j = Job()
        j.id, j.job, j.uid, j.pid, j.pidfd, j.scratch, j.session = req.get("id"), params, s.family, None, None, s.scratch, s
        j.t0 = time.perf_counter(); j.deadline = j.t0 + params["timeout"] + 0.25; j.killed = False
        j.grace = None
        s.running = j
        try:
            socket.send_fds(s.sock, [json.dumps(dict(params, op="run")).encode()],
                            [fds["in"], fds["out"], fds["err"], fds["meta"], fds["py"]])
        except OSError:
            self.session_lost(s)
        finally:
            for f in fds.values():
                os.close(f)

    def session_fork(self, s, req):
        if s.dead:
            return self.send({"id": req.get("id"), "status": "session_dead"})
        if s.running is not None or s.head_pid is None or s.pending_fork:
            s.queue.append(req); return
        names = [safe_name(n) for n in req.get("children", [])]
        if not names or len(names) > 64 or any(n in self.sessions for n in names) or len(set(names)) != len(names):
            return self.reply_error(req, "bad fork children")
        pairs, scratches = [], []
        for n in names:
            a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            a.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
            pairs.append((a, b)); scratches.append(self.make_scratch(s.family, "-" + n))
            if CGROUPS:  # each fork is its own trajectory with its own bound; moved in when it announces itself
                CGROUPS.ensure("sess-" + n, s.mem_mb)
        try:
            socket.send_fds(s.sock, [json.dumps({"op": "fork", "scratch": scratches}).encode()],
                            [b.fileno() for _, b in pairs])
        except OSError:
            for a, b in pairs:
                a.close(); b.close()
            return self.session_lost(s)
        for (a, b), n, d in zip(pairs, names, scratches):
            b.close()
            child = Session(n, s.family, a, d)
            child.mem_mb = s.mem_mb
            child.pending_fork = ("child", None)
            self.sessions[n] = child
            self.families[s.family].add(n)
            self.sel.register(a.fileno(), ("sess", child))
        s.pending_fork = ("fork", req.get("id"), names)

    def session_close(self, s, reply_id=None, notify=True):
        if s.name in self.sessions:
            del self.sessions[s.name]
            try:
                self.sel.unregister(s.sock.fileno())
            except (KeyError, ValueError):
                pass
            s.sock.close()
            family = self.families.get(s.family, set())
            family.discard(s.name)
            if s.running is not None:
                self.send({"id": s.running.id, "status": "session_dead"})
                s.running = None
            for q in s.queue:
                self.send({"id": q.get("id"), "status": "session_dead"})
            s.queue = []
            if s.head_pid:
                try:
                    os.kill(s.head_pid, signal.SIGKILL)
                except OSError:
                    pass
            shutil.rmtree(s.scratch, ignore_errors=True)
            if CGROUPS:
                CGROUPS.remove("sess-" + s.name)
            if not family:
                self.families.pop(s.family, None)
                kill_uid(s.family)
                self.free_uids.append(s.family)
                self.top_up()
                while self.queue and self.has_uid():
                    self.safe_handle(self.queue.pop(0))
            else:
                self.sweep_family(s.family)
        if reply_id is not None and notify:
            self.send({"id": reply_id, "status": "ok"})

    def sweep_family(self, uid):
        """Kills processes of a session family that are not a head (daemons a snippet left). Only while
        the whole family is idle: a running snippet's runner or its unannounced successor must live."""
        keep = set()
        for n in self.families.get(uid, ()):
            s = self.sessions[n]
            if s.running is not None or s.pending_fork or (s.head_pid is None and not s.dead):
                return
            if s.head_pid:
                keep.add(s.head_pid)
        kill_uid(uid, lambda pid: pid in keep)

    def session_lost(self, s):
        s.dead = True
        j, s.running = s.running, None
        if j is not None:
            self.send({"id": j.id, "status": "session_dead"})
        pf, s.pending_fork = s.pending_fork, None
        if pf and pf[0] in ("open", "fork") and pf[1] is not None:
            self.send({"id": pf[1], "status": "session_dead"})
        for q in s.queue:
            self.send({"id": q.get("id"), "status": "session_dead"})
        s.queue = []
        try:
            self.sel.unregister(s.sock.fileno())
        except (KeyError, ValueError):
            pass
        if s.head_pid:
            try:
                os.kill(s.head_pid, signal.SIGKILL)
            except OSError:
                pass
            s.head_pid = None

    def session_msg(self, s):
        try:
            msg, anc, _, _ = s.sock.recvmsg(4096, socket.CMSG_SPACE(12))
        except OSError:
            msg, anc = b"", []
        if not msg:
            return self.session_lost(s)
        sender = None  # kernel-verified pid of the sending process; message text is never trusted for it
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS and len(data) >= 12:
                sender = struct.unpack("iII", data[:12])[0]
        try:
            m = json.loads(msg)
        except ValueError:
            m = None
        if not isinstance(m, dict) or sender is None:
            return
        sender_uid = proc_uid(sender)
        if sender_uid is None or (not UNSAFE and sender_uid != s.family):
            return
        j = s.running
        if m.get("head") is True:
            if j is not None and sender == j.pid:
                return  # the runner itself cannot become the head while it runs
            s.head_pid = sender
            pin(sender, s.family)
            if CGROUPS and s.pending_fork and s.pending_fork[0] == "child":
                CGROUPS.move("sess-" + s.name, sender)
            if j is not None:
                s.running = None
                status = m.get("status")
                self.finish_session_job(s, j, status if isinstance(status, int) and 0 <= status < 65536 else None)
            pf = s.pending_fork
            if pf and pf[0] in ("open", "child"):
                s.pending_fork = None
                if pf[0] == "open":
                    self.send({"id": pf[1], "status": "ok", "uid": s.family})
            self.check_fork_done()
            self.session_next(s)
        elif m.get("started") is True and j is not None and j.pid is None and sender != s.head_pid:
            j.pid = sender
        elif m.get("forked") is not None and s.pending_fork and s.pending_fork[0] == "fork":
            s.pending_fork = ("forked",) + s.pending_fork[1:]
            self.check_fork_done()

    def check_fork_done(self):
        for s in list(self.sessions.values()):
            pf = s.pending_fork
            if pf and pf[0] == "forked":
                kids = [self.sessions.get(n) for n in pf[2]]
                if all(k is None or k.dead or (k.head_pid and not k.pending_fork) for k in kids):
                    s.pending_fork = None
                    self.send({"id": pf[1], "status": "ok"})
                    self.session_next(s)

    def finish_session_job(self, s, j, status):
        """The snippet is over: the successor head (commit) or the old head (rollback) announced itself."""
        if j.pid:
            try:  # whatever the snippet started in the runner's process group
                os.killpg(j.pid, signal.SIGKILL)
            except OSError:
                pass
        wall = (time.perf_counter() - j.t0) * 1000
        if status is None:
            res = {"id": j.id, "wall_ms": round(wall, 2), "status": "timeout" if j.killed else "crash"}
        else:
            res = self.result(j, status, wall, CGROUPS.had_oom("sess-" + s.name) if CGROUPS else False)
        self.send(res)
        self.sweep_family(s.family)

    def session_next(self, s):
        while s.queue and s.running is None and not s.pending_fork and not s.dead:
            self.safe_handle(s.queue.pop(0))

    # ---- dispatch
    def handle(self, req):
        op = req.get("op", "run")
        name = req.get("session")
        if op == "stats":
            self.send({"id": req.get("id"), "status": "ok", "running": len(self.jobs), "queued": len(self.queue),
                       "sessions": len(self.sessions), "done": self.done,
                       "free_uids": len(self.free_uids) + len(self.ready) + len(self.preparing), "prepared": len(self.ready)})
        elif op == "open":
            self.session_open(req)
        elif op == "close":
            s = self.sessions.get(name)
            if s is None:
                self.send({"id": req.get("id"), "status": "ok"})
            else:
                self.session_close(s, req.get("id"))
        elif op == "fork":
            s = self.sessions.get(name)
            if s is None:
                return self.send({"id": req.get("id"), "status": "session_dead"})
            self.session_fork(s, req)
        elif op == "run" and name is not None:
            s = self.sessions.get(name)
            if s is None:
                return self.send({"id": req.get("id"), "status": "session_dead"})
            self.session_run(s, req)
        elif op == "run":
            self.start_job(req)
        else:
            self.reply_error(req, "unknown op")

    def safe_handle(self, req):
        try:
            self.handle(req)
        except Exception as e:  # a bad request must never take the server down
            self.reply_error(req, "%s: %s" % (type(e).__name__, e))

    def check_deadlines(self):
        now = time.perf_counter()
        for j in list(self.jobs.values()):
            if j.pid is None:  # launched
                if now > j.deadline and (not j.killed or now > j.grace):
                    j.killed = True
                    self.kill_launched(j)
                continue
            if not j.killed and now > j.deadline:
                j.killed = True
                for kill in (os.killpg, os.kill):
                    try:
                        kill(j.pid, signal.SIGKILL)
                    except OSError:
                        pass
        for s in list(self.sessions.values()):
            j = s.running
            if j is None:
                continue
            if not j.killed and now > j.deadline:
                j.killed = True
                j.grace = now + 2.0  # the old head must announce itself by then
                if j.pid:
                    try:
                        os.killpg(j.pid, signal.SIGKILL)
                    except OSError:
                        pass
            elif j.killed and j.grace is not None and now > j.grace:
                self.session_lost(s)  # the head itself is stuck or gone

    def next_timeout(self):
        deadlines = [j.deadline if not j.killed else j.grace for j in self.jobs.values()
                     if not j.killed or j.grace is not None]
        for s in self.sessions.values():
            if s.running is not None:
                deadlines.append(s.running.grace if s.running.killed else s.running.deadline)
        return max(0.0, min(deadlines) - time.perf_counter()) if deadlines else 1.0

    def loop(self):
        self.send({"ready": True, "pid": os.getpid(), "import_ms": round(T_IMPORT * 1000),
                   "warmup_ms": round(T_WARM * 1000), "preloaded": PRELOADED,
                   "imported": ALWAYS_IMPORTED + [n for m in PRELOADED for n in [m] + PRELOAD_EXTRAS.get(m, [])],
                   "seccomp": bool(SECCOMP_BPF),
                   "unsafe": UNSAFE, "python": sys.version.split()[0], "heap_huge_mb": HEAP_HUGE_MB,
                   "memory_bound": MEMORY_BOUND})
        eof = False
        while not eof:
            for kind, obj in self.sel.poll(self.next_timeout()):
                if kind == "proto":
                    chunk = os.read(PROTO_IN, 1 << 16)  # requests are metadata: a 1 MiB buffer costs an mmap
                    if not chunk:
                        eof = True
                        break
                    self.inbuf += chunk
                    while b"\n" in self.inbuf:
                        line, self.inbuf = self.inbuf.split(b"\n", 1)
                        if line.strip():
                            try:
                                req = json.loads(line)
                            except ValueError:
                                self.send({"status": "refused", "reason": "bad request json"}); continue
                            self.safe_handle(req if isinstance(req, dict) else {})
                elif kind == "job":
                    self.finish_job(obj)
                elif kind == "sess":
                    self.session_msg(obj)
                elif kind == "launcher":
                    self.launcher_msg(obj)
            self.check_deadlines()
            reap()
        # stdin closed: Node is gone or closing us. Kill everything we started.
        if self.launcher is not None:
            try:
                os.kill(self.launcher.pid, signal.SIGKILL)
            except OSError:
                pass
        for j in list(self.jobs.values()):
            if j.pid is None:
                continue  # launched, never started: the sweep of its uid below
            for kill in (os.killpg, os.kill):  # the child itself too: it may not have called setsid yet
                try:
                    kill(j.pid, signal.SIGKILL)
                except OSError:
                    pass
        for s in list(self.sessions.values()):
            self.session_close(s, notify=False)
        idle = set(self.free_uids) | set(self.ready) | self.preparing  # prepared children are root, gone with the launcher
        for uid in range(OPT["uid_base"], OPT["uid_base"] + OPT["uids"]):
            if uid not in idle:
                kill_uid(uid)
        if CGROUPS:
            reap()
            CGROUPS.close()


if __name__ == "__main__":
    Server().loop()
