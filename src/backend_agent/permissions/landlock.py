"""The Landlock sandbox for Bash where bubblewrap cannot run (no user namespaces).

Run as a script, this file is the keeper of one shell command: ``python -I -S landlock.py
OPTIONS -- ARGV``. The keeper becomes a child subreaper, forks, restricts the child (no new
privileges, no capabilities, Landlock rules, a seccomp filter on sockets) and execs ARGV there.
When the command exits, or the keeper is told to stop, every process the command left is
killed, the way a PID namespace would. The keeper itself stays unrestricted, so with Landlock
ABI 6 the command cannot signal it.

Landlock grants by allow-list and cannot subtract, so "read everything but the secrets" is built
by splitting: a directory that holds a hidden path gets only READ_DIR (names, not contents), and
each of its other entries gets the full right, recursively down to the hidden ones.

Only the standard library is imported: the keeper starts with ``-I -S`` in a few milliseconds.
"""

from __future__ import annotations

import ctypes
import os
import signal
import stat
import struct
import sys
from collections.abc import Iterable, Sequence

# Filesystem rights (ABI 1 unless noted).
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15  # ABI 2, 3, 5
_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1}
ALL_FS = (1 << 16) - 1  # ABI 5 and later
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
READ = EXECUTE | READ_FILE | READ_DIR
DEVICE_RW = READ_FILE | WRITE_FILE | TRUNCATE | IOCTL_DEV
# Network rights (ABI 4) and scopes (ABI 6).
BIND_TCP, CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX, SCOPE_SIGNAL = 1 << 0, 1 << 1

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446  # on every arch
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_PDEATHSIG, _PR_CAPBSET_DROP, _PR_SET_SECCOMP = 1, 24, 22
_PR_SET_NO_NEW_PRIVS, _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 38, 47, 4
_PR_SET_CHILD_SUBREAPER = 36
_SECCOMP_MODE_FILTER = 2
_O_PATH = getattr(os, "O_PATH", 0o10000000)

# Character devices a command may read and write; the rest of /dev (disks!) stays closed.
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty")
DEVICE_DIRS = ("/dev/pts", "/dev/shm", "/dev/mqueue")
# seccomp, for each audit arch of this machine: the syscalls that create sockets (socket,
# socketcall) or bypass the filter (io_uring_setup), refused when the network is closed.
_SOCKET_SYSCALLS: dict[str, dict[int, tuple[int, ...]]] = {
    "x86_64": {
        0xC000003E: (41, 425, 0x40000000 | 41, 0x40000000 | 425),  # x86_64 and x32
        0x40000003: (102, 359, 425),  # i386
    },
    "aarch64": {0xC00000B7: (198, 425), 0x40000028: (281, 425)},
}


class Spec:
    """What one sandboxed command may touch; passed to the keeper as options (``to_args``).

    Plain classes and hand-made options, not dataclasses and JSON: the keeper starts for every
    command, and those imports would cost it more than everything else it does."""

    def __init__(
        self,
        writable: Sequence[str],
        hidden: Sequence[str],
        network: bool = False,
        unset: Sequence[str] = (),
        setenv: dict[str, str] | None = None,
    ) -> None:
        self.writable, self.hidden, self.network = list(writable), list(hidden), network
        self.unset, self.setenv = list(unset), dict(setenv or {})

    def to_args(self) -> list[str]:
        args = [*(f"--write={p}" for p in self.writable), *(f"--hide={p}" for p in self.hidden)]
        args += [f"--unset={name}" for name in self.unset]
        args += [f"--set={name}={value}" for name, value in self.setenv.items()]
        return [*args, "--network"] if self.network else args

    @classmethod
    def from_args(cls, args: Sequence[str]) -> Spec:
        spec = cls([], [])
        for arg in args:
            option, _, value = arg.partition("=")
            if option == "--write":
                spec.writable.append(value)
            elif option == "--hide":
                spec.hidden.append(value)
            elif option == "--unset":
                spec.unset.append(value)
            elif option == "--set":
                name, _, text = value.partition("=")
                spec.setenv[name] = text
            elif option == "--network":
                spec.network = True
            else:
                raise ValueError(f"unknown option {arg!r}")
        return spec


