"""Temporary files of atomic writes: hidden and recognisable by name, and noted before they are
created, so that the next start removes the ones a killed process left in the tree.

A temporary file is ``.<name>.<pid>-<random>.backend-agent.tmp`` beside its target: hidden, so
ripgrep, fd and editors' file lists skip it, and it names the process that made it. Its path
is first appended to ``$BACKEND_AGENT_HOME/pending-writes/<pid>``; :func:`remove_stale` reads
the notes of processes that no longer run and deletes what they left.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import threading
from pathlib import Path
from typing import IO

SUFFIX = ".backend-agent.tmp"
_NAME = re.compile(r"^\..+\.(?P<pid>\d+)-[0-9a-f]+" + re.escape(SUFFIX) + "$")


def notes_dir() -> Path:
    """Where each process notes its temporary files (under backend-agent's home)."""
    home = os.environ.get("BACKEND_AGENT_HOME")
    return (Path(home).expanduser() if home else Path.home() / ".backend-agent") / "pending-writes"


class _Notes:
    """This process's list of temporary files, appended to before each one is created."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._file: IO[bytes] | None = None
        self._pid = 0

    def note(self, temp: Path) -> None:
        """Best effort: where the notes cannot be written (a read-only home), writes go on,
        and only the cleanup after a kill is lost."""
        with self._lock, contextlib.suppress(OSError):
            if self._file is None or self._pid != os.getpid():  # a forked child notes its own
                directory = notes_dir()
                directory.mkdir(parents=True, exist_ok=True)
                self._pid = os.getpid()
                self._file = (directory / str(self._pid)).open("ab", buffering=0)
            self._file.write(os.fsencode(temp) + b"\n")


_NOTES = _Notes()


def temp_path(target: Path) -> Path:
    """A fresh temporary path beside ``target``, noted for cleanup before it exists."""
    temp = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}{SUFFIX}")
    _NOTES.note(temp)
    return temp


def remove_stale() -> list[Path]:
    """Delete the temporary files that processes which are gone left behind, and their notes;
    returns what was deleted. Never raises: a start must not fail over leftovers."""
    removed: list[Path] = []
    try:
        notes = list(notes_dir().iterdir())
    except OSError:
        return removed
    for note in notes:
        if not note.name.isdigit() or _running(int(note.name)):
            continue
        try:
            paths = note.read_bytes().splitlines()
        except OSError:
            continue
        for raw in paths:
            path = Path(os.fsdecode(raw))
            match = _NAME.match(path.name)
            if match is None or match["pid"] != note.name:
                continue  # not a temporary file of that process: never touch it
            with contextlib.suppress(OSError):  # gone (the write finished) or not ours to delete
                path.unlink()
                removed.append(path)
        with contextlib.suppress(OSError):
            note.unlink()
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
