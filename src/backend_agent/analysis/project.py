"""A repository as the evidence engine sees it: its files, at the working tree or a git revision."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from backend_agent.analysis.git import git_bytes, is_ignored, require_commit, work_tree_of
from backend_agent.errors import UserError

__all__ = ["SKIPPED_DIRS", "Note", "Project", "blob_id", "is_skipped"]

# Directories never worth analysing, even outside git (dependencies, builds, caches).
SKIPPED_DIRS = frozenset(
    {
        ".git", "node_modules", "vendor", "dist", "build", ".venv", "venv", "__pycache__",
        ".tox", ".mypy_cache", ".pytest_cache", ".next", ".nuxt", "coverage", "target",
        ".bundle", "tmp", ".idea", ".vscode",
    }
)  # fmt: skip


def blob_id(data: bytes) -> str:
    """Git's blob id for content: equal ids mean equal files, at any revision."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass(frozen=True)
class Note:
    """Something the analysis could not read, at a file and line (0: the file as a whole;
    no file: several files, named in the message)."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}" if where else self.message


@dataclass
class Project:
    """The files of a repository at its working tree (``rev=None``) or at a git revision.

    Paths are relative to ``root`` with posix separators. Contents are read lazily and
    cached; ``blob(path)`` identifies content so that analyses can be cached per file.
    A directory that an enclosing git repository ignores is its own root, read from disk.
    Files that are binary or not UTF-8 read as empty text, and are listed in ``notes``.
    """

    root: Path
    rev: str | None = None
    _files: list[str] | None = field(default=None, repr=False)
    _blobs: dict[str, str] = field(default_factory=dict, repr=False)
    _data: dict[str, bytes] = field(default_factory=dict, repr=False)
    _git: bool | None = field(default=None, repr=False)
    _not_text: set[str] = field(default_factory=set, repr=False)
    _problems: dict[tuple[str, int, str], None] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        if not self.root.is_dir():
            raise UserError(f"{self.root} is not a directory")
        if self.rev is not None and not self.is_git:
            raise UserError(f"--base needs a git repository, and {self.root} is not one")

    @property
    def is_git(self) -> bool:
        """Whether git lists the files: inside a work tree that does not ignore the root."""
        if self._git is None and (self.root / ".git").exists():
            self._git = True
        if self._git is None:
            top = work_tree_of(self.root)
            self._git = top is not None and not is_ignored(top, self.root)
        return self._git

    def at(self, rev: str) -> Project:
        """The same repository at another revision."""
        require_commit(self.root, rev)
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
                data = git_bytes(self.root, "show", f"{self.rev}:./{path}")
            self._data[path] = data
        return data

    def read_text(self, path: str) -> str:
        """The file as UTF-8 text; "" for a binary or non-UTF-8 file (remembered in notes)."""
        data = self.read_bytes(path)
        if b"\0" not in data:
            try:
                return data.decode("utf-8").removeprefix("\ufeff")
            except UnicodeDecodeError:
                pass
        self._not_text.add(path)
        return ""

    def is_text(self, path: str) -> bool:
        """Whether ``read_text`` gives the file's content (it is UTF-8 text)."""
        self.read_text(path)
        return path not in self._not_text

    def note(self, file: str, line: int, message: str) -> None:
        """Record an input the analysis could not read (a config file with a syntax error)."""
        self._problems.setdefault((file, line, message))

    @property
    def notes(self) -> list[Note]:
        """What could not be read: each config error, then one note for skipped files."""
        found = [Note(*key) for key in self._problems]
        if self._not_text:
            skipped = sorted(self._not_text)
            shown = ", ".join(skipped[:5]) + (
                f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
            )
            noun = "file" if len(skipped) == 1 else "files"
            found.append(Note("", 0, f"skipped {len(skipped)} binary or non-UTF-8 {noun}: {shown}"))
        return found

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
            out = git_bytes(self.root, "ls-tree", "-r", "-z", self.rev)
            paths = []
            for entry in out.split(b"\0"):
                if not entry:
                    continue
                meta, _, name = entry.partition(b"\t")
                _mode, kind, sha = meta.split()
                path = name.decode("utf-8", "surrogateescape")
                if kind == b"blob" and not is_skipped(path):
                    self._blobs[path] = sha.decode()
                    paths.append(path)
            return paths
        if self.is_git:
            return [p for p in self._git_working_files() if not is_skipped(p)]
        return list(_walk(self.root))

    def _git_working_files(self) -> list[str]:
        """Tracked and untracked-not-ignored files. Blob ids of tracked files unchanged since
        the index come from git, so a run after a small change reads and hashes only the
        changed files, and only those need a check that they still exist."""
        staged = git_bytes(self.root, "ls-files", "-z", "--stage")
        others = git_bytes(self.root, "ls-files", "-z", "--others", "--exclude-standard")
        changed = git_bytes(self.root, "diff", "--name-only", "--relative", "-z")
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


def is_skipped(path: str) -> bool:
    """Whether a path lies in a directory never worth analysing (dependencies, builds)."""
    return any(part in SKIPPED_DIRS for part in path.split("/")[:-1])


def _walk(root: Path) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS]
        rel = Path(dirpath).relative_to(root).as_posix()
        for name in filenames:
            found.append(name if rel == "." else f"{rel}/{name}")
    return found
