"""Shell processes: each in its own process group, output collected in order by a thread."""

from __future__ import annotations

import codecs
import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Sequence
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


def kill_group(pgid: int) -> None:
    """SIGKILL every process in the group (children and grandchildren alike)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def group_alive(pgid: int) -> bool:
    """Whether any process is still in the group."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OutputCollector:
    """Reads a pipe on a thread until EOF, so the process never blocks on a full pipe."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._chunks: list[str] = []
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
        if text:
            with self._lock:
                self._chunks.append(text)

    def wait_closed(self, timeout: float) -> bool:
        """Wait for EOF (every writer gone); False if writers remain after ``timeout``."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def text(self) -> str:
        """Everything collected and not yet taken."""
        with self._lock:
            return "".join(self._chunks)

    def take_new(self) -> str:
        """What arrived since the previous call (and forget it)."""
        with self._lock:
            new = "".join(self._chunks)
            self._chunks.clear()
            return new


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
        """Forget a group once it has no processes left."""
        if not group_alive(pgid):
            with self._lock:
                self._pgids.discard(pgid)

    def kill_all(self) -> None:
        with self._lock:
            pgids, self._pgids = self._pgids, set()
        for pgid in pgids:
            kill_group(pgid)
