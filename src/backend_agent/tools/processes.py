"""Shell processes: each in its own process group, output collected in order by a thread."""

from __future__ import annotations

import codecs
import contextlib
import os
import signal
import subprocess
import threading
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
