"""git, run in a repository: the command, and what the evidence engine reads from its output
(commits, changed files with their line counts, and the line ranges a change touches)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from backend_agent.errors import UserError

FileStatus = Literal["added", "modified", "deleted", "renamed"]
ChangedLines = dict[str, list[range]]  # path -> the line ranges a change adds or rewrites

_STATUS: dict[str, FileStatus] = {"A": "added", "M": "modified", "D": "deleted", "R": "renamed"}
_HUNK = re.compile(r"@@ -\S+ \+(\d+)(?:,(\d+))?")


def git(root: Path, *args: str) -> str:
    """Run git in ``root`` and return stdout; raises UserError with git's message on failure."""
    return git_bytes(root, *args).decode("utf-8", "surrogateescape")


def git_bytes(root: Path, *args: str) -> bytes:
    """Run git in ``root`` and return its raw stdout (paths may not be UTF-8)."""
    proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip() or str(proc.returncode)
        raise UserError(f"git {' '.join(args)} failed: {message}")
    return proc.stdout


def work_tree_of(directory: Path) -> Path | None:
    """The top of the git work tree ``directory`` is in, or None outside git."""
    proc = subprocess.run(
        ["git", "-C", str(directory), "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
        check=False,
    )
    return Path(proc.stdout.strip()) if proc.returncode == 0 and proc.stdout.strip() else None


def resolves_to_commit(root: Path, rev: str) -> bool:
    """Whether ``rev`` names a commit of the repository at ``root``."""
    proc = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0


def require_commit(root: Path, rev: str) -> None:
    """UserError saying what to do when ``rev`` is not a commit of ``root``'s repository."""
    if resolves_to_commit(root, rev):
        return
    if work_tree_of(root) is None:
        raise UserError(
            f"{root} is not in a git repository, so it has no revision {rev!r} to compare "
            "with: run git init and commit, or leave the revision out"
        )
    raise UserError(
        f"unknown git revision {rev!r} in {root}: name a branch, tag or commit "
        "(git log --oneline lists them)"
    )


def is_ignored(top: Path, directory: Path) -> bool:
    """Whether the repository at ``top`` ignores ``directory`` (or a folder enclosing it) and
    tracks nothing in it: git then lists none of its files."""
    relative = directory.resolve().relative_to(top.resolve()).as_posix()
    if relative == ".":
        return False
    proc = subprocess.run(
        ["git", "-C", str(top), "check-ignore", "-q", relative + "/"],
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0


@dataclass(frozen=True)
class Commit:
    sha: str
    subject: str
    author: str


@dataclass(frozen=True)
class ChangedFile:
    """One file a change touches, as git reports it; ``line`` is its first changed line."""

    path: str
    status: FileStatus
    insertions: int
    deletions: int
    line: int = 1
    old_path: str | None = None


def head_commit(root: Path) -> str | None:
    """HEAD's abbreviated sha, or None in a repository with no commit yet."""
    try:
        return git(root, "rev-parse", "--short", "HEAD").strip()
    except UserError:
        return None


def has_uncommitted(root: Path) -> bool:
    """Whether the working tree under ``root`` differs from HEAD (untracked files count)."""
    return bool(git(root, "status", "--porcelain", "--", ".").strip())


def short_commit(root: Path, rev: str) -> str:
    return git(root, "rev-parse", "--short", f"{rev}^{{commit}}").strip()


def commits_since(root: Path, base: str) -> list[Commit]:
    """The commits in ``base..HEAD`` that touch ``root``, newest first."""
    log = git(root, "log", "--format=%h%x1f%s%x1f%an%x1e", f"{base}..HEAD", "--", ".")
    return [Commit(*entry.strip().split("\x1f", 2)) for entry in log.split("\x1e") if entry.strip()]


def changed_lines(root: Path, base: str) -> ChangedLines:
    """The line ranges of the working tree that differ from ``base`` (paths relative to root)."""
    diff = git(root, "-c", "core.quotePath=false", "diff", "--relative", "-M", "-U0", base)
    return parse_changed_lines(diff)


def parse_changed_lines(diff: str) -> ChangedLines:
    """The new-file line ranges of each hunk of a ``git diff -U0``."""
    ranges: ChangedLines = {}
    path = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else None
        elif line.startswith("@@") and path is not None:
            match = _HUNK.match(line)
            if match:
                start, count = int(match.group(1)), int(match.group(2) or 1)
                if count:
                    ranges.setdefault(path, []).append(range(start, start + count))
    return ranges


def changed_files(root: Path, base: str, lines: ChangedLines) -> list[ChangedFile]:
    """Files differing between ``base`` and the working tree, untracked files included."""
    statuses = git(root, "diff", "--relative", "-M", "--name-status", "-z", base).split("\0")
    numstat = parse_numstat(git(root, "diff", "--relative", "-M", "--numstat", "-z", base))
    changes: list[ChangedFile] = []
    tokens = iter(t for t in statuses if t)
    for code in tokens:
        kind = _STATUS.get(code[0], "modified")
        old_path = next(tokens) if code[0] in "RC" else None
        path = next(tokens) if old_path is not None else next(tokens, "")
        added, deleted = numstat.get(path, (0, 0))
        ranges = lines.get(path)
        first = ranges[0].start if ranges else 1
        changes.append(ChangedFile(path, kind, added, deleted, first, old_path))
    untracked = git(root, "ls-files", "--others", "--exclude-standard", "-z").split("\0")
    for path in filter(None, untracked):
        file = root / path
        count = file.read_bytes().count(b"\n") if file.is_file() else 0
        changes.append(ChangedFile(path, "added", count, 0))
    return sorted(changes, key=lambda c: c.path)


def parse_numstat(output: str) -> dict[str, tuple[int, int]]:
    """``git diff --numstat -z``: path -> (insertions, deletions); binary files count 0."""
    counts: dict[str, tuple[int, int]] = {}
    tokens = iter(output.split("\0"))
    for token in tokens:
        if not token:
            continue
        added, deleted, path = token.split("\t", 2)
        if not path:  # a rename: old and new path follow as their own tokens
            next(tokens)
            path = next(tokens)
        counts[path] = (
            int(added) if added.isdigit() else 0,
            int(deleted) if deleted.isdigit() else 0,
        )
    return counts
