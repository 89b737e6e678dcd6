"""Checkpoints of a work tree: the state of every file that is not ignored, recorded at each
prompt in a shadow git repository, so a rewind restores what edit tools and shell commands
changed alike.

Snapshot ids are the git ids of trees holding the work tree's files; the same state always
gets the same id. The user's own repository (its .git, index and objects) is only read.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import stat
import subprocess
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from backend_agent.sessions.restore import blocking_parent, restore_files
from backend_agent.sessions.shadow_git import (
    EMPTY_TREE,
    GITLINK_MODE,
    NO_OBJECT,
    SYMLINK_MODE,
    CheckpointError,
    ShadowGit,
    TreeChange,
    TreeEntry,
    decode,
    shown,
)

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "MAX_FILES",
    "CheckpointError",
    "CheckpointStore",
    "RestorePlan",
    "RewindConflict",
]

DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024  # larger files are left out, like ignored ones
MAX_FILES = 100_000  # past this many recorded files a checkpoint costs too much per prompt
_NESTED_ROUNDS = 8  # repositories nested in nested repositories, and so on
_REV_PARSE = ("git", "rev-parse", "--path-format=absolute")
_NO_COMMIT = re.compile(rb"^error: '(.*)/' does not have a commit checked out$", re.MULTILINE)


@dataclass
class RestorePlan:
    """What a rewind to ``target`` would do, worked out before anything is written."""

    target: str
    files: list[str]  # what the session changed between target and session_end
    conflicts: list[str]  # of those, files whose current content differs from session_end


class RewindConflict(CheckpointError):
    """Files to rewind were changed outside the session since it last recorded them."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        listed = ", ".join(shown(path) for path in paths[:5])
        if len(paths) > 5:
            listed += f" and {len(paths) - 5} more"
        files = "file was" if len(paths) == 1 else "files were"
        super().__init__(
            f"Not rewound: {len(paths)} {files} changed outside the session since its last "
            f"checkpoint: {listed}. Rewind with --force to overwrite them."
        )


