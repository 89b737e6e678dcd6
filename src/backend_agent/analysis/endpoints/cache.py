"""Scan results cached by (extractor, version, git blob id), and resolved inventories by the
set of files they came from: in memory and on disk.

On disk the cache lives in the repository's git directory (``.git/backend-agent/cache``),
or in the user cache directory outside git, one pickle file per extractor version. Files
are replaced atomically, so parallel runs never see a half-written cache.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Generic, TypeVar

from backend_agent import paths
from backend_agent.analysis.project import Project

T = TypeVar("T")

# Shared by every Project in the process: a --base run scans each blob once.
_MEMORY: dict[tuple[str, int, str], Any] = {}
_FORMAT = 1


def cache_dir(project: Project) -> Path:
    """Where this repository's scan cache lives (``BACKEND_AGENT_CACHE_DIR`` overrides)."""
    override = os.environ.get("BACKEND_AGENT_CACHE_DIR")
    if override:
        return Path(override)
    if project.is_git:
        proc = subprocess.run(
            ["git", "-C", str(project.root), "rev-parse", "--git-common-dir"],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode == 0:
            return (project.root / proc.stdout.strip()).resolve() / "backend-agent" / "cache"
    digest = hashlib.sha1(str(project.root).encode()).hexdigest()[:16]
    return paths.cache_dir() / "projects" / digest


class ScanCache:
    """Facts of one extractor version, keyed by blob id; ``save`` writes what changed."""

    def __init__(self, directory: Path, name: str, version: int, family: str = "endpoints") -> None:
        self.name, self.version = f"{family}-{name}", version
        self.file = directory / f"{family}-{name}-v{version}-f{_FORMAT}.pickle"
        self._disk: dict[str, Any] | None = None
        self._used: set[str] = set()
        self._added = False

    def get(self, blob: str) -> tuple[bool, Any]:
        """(found, facts) for a blob id, from memory first, then disk."""
        key = (self.name, self.version, blob)
        if key in _MEMORY:
            self._used.add(blob)
            return True, _MEMORY[key]
        disk = self._load()
        if blob in disk:
            _MEMORY[key] = disk[blob]
            self._used.add(blob)
            return True, disk[blob]
        return False, None

    def put(self, blob: str, facts: Any) -> None:
        _MEMORY[(self.name, self.version, blob)] = facts
        self._load()[blob] = facts
        self._used.add(blob)
        self._added = True

    def save(self) -> None:
        """Write the cache if anything was added; keep it from growing without bound."""
        if not self._added or self._disk is None:
            return
        entries = self._disk
        if len(entries) > 4 * max(len(self._used), 1000):
            entries = {blob: entries[blob] for blob in self._used}
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.file.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as out:
                pickle.dump(entries, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.file)
        except OSError:
            return  # a read-only repository still gets its inventory, just uncached
        self._added = False

    def _load(self) -> dict[str, Any]:
        if self._disk is None:
            try:
                with self.file.open("rb") as handle:
                    loaded = pickle.load(handle)
                self._disk = loaded if isinstance(loaded, dict) else {}
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
                self._disk = {}
        return self._disk


_RESOLVED: dict[str, Any] = {}
_KEEP_RESOLVED = 8


class ResolvedCache(Generic[T]):
    """One extractor's resolved result, keyed by the exact set of (path, blob id) it saw.

    Resolution is a function of the files' facts (see base.py), so an unchanged set of files
    (the base revision of ``--base``, or a second run) needs no resolution at all. ``kind`` is
    the type of the result (an endpoint ``Inventory``, or another analysis's result).
    """

    def __init__(
        self, directory: Path, name: str, version: int, kind: type[T], family: str
    ) -> None:
        self.directory, self.prefix = directory, f"{family}-{name}-v{version}-f{_FORMAT}-"
        self.kind = kind

    def key(self, files: list[tuple[str, str]]) -> str:
        digest = hashlib.sha1(self.prefix.encode())
        for path, blob in sorted(files):
            digest.update(f"{path}\0{blob}\n".encode("utf-8", "surrogateescape"))
        return digest.hexdigest()

    def get(self, key: str) -> T | None:
        found = _RESOLVED.get(self.prefix + key)
        if isinstance(found, self.kind):
            return found
        try:
            with (self.directory / f"{self.prefix}{key}.pickle").open("rb") as handle:
                loaded = pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
            return None
        if isinstance(loaded, self.kind):
            _RESOLVED[self.prefix + key] = loaded
            return loaded
        return None

    def put(self, key: str, inventory: T) -> None:
        _RESOLVED[self.prefix + key] = inventory
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(fd, "wb") as out:
                pickle.dump(inventory, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.directory / f"{self.prefix}{key}.pickle")
            older = sorted(
                self.directory.glob(f"{self.prefix}*.pickle"), key=lambda p: p.stat().st_mtime
            )
            for stale in older[:-_KEEP_RESOLVED]:
                stale.unlink(missing_ok=True)
        except OSError:
            return
