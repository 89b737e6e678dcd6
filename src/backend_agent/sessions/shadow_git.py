"""A shadow git repository: git's index and objects kept in a store directory, recording a tree
that belongs to someone else (the user's own .git, index and objects are never written).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from backend_agent.errors import UserError

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
EMPTY_BLOB = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
NO_OBJECT = "0" * 40
GITLINK_MODE = "160000"
SYMLINK_MODE = "120000"
EXECUTABLE_MODE = "100755"

# Local settings beat the user's global ones: record bytes exactly as they are on disk, never
# run fsmonitor hooks, and keep every object (nothing else references the snapshots' trees).
_CONFIG = """\
[core]
\trepositoryformatversion = 0
\tbare = false
\tfilemode = true
\tsymlinks = true
\tignorecase = false
\tautocrlf = false
\tsafecrlf = false
\tfsmonitor = false
\tuntrackedCache = true
\tpreloadIndex = true
\tcompression = 1
\tlooseCompression = 1
[index]
\tversion = 4
[gc]
\tauto = 0
[advice]
\taddEmbeddedRepo = true
"""
# info/attributes outranks every .gitattributes: no line-ending, filter or encoding conversion.
_ATTRIBUTES = "* -text -eol -filter -ident -working-tree-encoding\n"


class CheckpointError(UserError):
    """Checkpoints could not be taken or restored; the message names the path or the cause."""


def shown(path: str) -> str:
    """A path as it can be printed: undecodable bytes appear as \\x escapes."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def decode(raw: bytes) -> str:
    return os.fsdecode(raw)


@dataclass(frozen=True)
class TreeChange:
    """One path that differs between two trees, with its mode and object on each side."""

    path: str
    old_mode: str
    new_mode: str
    old_object: str
    new_object: str

    @property
    def added_or_modified(self) -> bool:
        return self.new_object != NO_OBJECT


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    object: str