class Support:
    """What this kernel's Landlock can enforce (``abi`` 0: none)."""

    def __init__(self, abi: int, seccomp: bool) -> None:
        self.abi = abi
        self.seccomp = seccomp  # the socket filter has this machine's syscall numbers

    @property
    def network(self) -> bool:
        """Whether outgoing connections can be refused (Landlock TCP rules or seccomp)."""
        return self.abi >= 4 or self.seccomp

    @property
    def signals(self) -> bool:
        """Whether signals to processes outside the sandbox are refused (Landlock ABI 6)."""
        return self.abi >= 6


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def abi_version() -> int:
    """The Landlock ABI of the running kernel; 0 when Landlock is missing or disabled."""
    if not sys.platform.startswith("linux"):
        return 0
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    version = libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION)
    return max(int(version), 0)


def support() -> Support:
    return Support(abi_version(), os.uname().machine in _SOCKET_SYSCALLS)


# ------------------------------------------------------------------ rules


def plan_rules(spec: Spec, abi: int) -> list[tuple[str, int]]:
    """The (path, rights) rules of ``spec``: read everywhere but hidden paths, write in the
    writable directories, the harmless devices usable. Symlinks get no rule of their own: what
    they point to is covered (or hidden) where it lives."""
    hidden = {os.path.realpath(p) for p in spec.hidden} | {os.path.abspath(p) for p in spec.hidden}
    hidden.add("/dev")  # block devices would give raw reads of the disk
    rules: list[tuple[str, int]] = []
    _split("/", hidden, READ, rules)
    rules.append(("/dev", READ_DIR))
    rules += [(device, DEVICE_RW) for device in DEVICES if os.path.exists(device)]
    rules += [(directory, ALL_FS) for directory in DEVICE_DIRS if os.path.isdir(directory)]
    for directory in spec.writable:
        if os.path.isdir(directory):
            _split(os.path.realpath(directory), hidden, ALL_FS, rules)
    handled = handled_fs(abi)
    return [(path, rights & handled) for path, rights in rules]


def handled_fs(abi: int) -> int:
    return _FS_BY_ABI.get(abi, ALL_FS)


def _split(root: str, hidden: set[str], rights: int, rules: list[tuple[str, int]]) -> None:
    """Grant ``rights`` beneath ``root`` except under the hidden paths."""
    if root in hidden:
        return
    prefix = root.rstrip("/") + "/"
    if not any(path.startswith(prefix) for path in hidden):
        rules.append((root, rights))
        return
    rules.append((root, rights & READ_DIR))
    try:
        with os.scandir(root) as entries:
            children = [entry.path for entry in entries if not entry.is_symlink()]
    except OSError:
        return
    for child in children:
        _split(child, hidden, rights, rules)


# ------------------------------------------------------------------ enforcement


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


class SandboxSetupError(Exception):
    """The restrictions could not be applied; the command must not run."""


def _check(result: int, what: str) -> int:
    if result < 0:
        error = ctypes.get_errno()
        raise SandboxSetupError(f"{what} failed: {os.strerror(error)}")
    return result