class CheckpointStore:
    """Records and restores the non-ignored files of ``worktree``; git data lives in ``store_dir``.

    ``store_dir`` belongs to the store (one per work tree); deleting it deletes every
    checkpoint. Paths are relative to ``worktree``, with ``/`` separators. Files larger than
    ``max_file_bytes`` are not recorded, and a rewind leaves them alone.
    """

    def __init__(
        self, worktree: Path, store_dir: Path, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    ) -> None:
        self.worktree = Path(os.path.realpath(worktree))
        if not self.worktree.is_dir():
            raise CheckpointError(f"Checkpoints: {worktree} is not a directory.")
        self.store_dir = Path(os.path.abspath(store_dir))
        self.max_file_bytes = max_file_bytes
        self._thread_lock = threading.Lock()
        self._git: ShadowGit | None = None
        self._git_root = self.worktree  # the enclosing repository's top, or the work tree
        self._prefix = ""  # the work tree's path inside the enclosing repository, if any
        self._user_exclude: Path | None = None
        self._oversize: set[str] = set()
        self._checked_ignored = False

    # ------------------------------------------------------------------ the public API

    def snapshot(self) -> str:
        """Record every non-ignored file as it is now; returns the id of that state."""
        with self._locked() as git:
            return self._snapshot(git)

    def changed_files(self, start: str, end: str | None = None) -> list[str]:
        """The files that differ between two snapshots (``end`` None: the tree now)."""
        with self._locked() as git:
            if end is None:
                end = self._snapshot(git)
            return [change.path for change in self._session_changes(git, start, end)]

    def read_files(self, snapshot: str, paths: Iterable[str]) -> dict[str, bytes | None]:
        """The content of each of ``paths`` in a snapshot; None for a path it does not hold."""
        with self._locked() as git:
            entries = self._entries(git, snapshot)
            wanted = {path: entries.get(path) for path in paths}
            with git.open_blobs() as blobs:
                return {
                    path: None
                    if entry is None or entry.mode == GITLINK_MODE
                    else blobs.copy(entry.object, None)
                    for path, entry in wanted.items()
                }

    def plan_restore(self, target: str, session_end: str) -> RestorePlan:
        """What rewinding to ``target`` touches: the files changed between ``target`` and
        ``session_end``, and which of them were changed since by someone else."""
        with self._locked() as git:
            changes = self._session_changes(git, target, session_end)
            since = {change.path for change in self._diff(git, session_end, self._snapshot(git))}
            files = [change.path for change in changes]
            return RestorePlan(target, files, [path for path in files if path in since])

    def restore(self, plan: RestorePlan, *, force: bool = False) -> list[str]:
        """Put every file of ``plan`` back as it was at ``plan.target``; returns their paths.

        Conflicting files are overwritten only with ``force``; otherwise nothing is written
        and RewindConflict names them.
        """
        if plan.conflicts and not force:
            raise RewindConflict(plan.conflicts)
        with self._locked() as git:
            entries = self._entries(git, plan.target) if plan.files else {}
            with git.open_blobs() as blobs:
                restore_files(self.worktree, plan.files, entries, blobs)
        return list(plan.files)

    # ------------------------------------------------------------------ recording

    def _snapshot(self, git: ShadowGit) -> str:
        self._sync_excludes()
        # The first checkpoint stores every file: uncompressed, it is done 2-3 times sooner.
        settings: tuple[str, ...] = ()
        if not git.index.exists():
            self._first_scan(git)
            settings = ("core.looseCompression=0",)
        previous = self._last_snapshot()
        changes: list[TreeChange] = []
        tree = previous
        for _ in range(_NESTED_ROUNDS):
            added = git.run(
                "add", "--all", "--ignore-errors", *self._pathspec(), ok=(0, 1), settings=settings
            )
            nested = [decode(path) for path in _NO_COMMIT.findall(added.stderr)]
            tree = git.write_tree(self._prefix)
            changes = git.diff(previous, tree)
            nested += [self._in_root(c.path) for c in changes if c.new_mode == GITLINK_MODE]
            if not nested:
                break
            # A repository inside the tree: record its files rather than a link to its commit.
            git.remove_from_index(nested)
            git.add_placeholders(nested)
        dropped = self._newly_oversize(changes) + self._newly_ignored(git, changes)
        if dropped:
            git.remove_from_index(self._in_root(path) for path in dropped)
            tree = git.write_tree(self._prefix)
        (self.store_dir / "last-snapshot").write_text(tree)
        return tree

    def _first_scan(self, git: ShadowGit) -> None:
        """Before anything is hashed: refuse huge trees, and leave out files above the cap."""
        for _ in range(_NESTED_ROUNDS):
            listed = git.run(
                "ls-files", "-z", "--others", "--exclude-standard", *self._pathspec()
            ).stdout
            paths = [decode(raw) for raw in listed.split(b"\0")[:-1]]
            nested = [path[:-1] for path in paths if path.endswith("/")]
            if not nested:
                break
            git.add_placeholders(nested)
        files = [self._from_root(path) for path in paths if not path.endswith("/")]
        if len(files) > MAX_FILES:
            git.index.unlink(missing_ok=True)
            raise CheckpointError(
                f"Checkpoints are off: {shown(str(self.worktree))} holds {len(files):,} files "
                f"that are not ignored (the limit is {MAX_FILES:,}); list bulky directories "
                "in .gitignore."
            )
        big = {path for path in files if self._size(path) > self.max_file_bytes}
        if big:
            self._oversize |= big
            self._save_oversize()
            self._sync_excludes()

    def _newly_oversize(self, changes: list[TreeChange]) -> list[str]:
        big = [
            change.path
            for change in changes
            if change.added_or_modified
            and change.new_mode not in (GITLINK_MODE, SYMLINK_MODE)
            and self._size(change.path) > self.max_file_bytes
        ]
        if big:
            self._oversize.update(big)
            self._save_oversize()
            self._sync_excludes()
        return big

    def _newly_ignored(self, git: ShadowGit, changes: list[TreeChange]) -> list[str]:
        """Recorded files that ignore rules now cover (checked when a .gitignore changed)."""
        rules_changed = any(c.path.rsplit("/", 1)[-1] == ".gitignore" for c in changes)
        if self._checked_ignored and not rules_changed:
            return []
        self._checked_ignored = True
        listed = git.run(
            "ls-files", "-z", "--cached", "--ignored", "--exclude-standard", *self._pathspec()
        ).stdout
        return [self._from_root(decode(raw)) for raw in listed.split(b"\0")[:-1]]

    def _session_changes(self, git: ShadowGit, start: str, end: str) -> list[TreeChange]:
        """The changes between two snapshots, less files that left the later one without being
        deleted: they became ignored or too large, and a rewind leaves them alone."""
        changes = self._diff(git, start, end)
        candidates = [
            change.path
            for change in changes
            if change.new_object == NO_OBJECT and self._is_file_in_tree(change.path)
        ]
        if not candidates:
            return changes
        unrecorded = {path for path in candidates if self._size(path) > self.max_file_bytes}
        listed = b"".join(os.fsencode(self._in_root(path)) + b"\0" for path in candidates)
        ignored = git.run(
            "check-ignore", "--no-index", "-z", "--stdin", input=listed, ok=(0, 1), literal=False
        ).stdout
        unrecorded.update(self._from_root(decode(raw)) for raw in ignored.split(b"\0")[:-1])
        return [change for change in changes if change.path not in unrecorded]

    def _is_file_in_tree(self, path: str) -> bool:
        """Whether ``path`` exists, is not a directory, and is not under a symlink."""
        if blocking_parent(self.worktree, path, create=False) is not None:
            return False
        try:
            return not stat.S_ISDIR(os.lstat(self.worktree / path).st_mode)
        except FileNotFoundError:
            return False

    # ------------------------------------------------------------------ ignore rules and the cap

    def _sync_excludes(self) -> None:
        """info/exclude = the user's repository's info/exclude + the files above the cap
        (+ the store itself, when it lives inside the tree)."""
        still_big = {path for path in self._oversize if self._size(path) > self.max_file_bytes}
        if still_big != self._oversize:
            self._oversize = still_big
            self._save_oversize()
        content = b""
        if self._user_exclude is not None:
            with contextlib.suppress(OSError):
                content = self._user_exclude.read_bytes().rstrip(b"\n") + b"\n"
        content += b"".join(
            _literal_pattern(self._in_root(path)) for path in sorted(self._oversize)
        )
        if self.store_dir.is_relative_to(self._git_root):
            content += _literal_pattern(self.store_dir.relative_to(self._git_root).as_posix())
        exclude = self.store_dir / "info" / "exclude"
        try:
            current = exclude.read_bytes()
        except FileNotFoundError:
            current = b""
        if current != content:
            exclude.write_bytes(content)

    def _size(self, path: str) -> int:
        try:
            return os.lstat(self.worktree / path).st_size
        except OSError:
            return 0

    def _save_oversize(self) -> None:
        data = b"".join(os.fsencode(path) + b"\0" for path in sorted(self._oversize))
        (self.store_dir / "oversize").write_bytes(data)

    # ------------------------------------------------------------------ plumbing

    @contextlib.contextmanager
    def _locked(self) -> Iterator[ShadowGit]:
        """One operation at a time on the store, across threads and processes."""
        with self._thread_lock:
            self.store_dir.mkdir(parents=True, exist_ok=True)
            with open(self.store_dir / "lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    yield self._ready()
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)

    def _ready(self) -> ShadowGit:
        """Find the enclosing repository and open (or create) the shadow one, once."""
        if self._git is not None:
            return self._git
        root, self._user_exclude = _enclosing_repository(self.worktree)
        self._git_root = root
        self._prefix = self.worktree.relative_to(root).as_posix() if root != self.worktree else ""
        owner = self.store_dir / "worktree"
        if owner.exists() and os.fsdecode(owner.read_bytes()) != str(self.worktree):
            raise CheckpointError(
                f"Checkpoints: {self.store_dir} records {shown(os.fsdecode(owner.read_bytes()))}, "
                f"not {shown(str(self.worktree))}; give each work tree its own store."
            )
        git = ShadowGit(self.store_dir, root)
        git.initialise()
        owner.write_bytes(os.fsencode(str(self.worktree)))
        with contextlib.suppress(FileNotFoundError):
            raw = (self.store_dir / "oversize").read_bytes()
            self._oversize = {decode(path) for path in raw.split(b"\0")[:-1]}
        self._git = git
        return git

    def _last_snapshot(self) -> str:
        try:
            return (self.store_dir / "last-snapshot").read_text().strip() or EMPTY_TREE
        except FileNotFoundError:
            return EMPTY_TREE

    def _diff(self, git: ShadowGit, old: str, new: str) -> list[TreeChange]:
        for tree in (old, new):
            if not re.fullmatch(r"[0-9a-f]{40}", tree):
                raise CheckpointError(f"Unknown checkpoint {tree!r}: not a snapshot id.")
        try:
            return git.diff(old, new)
        except CheckpointError:
            git.verify_tree(old)
            git.verify_tree(new)
            raise

    def _entries(self, git: ShadowGit, tree: str) -> dict[str, TreeEntry]:
        try:
            return git.entries(tree)
        except CheckpointError:
            git.verify_tree(tree)
            raise

    def _pathspec(self) -> list[str]:
        return ["--", self._prefix] if self._prefix else []

    def _in_root(self, path: str) -> str:
        """A work-tree path as the shadow repository (rooted at the enclosing repo) names it."""
        return f"{self._prefix}/{path}" if self._prefix else path

    def _from_root(self, path: str) -> str:
        """A path git printed (from the top of the shadow work tree) made work-tree relative."""
        return path[len(self._prefix) + 1 :] if self._prefix else path


def _enclosing_repository(worktree: Path) -> tuple[Path, Path | None]:
    """The top of the git repository holding ``worktree`` (whose .gitignore files apply to it)
    and that repository's info/exclude; ``(worktree, None)`` outside any repository."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("GIT_")}
    try:
        done = subprocess.run(
            [*_REV_PARSE, "--show-toplevel", "--git-path", "info/exclude"],
            cwd=worktree,
            env={**env, "LC_ALL": "C"},
            capture_output=True,
            check=False,
        )
    except OSError:
        return worktree, None
    lines = done.stdout.split(b"\n")
    if done.returncode != 0 or len(lines) < 2:
        return worktree, None
    top = Path(os.path.realpath(decode(lines[0])))
    if not worktree.is_relative_to(top):
        return worktree, None
    return top, Path(decode(lines[1]))


def _literal_pattern(path: str) -> bytes:
    """An ignore pattern matching exactly ``path`` (from the top of the shadow work tree)."""
    escaped = b"".join(
        b"\\" + bytes([byte]) if byte in b"\\*?[] !#" else bytes([byte])
        for byte in os.fsencode(path)
    )
    return b"/" + escaped + b"\n"
