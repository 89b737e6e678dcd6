"""A change to a project: which files it touches, and the project before and after it.

"Before" is either a git revision (``since_revision``) or the work tree as a session found it
(``since_snapshot``: the changed files' earlier contents over today's tree). Either way the
engine reads both sides through ``Project``, so its per-blob caches serve unchanged files.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from backend_agent.analysis.git import resolves_to_commit
from backend_agent.analysis.project import Project, blob_id, is_skipped
from backend_agent.errors import UserError

FileStatus = Literal["added", "modified", "deleted"]
ReadBefore = Callable[[list[str]], Mapping[str, bytes | None]]


class EarlierProject(Project):
    """A project as it was before a change: today's files, with the changed ones as they were
    (``earlier[path]`` is None for a file the change added)."""

    def __init__(self, now: Project, earlier: Mapping[str, bytes | None]) -> None:
        super().__init__(now.root)
        self._now = now
        self._earlier = dict(earlier)

    def files(self) -> list[str]:
        present = set(self._now.files())
        for path, data in self._earlier.items():
            if data is None:
                present.discard(path)
            elif not is_skipped(path):
                present.add(path)
        return sorted(present)

    def read_bytes(self, path: str) -> bytes:
        if path in self._earlier:
            data = self._earlier[path]
            if data is None:
                raise FileNotFoundError(path)
            return data
        return self._now.read_bytes(path)

    def blob(self, path: str) -> str:
        data = self._earlier.get(path)
        return blob_id(data) if data is not None else self._now.blob(path)


@dataclass
class Change:
    """The files a change touches, each added, modified or deleted, and both sides of it.

    ``base`` says what "before" is, for people: "the session's start", "HEAD", a revision.
    """

    after: Project
    before: Project
    statuses: dict[str, FileStatus]
    base: str

    @property
    def paths(self) -> list[str]:
        """Every changed file, sorted."""
        return sorted(self.statuses)

    @property
    def present(self) -> list[str]:
        """The changed files that exist after the change, sorted."""
        return [path for path in self.paths if self.statuses[path] != "deleted"]

    def text(self, side: Project, path: str) -> str:
        """A changed file's text on one side ('' where it does not exist)."""
        status = self.statuses.get(path)
        gone = (status == "added" and side is self.before) or (
            status == "deleted" and side is self.after
        )
        return "" if gone else side.read_text(path)


def _statuses(paths: Iterable[str], before: set[str], after: set[str]) -> dict[str, FileStatus]:
    statuses: dict[str, FileStatus] = {}
    for path in paths:
        if is_skipped(path) or (path not in before and path not in after):
            continue
        if path not in before:
            statuses[path] = "added"
        elif path not in after:
            statuses[path] = "deleted"
        else:
            statuses[path] = "modified"
    return statuses


def since_snapshot(root: Path, paths: Iterable[str], read_before: ReadBefore, base: str) -> Change:
    """The change from a recorded state: ``paths`` changed since, ``read_before`` gives their
    contents then (None: the file did not exist)."""
    after = Project(root)
    earlier = read_before(sorted(p for p in set(paths) if not is_skipped(p)))
    before = EarlierProject(after, earlier)
    statuses = _statuses(earlier, set(before.files()), set(after.files()))
    return Change(after, before, statuses, base)


def since_revision(root: Path, revision: str) -> Change:
    """The change from a git revision to the work tree, uncommitted and untracked (not
    ignored) files included. In a repository without commits, every file is new."""
    after = Project(root)
    if not after.is_git:
        raise UserError(f"{root} is not a git repository: there is no revision to compare with")
    if not resolves_to_commit(root, revision):
        if revision != "HEAD":
            raise UserError(f"unknown revision {revision!r} in {root}")
        added: dict[str, bytes | None] = {path: None for path in after.files()}
        statuses = _statuses(added, set(), set(added))
        return Change(after, EarlierProject(after, added), statuses, "an empty repository")
    before = after.at(revision)
    diff = _git(root, "diff", "--name-only", "--no-renames", "--relative", "-z", revision)
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z")
    names = {name for name in (diff + untracked).split("\0") if name}
    statuses = _statuses(names, set(before.files()), set(after.files()))
    return Change(after, before, statuses, revision)


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, check=False, text=True
    )
    if done.returncode != 0:
        raise UserError(f"git {args[0]} failed in {root}: {done.stderr.strip()}")
    return done.stdout
