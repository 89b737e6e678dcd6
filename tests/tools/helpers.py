"""Process checks shared by the tool tests."""

from __future__ import annotations

import time
from pathlib import Path


def is_dead(pid: int) -> bool:
    """Gone, or a zombie nobody has reaped yet (it runs no more code either way)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def wait_dead(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if is_dead(pid):
            return True
        time.sleep(0.05)
    return False


def read_pid(path: Path, seconds: float = 5.0) -> int:
    """The pid a test command wrote to ``path`` (waiting for it to appear)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return int(path.read_text())
        time.sleep(0.02)
    raise AssertionError(f"{path} was never written")