class ShadowGit:
    """Runs git with its repository in ``git_dir`` and its work tree at ``work_tree``."""

    def __init__(self, git_dir: Path, work_tree: Path) -> None:
        git = shutil.which("git")
        if git is None:
            raise CheckpointError("Checkpoints need git, which is not on PATH: install git.")
        self.git = git
        self.git_dir = git_dir
        self.work_tree = work_tree
        self.index = git_dir / "index"
        env = {name: value for name, value in os.environ.items() if not name.startswith("GIT_")}
        env.update(
            GIT_DIR=str(git_dir),
            GIT_WORK_TREE=str(work_tree),
            GIT_INDEX_FILE=str(self.index),
            GIT_LITERAL_PATHSPECS="1",
            LC_ALL="C",
        )
        self._env = env

    def initialise(self) -> None:
        """Create the repository on first use (idempotent)."""
        if (self.git_dir / "HEAD").exists():
            return
        self.git_dir.mkdir(parents=True, exist_ok=True)
        init_env = {k: v for k, v in self._env.items() if k not in ("GIT_DIR", "GIT_WORK_TREE")}
        done = subprocess.run(
            [self.git, "init", "--bare", "--quiet", "--template=", str(self.git_dir)],
            capture_output=True,
            env=init_env,
            check=False,
        )
        if done.returncode != 0:
            raise CheckpointError(
                f"Checkpoints: could not create {self.git_dir}: {_first_error(done.stderr)}"
            )
        (self.git_dir / "config").write_text(_CONFIG)
        (self.git_dir / "info").mkdir(exist_ok=True)
        (self.git_dir / "info" / "attributes").write_text(_ATTRIBUTES)
        self.run("hash-object", "-w", "--stdin", input=b"")  # the placeholder blob
        self.run("mktree", input=b"")  # the empty tree, for diffs against "nothing"

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        ok: Sequence[int] = (0,),
        literal: bool = True,
        settings: Sequence[str] = (),
    ) -> subprocess.CompletedProcess[bytes]:
        """Run one git command; an exit code outside ``ok`` is a CheckpointError.

        Paths are literal (no globs) unless ``literal`` is False, for commands that refuse
        the setting though they take paths literally anyway (check-ignore). ``settings``
        are ``name=value`` configuration for this command only.
        """
        try:
            done = subprocess.run(
                [self.git, *(part for setting in settings for part in ("-c", setting)), *args],
                input=input,
                capture_output=True,
                env=self._env if literal else {**self._env, "GIT_LITERAL_PATHSPECS": "0"},
                cwd=self.work_tree,
                check=False,
            )
        except OSError as exc:
            raise CheckpointError(f"Checkpoints: could not run git: {exc}") from None
        if done.returncode not in ok:
            problem = _first_error(done.stderr)
            raise CheckpointError(f"Checkpoints: git {args[0]} failed: {problem}")
        return done

    def write_tree(self, prefix: str) -> str:
        """The tree of the index (of the ``prefix`` directory when given)."""
        args = ["write-tree", f"--prefix={prefix}/"] if prefix else ["write-tree"]
        done = self.run(*args, ok=(0, 128))
        if done.returncode == 128:
            if b"not found" in done.stderr:  # nothing is recorded under the prefix
                return EMPTY_TREE
            raise CheckpointError(
                f"Checkpoints: git write-tree failed: {_first_error(done.stderr)}"
            )
        return done.stdout.decode().strip()

    def diff(self, old: str, new: str) -> list[TreeChange]:
        """Every path whose mode or content differs between two trees."""
        if old == new:
            return []
        out = self.run("diff-tree", "-r", "-z", "--raw", "--no-renames", old, new).stdout
        fields = out.split(b"\0")
        changes = []
        for header, path in zip(fields[0:-1:2], fields[1::2], strict=True):
            old_mode, new_mode, old_object, new_object, _status = header[1:].decode().split(" ")
            changes.append(TreeChange(decode(path), old_mode, new_mode, old_object, new_object))
        return changes

    def entries(self, tree: str) -> dict[str, TreeEntry]:
        """Every file and symlink in a tree, by path."""
        out = self.run("ls-tree", "-r", "-z", "--full-tree", tree).stdout
        entries = {}
        for record in out.split(b"\0")[:-1]:
            info, path = record.split(b"\t", 1)
            mode, _kind, obj = info.decode().split(" ")
            entries[decode(path)] = TreeEntry(mode, obj)
        return entries

    def verify_tree(self, tree: str) -> None:
        done = self.run("cat-file", "-e", f"{tree}^{{tree}}", ok=(0, 1, 128))
        if done.returncode != 0 or len(tree) != 40:
            raise CheckpointError(f"Unknown checkpoint {tree!r}: it is not in {self.git_dir}.")

    def remove_from_index(self, paths: Iterable[str]) -> None:
        data = b"".join(os.fsencode(path) + b"\0" for path in paths)
        if data:
            self.run("update-index", "-z", "--force-remove", "--stdin", input=data)

    def add_placeholders(self, directories: Iterable[str]) -> None:
        """Index an empty file inside each directory, so git walks into it as a plain folder."""
        records = b"".join(
            f"100644 {EMPTY_BLOB}\t".encode() + os.fsencode(directory) + b"/.placeholder\0"
            for directory in directories
        )
        self.run("update-index", "-z", "--add", "--index-info", input=records)

    def open_blobs(self) -> BlobReader:
        return BlobReader(self)


class BlobReader:
    """Reads blobs through one ``git cat-file --batch`` process."""

    CHUNK = 1 << 20

    def __init__(self, git: ShadowGit) -> None:
        self._process = subprocess.Popen(
            [git.git, "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=git._env,
            cwd=git.work_tree,
        )

    def copy(self, obj: str, out: IO[bytes] | None) -> bytes:
        """Write blob ``obj`` to ``out``; without ``out``, return its content."""
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(obj.encode() + b"\n")
        self._process.stdin.flush()
        header = self._process.stdout.readline().split()
        if len(header) != 3 or header[1] != b"blob":
            raise CheckpointError(f"Checkpoints: object {obj} is missing from the store.")
        remaining = int(header[2])
        kept = bytearray()
        while remaining:
            chunk = self._process.stdout.read(min(remaining, self.CHUNK))
            if not chunk:
                raise CheckpointError(f"Checkpoints: object {obj} could not be read.")
            remaining -= len(chunk)
            if out is None:
                kept += chunk
            else:
                out.write(chunk)
        self._process.stdout.read(1)  # the newline after each object
        return bytes(kept)

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _first_error(stderr: bytes) -> str:
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return (fatal or lines or ["no message"])[0]
