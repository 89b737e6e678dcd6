"""A repository as the evidence engine sees it: its files, at the working tree or a git revision."""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from backend_agent.errors import UserError

# Directories never worth analysing, even outside git (dependencies, builds, caches).
SKIPPED_DIRS = frozenset(
    {
        ".git", "node_modules", "vendor", "dist", "build", ".venv", "venv", "__pycache__",
        ".tox", ".mypy_cache", ".pytest_cache", ".next", ".nuxt", "coverage", "target",
        ".bundle", "tmp", ".idea", ".vscode",
    }
)  # fmt: skip


def git(root: Path, *args: str) -> str:
    """Run git in ``root`` and return stdout; raises UserError with git's message on failure."""
    proc = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise UserError(f"git {' '.join(args)} failed: {proc.stderr.strip() or proc.returncode}")
    return proc.stdout


def blob_id(data: bytes) -> str:
    """Git's blob id for content: equal ids mean equal files, at any revision."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Project:
    """The files of a repository at its working tree (``rev=None``) or at a git revision.

    Paths are relative to ``root`` with posix separators. Contents are read lazily and
    cached; ``blob(path)`` identifies content so that analyses can be cached per file.
    """

    root: Path
    rev: str | None = None
    _files: list[str] | None = field(default=None, repr=False)
    _blobs: dict[str, str] = field(default_factory=dict, repr=False)
    _data: dict[str, bytes] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        if not self.root.is_dir():
            raise UserError(f"{self.root} is not a directory")
        if self.rev is not None and not self.is_git:
            raise UserError(f"--base needs a git repository, and {self.root} is not one")

    @property
    def is_git(self) -> bool:
        return (self.root / ".git").exists() or _inside_git(self.root)

    def at(self, rev: str) -> Project:
        """The same repository at another revision."""
        git(self.root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        return Project(self.root, rev)

    def files(self) -> list[str]:
        """Every analysable file, sorted; respects .gitignore in git repositories."""
        if self._files is None:
            self._files = sorted(self._list_files())
        return self._files

    def read_bytes(self, path: str) -> bytes:
        data = self._data.get(path)
        if data is None:
            if self.rev is None:
                data = (self.root / path).read_bytes()
            else:
                data = _git_bytes(self.root, "show", f"{self.rev}:./{path}")
            self._data[path] = data
        return data

    def read_text(self, path: str) -> str:
        return self.read_bytes(path).decode("utf-8", errors="replace")

    def blob(self, path: str) -> str:
        """The content id of a file (git blob id), without reading it when git knows it."""
        known = self._blobs.get(path)
        if known is None:
            known = blob_id(self.read_bytes(path))
            self._blobs[path] = known
        return known

    def _list_files(self) -> list[str]:
        if self.rev is not None:
            # Without --full-tree, paths are relative to (and limited to) ``root``, as in the
            # working tree, also when ``root`` is a subdirectory of the repository.
            out = _git_bytes(self.root, "ls-tree", "-r", "-z", self.rev)
            paths = []
            for entry in out.split(b"\0"):
                if not entry:
                    continue
                meta, _, name = entry.partition(b"\t")
                _mode, kind, sha = meta.split()
                path = name.decode("utf-8", "surrogateescape")
                if kind == b"blob" and not _skipped(path):
                    self._blobs[path] = sha.decode()
                    paths.append(path)
            return paths
        if self.is_git:
            return [p for p in self._git_working_files() if not _skipped(p)]
        return list(_walk(self.root))

    def _git_working_files(self) -> list[str]:
        """Tracked and untracked-not-ignored files. Blob ids of tracked files unchanged since
        the index come from git, so a run after a small change reads and hashes only the
        changed files, and only those need a check that they still exist."""
        staged = _git_bytes(self.root, "ls-files", "-z", "--stage")
        others = _git_bytes(self.root, "ls-files", "-z", "--others", "--exclude-standard")
        changed = _git_bytes(self.root, "diff", "--name-only", "--relative", "-z")
        modified = {p.decode("utf-8", "surrogateescape") for p in changed.split(b"\0") if p}
        files = {p.decode("utf-8", "surrogateescape") for p in others.split(b"\0") if p}
        for entry in staged.split(b"\0"):
            meta, _, name = entry.partition(b"\t")
            fields = meta.split()
            if len(fields) != 3 or fields[0] == b"160000":  # 160000: a submodule, not a file
                continue
            path = name.decode("utf-8", "surrogateescape")
            regular = fields[0] in (b"100644", b"100755") and fields[2] == b"0"
            if regular and path not in modified:
                self._blobs[path] = fields[1].decode()
                files.add(path)
            elif (self.root / path).is_file():
                files.add(path)
        return list(files)


def _skipped(path: str) -> bool:
    return any(part in SKIPPED_DIRS for part in path.split("/")[:-1])


def _walk(root: Path) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS]
        rel = Path(dirpath).relative_to(root).as_posix()
        for name in filenames:
            found.append(name if rel == "." else f"{rel}/{name}")
    return found


def _inside_git(root: Path) -> bool:
    proc = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.returncode == 0 and proc.stdout.strip() == "true"


def _git_bytes(root: Path, *args: str) -> bytes:
    proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip()
        raise UserError(f"git {' '.join(args)} failed: {message}")
    return proc.stdout
