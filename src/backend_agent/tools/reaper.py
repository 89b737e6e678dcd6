"""The reaper: a process of its own that starts one tool session's shell commands as its
children, adopts every orphan they leave (PR_SET_CHILD_SUBREAPER: a `setsid cmd &`, a `nohup`,
a double fork), and kills them on request or as soon as the session's process goes away.

It runs as a script on the standard library alone (``python -I -S reaper.py FD``), so it
starts in milliseconds and holds nothing of the agent. It talks over the SOCK_SEQPACKET socket
FD, one JSON object per message; strings are bytes read as Latin-1, so any path, argument or
environment value passes unchanged:

    -> {"op": "spawn", "id": N, "argv": [...], "cwd": "...", "env": {...}, "fds": [1, 63]}
       (with descriptors, installed at those numbers in the command)
    <- {"op": "spawned", "id": N, "pid": P}  or  {"op": "failed", "id": N, "error": "..."}
    <- {"op": "exited", "id": N, "returncode": R}         once the command itself ends
    -> {"op": "kill", "id": N}        the command's whole tree; before its spawn: refuse it
    -> {"op": "kill_all", "id": N}    every process -> {"op": "killed_all", "id": N}
    end of file (the session's process closed or died): kill every process and exit.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

PR_SET_CHILD_SUBREAPER = 36
MARKER = b"BACKEND_AGENT_COMMAND"  # in every command's environment: its id, to find orphans
MAX_MESSAGE = 1 << 20
MAX_FDS = 8
KILL_ROUNDS = 200  # each kills what is left, then looks again (processes may fork meanwhile)

Selector = Callable[[int, tuple[int, int, int]], bool]


def raw(text: str) -> bytes:
    return text.encode("latin-1")


def process_table() -> dict[int, tuple[int, int, int]]:
    """Every live process on the machine: pid -> (parent, process group, session)."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if fields[0] not in (b"Z", b"X"):
            table[int(name)] = (int(fields[1]), int(fields[2]), int(fields[3]))
    return table


