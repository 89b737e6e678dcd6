"""Writing recorded files back into a work tree: removals first, then files and symlinks,
never following a symlinked directory out of the tree and never deleting a directory's content.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from backend_agent.sessions.shadow_git import (
    EXECUTABLE_MODE,
    GITLINK_MODE,
    SYMLINK_MODE,
    BlobReader,
    CheckpointError,
    TreeEntry,
    shown,
)


def restore_files(
    worktree: Path, paths: Sequence[str], entries: Mapping[str, TreeEntry], blobs: BlobReader
) -> None:
    """Make each of ``paths`` what ``entries`` records for it (absent from ``entries``: removed)."""
    removals = sorted((p for p in paths if p not in entries), key=lambda p: -p.count("/"))
    for path in removals:
        with _naming(path):
            _remove(worktree, path)
    for path in removals:
        _prune_empty_parents(worktree, path)
    for path in sorted(p for p in paths if p in entries):
        with _naming(path):
            _write(worktree, path, entries[path], blobs)


@contextlib.contextmanager
def _naming(path: str) -> Iterator[None]:
    """A filesystem error becomes one line naming the file."""
    try:
        yield
    except OSError as exc:
        raise CheckpointError(f"Could not restore {shown(path)}: {exc.strerror or exc}.") from None


def _remove(worktree: Path, path: str) -> None:
    if blocking_parent(worktree, path, create=False) is not None:
        return  # not inside the real tree (e.g. under a symlinked directory): nothing to remove
    target = worktree / path
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        _remove_empty_directory(target, path)
    else:
        os.unlink(target)


def _remove_empty_directory(target: Path, path: str) -> None:
    try:
        os.rmdir(target)
    except OSError:
        raise CheckpointError(
            f"Could not restore {shown(path)}: it is now a directory that is not empty; "
            "move it away and rewind again."
        ) from None


def _prune_empty_parents(worktree: Path, path: str) -> None:
    """Remove directories left empty by removals (as git does), up to the work tree."""
    parent = (worktree / path).parent
    while parent != worktree and worktree in parent.parents:
        try:
            os.rmdir(parent)
        except OSError:
            return
        parent = parent.parent


def _write(worktree: Path, path: str, entry: TreeEntry, blobs: BlobReader) -> None:
    if entry.mode == GITLINK_MODE:
        return  # a nested repository recorded as a link: its files were not recorded
    blocker = blocking_parent(worktree, path, create=True)
    if blocker is not None:
        raise CheckpointError(
            f"Could not restore {shown(path)}: {shown(blocker)} is not a directory; "
            "move it away and rewind again."
        )
    target = worktree / path
    try:
        current: os.stat_result | None = os.lstat(target)
    except FileNotFoundError:
        current = None
    if current is not None and stat.S_ISDIR(current.st_mode):
        _remove_empty_directory(target, path)
        current = None
    temporary = target.with_name(f".{secrets.token_hex(6)}.rewind")
    if entry.mode == SYMLINK_MODE:
        os.symlink(blobs.copy(entry.object, None), temporary)
    else:
        _write_file(temporary, entry, current, blobs)
    try:
        os.replace(temporary, target)
    except OSError:
        os.unlink(temporary)
        raise


def _write_file(
    temporary: Path, entry: TreeEntry, current: os.stat_result | None, blobs: BlobReader
) -> None:
    """The recorded content in a new file; permissions as the file has them now (new files:
    the umask's), with the executable bits as recorded."""
    executable = entry.mode == EXECUTABLE_MODE
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    descriptor = os.open(temporary, flags, 0o777 if executable else 0o666)
    with open(descriptor, "wb") as out:
        if current is not None and stat.S_ISREG(current.st_mode):
            bits = stat.S_IMODE(current.st_mode)
            bits = bits | (bits & 0o444) >> 2 if executable else bits & ~0o111
            os.fchmod(out.fileno(), bits)
        try:
            blobs.copy(entry.object, out)
        except BaseException:
            os.unlink(temporary)
            raise


def blocking_parent(worktree: Path, path: str, *, create: bool) -> str | None:
    """The first parent of ``path`` that is not a real directory (a symlink, a file, or
    missing when not ``create``); missing parents are made when ``create``."""
    parts = path.split("/")[:-1]
    current = worktree
    for depth, part in enumerate(parts):
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            if not create:
                return "/".join(parts[: depth + 1])
            os.mkdir(current)
            continue
        if not stat.S_ISDIR(mode):
            return "/".join(parts[: depth + 1])
    return None