def restrict(spec: Spec) -> None:
    """Restrict the calling process for good: then exec the command."""
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    _check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    _drop_capabilities(libc)
    abi = abi_version()
    if abi < 1:
        raise SandboxSetupError("Landlock is not available in this kernel")
    attr = _RulesetAttr(handled_fs(abi), 0, 0)
    size = 8
    if abi >= 4 and not spec.network:
        attr.handled_access_net, size = BIND_TCP | CONNECT_TCP, 16
    if abi >= 6:
        attr.scoped = SCOPE_SIGNAL | (0 if spec.network else SCOPE_ABSTRACT_UNIX)
        size = 24
    ruleset = _check(
        libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0),
        "landlock_create_ruleset",
    )
    try:
        for path, rights in plan_rules(spec, abi):
            _add_path_rule(libc, ruleset, path, rights)
        if not spec.network:
            _install_socket_filter(libc)
        _check(libc.syscall(_SYS_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)


def _add_path_rule(libc: ctypes.CDLL, ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, _O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # gone since it was listed, or unreadable: no rule, so no access
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= FILE_RIGHTS
        if rights:
            rule = _PathBeneath(rights, fd)
            _check(
                libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0),
                f"landlock_add_rule({path})",
            )
    finally:
        os.close(fd)


def _drop_capabilities(libc: ctypes.CDLL) -> None:
    """Root keeps no capability, now or after exec (as bubblewrap's --cap-drop ALL)."""
    try:
        with open("/proc/sys/kernel/cap_last_cap") as file:
            last = int(file.read())
    except (OSError, ValueError):
        last = 40
    if os.geteuid() == 0:
        for capability in range(last + 1):
            libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0)
    libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = struct.pack("Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = ctypes.create_string_buffer(24)  # effective, permitted, inheritable: all empty
    _check(libc.capset(ctypes.c_char_p(header), data), "capset")


def socket_filter(machine: str) -> list[tuple[int, int, int, int]]:
    """A seccomp program refusing (EACCES) the socket-creating syscalls of ``machine``."""
    ld_arch, ld_nr, jeq, ret = 0x20, 0x20, 0x15, 0x06
    allow, deny = 0x7FFF0000, 0x00050000 | 13  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EACCES
    program: list[tuple[int, int, int, int]] = [(ld_arch, 0, 0, 4)]
    for arch, numbers in _SOCKET_SYSCALLS.get(machine, {}).items():
        block = [(ld_nr, 0, 0, 0)]
        block += [(jeq, len(numbers) - i, 0, number) for i, number in enumerate(numbers)]
        block += [(ret, 0, 0, allow), (ret, 0, 0, deny)]
        program += [(jeq, 0, len(block), arch), *block]
    return [*program, (ret, 0, 0, allow)]


def _install_socket_filter(libc: ctypes.CDLL) -> None:
    program = socket_filter(os.uname().machine)
    if len(program) <= 2:
        return  # unknown machine: Landlock's TCP rules are the only network barrier
    filters = (_SockFilter * len(program))(*(_SockFilter(*entry) for entry in program))
    fprog = _SockFprog(len(program), filters)
    _check(libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "seccomp")


# ------------------------------------------------------------------ the keeper


def _children_of(parents: set[int]) -> set[int]:
    """Processes whose parent is in ``parents`` (one scan of /proc)."""
    found: set[int] = set()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as file:
                fields = file.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) in parents:
            found.add(int(name))
    return found


def kill_descendants() -> None:
    """SIGKILL everything below this (subreaper) process and reap it, until nothing is left.

    Orphans are re-parented here, so each round finds whatever the previous one missed."""
    while True:
        tree: set[int] = set()
        frontier = {os.getpid()}
        while frontier := _children_of(frontier) - tree:
            tree |= frontier
        for pid in tree:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:  # gone already (contextlib would slow the keeper's start)
                continue
        try:
            os.waitpid(-1, 0 if tree else os.WNOHANG)
        except ChildProcessError:
            return


def _stop(signum: int, frame: object) -> None:
    kill_descendants()
    os._exit(128 + signum)


def keep(spec: Spec, argv: Sequence[str]) -> int:
    """Run ``argv`` restricted by ``spec`` in a child; return its exit code once all is gone."""
    libc = _libc()
    parent = os.getppid()
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, _stop)
    if os.getppid() != parent:  # the agent died before the death signal was armed
        return 143
    child = os.fork()
    if child == 0:
        _exec_restricted(spec, argv)
    code = 0
    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == child:
            code = os.waitstatus_to_exitcode(status)
            break
    kill_descendants()
    return 128 - code if code < 0 else code


def _exec_restricted(spec: Spec, argv: Sequence[str]) -> None:
    try:
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL)
        environment = {k: v for k, v in os.environ.items() if k not in set(spec.unset)}
        environment.update(spec.setenv)
        restrict(spec)
        os.execvpe(argv[0], list(argv), environment)
    except BaseException as error:  # the child must never return into the keeper's code
        os.write(2, f"backend-agent sandbox: {error}\n".encode())
    os._exit(126)


def main(args: Iterable[str]) -> int:
    args = list(args)
    if "--" not in args or args[-1] == "--":
        print("usage: landlock.py [--write=DIR] [--hide=PATH] ... -- COMMAND...", file=sys.stderr)
        return 2
    split = args.index("--")
    return keep(Spec.from_args(args[:split]), args[split + 1 :])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