def command_id(pid: int) -> int | None:
    """The id in a process's environment (None: unreadable or absent)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as environ:
            variables = environ.read().split(b"\0")
    except OSError:
        return None
    for variable in variables:
        name, _, value = variable.partition(b"=")
        if name == MARKER and value.isdigit():
            return int(value)
    return None


class Reaper:
    """The reaper's state and loop: which commands run under which pid, so that a kill
    request or the end of the session reaches every process they started."""

    def __init__(self, channel: socket.socket) -> None:
        self.channel = channel
        self.running: dict[int, int] = {}  # pid -> id of each command not yet reaped
        self.pids: dict[int, int] = {}  # id -> pid of each command started
        self.refused: set[int] = set()  # ids killed before they were started

    def serve(self) -> None:
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_read, False)
        os.set_blocking(wake_write, False)
        signal.set_wakeup_fd(wake_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        for stop in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(stop, self._stop)
        while True:
            readable, _, _ = select.select([self.channel.fileno(), wake_read], [], [])
            if wake_read in readable:
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_read, 4096)
                self.reap()
            if self.channel.fileno() in readable:
                try:
                    message, fds, _, _ = socket.recv_fds(self.channel, MAX_MESSAGE, MAX_FDS)
                except ConnectionError:
                    message, fds = b"", []
                if not message:
                    self.kill(lambda pid, info: True)
                    return
                try:
                    self.handle(json.loads(message), fds)
                finally:
                    for fd in fds:
                        os.close(fd)

    def _stop(self, *_: object) -> None:
        self.kill(lambda pid, info: True)
        os._exit(0)

    def send(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):
            self.channel.send(json.dumps(message).encode())

    def handle(self, request: dict[str, Any], fds: list[int]) -> None:
        ident = int(request["id"])
        if request["op"] == "spawn":
            self.spawn(ident, request, fds)
        elif request["op"] == "kill":
            self.kill_command(ident)
        elif request["op"] == "kill_all":
            self.kill(lambda pid, info: True)
            self.send({"op": "killed_all", "id": ident})

    # ------------------------------------------------------------------ starting

    def spawn(self, ident: int, request: dict[str, Any], fds: list[int]) -> None:
        if ident in self.refused:
            self.send({"op": "failed", "id": ident, "error": "interrupted"})
            return
        error_read, error_write = os.pipe()  # closed by exec: empty means started
        pid = os.fork()
        if pid == 0:  # the command
            os.close(error_read)
            try:
                argv, env = self._child_setup(ident, request, fds)
                os.execvpe(argv[0], argv, env)
            except BaseException as exc:
                detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
                with contextlib.suppress(OSError):
                    os.write(error_write, str(detail).encode("utf-8", "replace"))
            finally:
                os._exit(127)
        os.close(error_write)
        with os.fdopen(error_read, "rb") as errors:
            error = errors.read()
        if error:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            self.send({"op": "failed", "id": ident, "error": error.decode("utf-8", "replace")})
            return
        self.running[pid] = ident
        self.pids[ident] = pid
        self.send({"op": "spawned", "id": ident, "pid": pid})

    def _child_setup(
        self, ident: int, request: dict[str, Any], fds: list[int]
    ) -> tuple[list[bytes], dict[bytes, bytes]]:
        """In the new process: own session, default signals, descriptors, directory."""
        os.setsid()
        signal.set_wakeup_fd(-1)
        for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(number, signal.SIG_DFL)
        for number in (signal.SIGPIPE, signal.SIGXFSZ):
            signal.signal(number, signal.SIG_DFL)  # Python ignores these; commands must not
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        os.chdir(raw(request["cwd"]))
        targets = [int(target) for target in request["fds"]]
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in fds]  # clear of the targets
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        for fd, target in zip(high, targets, strict=True):
            os.dup2(fd, target)
        os.dup2(1, 2)
        keep = {0, 1, 2, *targets}
        for name in os.listdir("/proc/self/fd"):
            if int(name) not in keep:
                with contextlib.suppress(OSError):
                    if os.get_inheritable(int(name)):
                        os.close(int(name))
        env = {raw(name): raw(value) for name, value in request["env"].items()}
        env[MARKER] = str(ident).encode()
        return [raw(arg) for arg in request["argv"]], env

    # ------------------------------------------------------------------ ending

    def reap(self) -> None:
        """Collect every child that ended; report the commands among them."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            ident = self.running.pop(pid, None)
            if ident is not None:
                code = os.waitstatus_to_exitcode(status)
                self.send({"op": "exited", "id": ident, "returncode": code})

    def kill_command(self, ident: int) -> None:
        pid = self.pids.get(ident)
        if pid is None:
            self.refused.add(ident)
            return
        # The command, its process group and session, and whatever carries its id.
        self.kill(lambda other, info: pid in (other, *info[1:]) or command_id(other) == ident)

    def kill(self, chosen: Selector) -> None:
        """SIGKILL the chosen descendants and everything below them, until none is left.

        Parents die before their children, so no shell runs another line once a child of
        it is gone (``cmd; echo after`` never prints after a kill).
        """
        me = os.getpid()
        for _ in range(KILL_ROUNDS):
            table = process_table()
            children: dict[int, list[int]] = {}
            for pid, info in table.items():
                children.setdefault(info[0], []).append(pid)
            chosen_pids = {pid for pid in _below(me, children) if chosen(pid, table[pid])}
            targets = [
                pid for pid in _below(me, children) if _has_ancestor_in(pid, chosen_pids, table)
            ]
            if not targets:
                return
            for pid in targets:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.002)
            self.reap()


def _below(root: int, children: dict[int, list[int]]) -> list[int]:
    """The descendants of ``root``, parents before their children."""
    found: list[int] = []
    queue = list(children.get(root, ()))
    while queue:
        pid = queue.pop(0)
        found.append(pid)
        queue.extend(children.get(pid, ()))
    return found


def _has_ancestor_in(pid: int, chosen: set[int], table: dict[int, tuple[int, int, int]]) -> bool:
    """Whether ``pid`` or one of its ancestors is chosen."""
    while pid in table:
        if pid in chosen:
            return True
        pid = table[pid][0]
    return False


def main() -> None:
    channel = socket.socket(fileno=int(sys.argv[1]))
    channel.set_inheritable(False)
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    Reaper(channel).serve()


if __name__ == "__main__":
    main()
