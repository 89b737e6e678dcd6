"""Shell processes: each in its own process group, output collected in order by a thread."""

from __future__ import annotations

import codecs
import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO


def spawn(argv: Sequence[str], cwd: Path, pass_fds: Sequence[int] = ()) -> subprocess.Popen[bytes]:
    """Start ``argv`` as the leader of a new process group: stdin closed, stderr into stdout."""
    return subprocess.Popen(
        list(argv),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        pass_fds=tuple(pass_fds),
    )


STOP_WAIT_SECONDS = 2.0  # how long one round waits for processes to stop before going on
STOP_ROUNDS = 10  # bound for processes that never stop (stuck in the kernel)


def kill_group(pgid: int) -> None:
    """SIGKILL every process in the group and everything its leader started.

    Processes outside the group count too (a sandbox's init, a ``setsid`` daemon, orphans of a
    subreaper): the group is stopped, then every process below the leader, until none is left
    running that could start (or resume) another; then all of them are killed.
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGSTOP)
    found: set[int] = set()
    if _is_our_child(pgid):  # else the leader is gone and its pid may belong to someone else
        for _ in range(STOP_ROUNDS):
            found |= _descendants(pgid)
            running = {pid for pid in found if not _stopped(pid)}
            if not running:
                break
            for pid in running:
                _signal(pid, signal.SIGSTOP)
            _wait_stopped(running)
    for pid in found:
        _signal(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signum)


def _stat_fields(pid: int | str) -> list[bytes]:
    """The fields of /proc/PID/stat after the command name (state first); [] if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            return file.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _stopped(pid: int) -> bool:
    """Stopped, or dead: in no state to start another process."""
    state = _stat_fields(pid)[:1]
    return not state or state[0] in (b"T", b"t", b"Z", b"X")


def _is_our_child(pid: int) -> bool:
    fields = _stat_fields(pid)
    return bool(fields) and int(fields[1]) == os.getpid()


def _descendants(root: int) -> set[int]:
    """Every process below ``root`` (one scan of /proc)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (fields := _stat_fields(name)):
            children.setdefault(int(fields[1]), []).append(int(name))
    found: set[int] = set()
    frontier = [root]
    while frontier:
        frontier = [c for p in frontier for c in children.get(p, ()) if c not in found]
        found.update(frontier)
    return found


def _wait_stopped(pids: set[int]) -> None:
    """Until each process is stopped or dead, for at most STOP_WAIT_SECONDS."""
    deadline = time.monotonic() + STOP_WAIT_SECONDS
    while any(not _stopped(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.001)


def group_alive(pgid: int) -> bool:
    """Whether any process is still in the group."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Captured:
    """Output taken from a collector: the kept text, and how many lines past it were dropped."""

    text: str
    dropped_lines: int = 0


class OutputCollector:
    """Reads a pipe on a thread until EOF, so the process never blocks on a full pipe.

    Memory stays bounded: past ``keep_chars`` unread characters, lines are only counted.
    """

    def __init__(self, stream: IO[bytes], keep_chars: int) -> None:
        self._stream = stream
        self._keep_chars = keep_chars
        self._chunks: list[str] = []
        self._kept = 0
        self._dropped_newlines = 0
        self._dropped_partial_line = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        read = getattr(self._stream, "read1", self._stream.read)
        try:
            while chunk := read(65536):
                self._append(decoder.decode(chunk))
            self._append(decoder.decode(b"", final=True))
        finally:
            self._stream.close()

    def _append(self, text: str) -> None:
        with self._lock:
            room = self._keep_chars - self._kept
            if room > 0 and text:
                self._chunks.append(text[:room])
                self._kept += len(self._chunks[-1])
                text = text[room:]
            if text:
                self._dropped_newlines += text.count("\n")
                self._dropped_partial_line = not text.endswith("\n")

    def wait_closed(self, timeout: float) -> bool:
        """Wait for EOF (every writer gone); False if writers remain after ``timeout``."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def take(self) -> Captured:
        """What arrived since the previous call (which is then forgotten)."""
        with self._lock:
            dropped = self._dropped_newlines + self._dropped_partial_line
            captured = Captured("".join(self._chunks), dropped)
            self._chunks.clear()
            self._kept = self._dropped_newlines = 0
            self._dropped_partial_line = False
            return captured


class ProcessGroups:
    """Every process group a session started that may still be alive; the last-resort killer.

    Kept apart from the session so a finalizer can hold it without keeping the session alive.
    """

    def __init__(self) -> None:
        self._pgids: set[int] = set()
        self._lock = threading.Lock()

    def add(self, pgid: int) -> None:
        with self._lock:
            self._pgids.add(pgid)

    def release(self, pgid: int) -> None:
        """Forget a group once it has no processes left (its id may then be reused)."""
        if not group_alive(pgid):
            with self._lock:
                self._pgids.discard(pgid)

    def kill_all(self) -> None:
        with self._lock:
            pgids, self._pgids = self._pgids, set()
        for pgid in pgids:
            kill_group(pgid)
