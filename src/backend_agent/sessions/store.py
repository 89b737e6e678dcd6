"""Where session transcripts are kept: the ``SessionStore`` protocol and its two stores.

A store keeps, per session id, an append-only list of entries (JSON objects). The default
``JsonlFileStore`` writes one JSONL file per session in a project directory, one line per
entry, each ``append`` written and flushed at once, so a ``kill -9`` leaves a valid file (at
worst a torn last line, which loading skips with a warning). ``MemoryStore`` keeps them in
memory, for tests and embedding. A program may bring its own (a database, object storage):
anything with ``append``, ``load`` and ``list`` will do.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from backend_agent import paths
from backend_agent.errors import UserError, warn_to_stderr

Entry = dict[str, Any]
Warn = Callable[[str], None]


class SessionNotFound(UserError):
    """No session with that id in the store."""


class CorruptSession(UserError):
    """A session's transcript cannot be read back."""


class SessionStore(Protocol):
    """Keeps session transcripts: entries appended per session, loaded back whole."""

    def append(self, session_id: str, entries: Sequence[Entry]) -> None:
        """Add ``entries`` at the end of the session (created on first append), durably."""
        ...

    def load(self, session_id: str) -> list[Entry]:
        """Every entry of the session, in order; SessionNotFound when there is none."""
        ...

    def list(self) -> list[str]:
        """The ids of the sessions kept here, oldest activity first."""
        ...


@runtime_checkable
class FileBackedStore(Protocol):
    """A store that keeps each session in a file (hooks get its path as ``transcript_path``)."""

    def location(self, session_id: str) -> Path | None:
        """The session's file; None when this one is not kept in a file."""
        ...


def location_of(store: SessionStore, session_id: str) -> Path | None:
    """The file the session is kept in, when ``store`` keeps files."""
    return store.location(session_id) if isinstance(store, FileBackedStore) else None


class JsonlFileStore:
    """One ``<session-id>.jsonl`` file per session in ``directory`` (a project's directory)."""

    def __init__(self, directory: Path, *, warn: Warn = warn_to_stderr) -> None:
        self.directory = directory
        self.warn = warn

    @classmethod
    def for_cwd(cls, cwd: Path, *, warn: Warn = warn_to_stderr) -> JsonlFileStore:
        """The store of the sessions run in ``cwd``: ``~/.backend-agent/projects/<slug>``."""
        return cls(paths.project_dir(cwd), warn=warn)

    def location(self, session_id: str) -> Path:
        return self.directory / f"{session_id}.jsonl"

    def append(self, session_id: str, entries: Sequence[Entry]) -> None:
        data = b"".join(_line(entry) for entry in entries)
        path = self.location(session_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            _drop_torn_tail(fd)
            os.write(fd, data)
        finally:
            os.close(fd)

    def load(self, session_id: str) -> list[Entry]:
        path = self.location(session_id)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise SessionNotFound(f"no session {session_id} in {self.directory}") from None
        except OSError as error:
            raise CorruptSession(f"{path}: cannot read ({error.strerror or error})") from error
        return parse_jsonl(raw, str(path), self.warn)

    def list(self) -> list[str]:
        try:
            files = [p for p in self.directory.glob("*.jsonl") if p.is_file()]
        except OSError:
            return []
        files.sort(key=lambda p: p.stat().st_mtime)
        return [p.stem for p in files]


class MemoryStore:
    """Keeps transcripts in memory (lost with the process): for tests and embedding."""

    def __init__(self) -> None:
        self.sessions: dict[str, list[Entry]] = {}

    def append(self, session_id: str, entries: Sequence[Entry]) -> None:
        kept = self.sessions.setdefault(session_id, [])
        kept.extend(json.loads(json.dumps(entry)) for entry in entries)  # a copy, as on disk
        # most recent activity last, as the file store lists them
        self.sessions[session_id] = self.sessions.pop(session_id)

    def load(self, session_id: str) -> list[Entry]:
        if session_id not in self.sessions:
            raise SessionNotFound(f"no session {session_id} in this store")
        return [dict(entry) for entry in self.sessions[session_id]]

    def list(self) -> list[str]:
        return list(self.sessions)

    def location(self, session_id: str) -> Path | None:
        return None


def parse_jsonl(raw: bytes, label: str, warn: Warn) -> list[Entry]:
    """The entries of a JSONL transcript. A torn last line (no newline, not JSON: the process
    died while writing it) is skipped with a warning; any other bad line is a CorruptSession
    naming the file and line."""
    lines = raw.split(b"\n")
    torn = lines.pop()  # b"" when the file ends with a newline
    entries = [_entry(line, label, number) for number, line in enumerate(lines, 1) if line]
    if torn:
        try:
            entries.append(_entry(torn, label, len(lines) + 1))
        except CorruptSession:
            warn(f"{label}: skipped a truncated last line ({len(torn)} bytes)")
    return entries


_UNREADABLE = (
    "the session cannot be read: resume another (`backend-agent sessions` lists them), or "
    "delete the file"
)


def _entry(line: bytes, label: str, number: int) -> Entry:
    try:
        value = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CorruptSession(
            f"{label}:{number}: not a JSON line ({error}); {_UNREADABLE}"
        ) from None
    if not isinstance(value, dict):
        raise CorruptSession(f"{label}:{number}: expected a JSON object; {_UNREADABLE}")
    return value


def _line(entry: Entry) -> bytes:
    """One entry as a JSON line; lone surrogates (undecodable bytes) are written escaped."""
    try:
        return (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(entry) + "\n").encode("ascii")


def _drop_torn_tail(fd: int) -> None:
    """Cut a torn last line (left by a process killed mid-write) so the next one starts clean."""
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    content = os.pread(fd, size, 0)
    os.ftruncate(fd, content.rfind(b"\n") + 1)
