"""A write killed midway leaves a hidden temporary file, which the next start removes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend_agent.tools import ToolSession, pending, textfile
from backend_agent.tools.pending import SUFFIX, notes_dir, remove_stale

KILLED_WRITE = """
import os, signal, sys
from pathlib import Path
from backend_agent.tools import textfile

def killed(*args):
    os.kill(os.getpid(), signal.SIGKILL)  # between writing the data and renaming it

textfile.os.replace = killed
textfile.atomic_write(Path(sys.argv[1]), b"new content\\n")
"""


def kill_a_write(target: Path) -> None:
    done = subprocess.run([sys.executable, "-c", KILLED_WRITE, str(target)], timeout=60)
    assert done.returncode == -9


def leftovers(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.name.endswith(SUFFIX))


def test_the_next_start_removes_what_a_killed_write_left(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    target = project / "src" / "app.py"
    target.write_text("old content\n")

    kill_a_write(target)

    left = leftovers(project / "src")
    assert len(left) == 1 and left[0].name.startswith(".app.py.")
    assert left[0].read_text() == "new content\n" and target.read_text() == "old content\n"
    with ToolSession(project) as session:  # hidden: the search tools do not see it
        glob = session.call("Glob", {"pattern": "**/*"})
        assert glob.content.splitlines() == [str(target)]
    assert leftovers(project / "src") == []
    assert list(notes_dir().iterdir()) == []


def test_notes_of_running_processes_and_files_of_other_names_are_left_alone(
    tmp_path: Path,
) -> None:
    notes_dir().mkdir(parents=True, exist_ok=True)
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me\n")
    ours_running = tmp_path / f".a.txt.{os.getpid()}-abcd{SUFFIX}"
    ours_running.write_text("a write in progress")
    (notes_dir() / str(os.getpid())).write_bytes(os.fsencode(ours_running) + b"\n")
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = int(gone.stdout)
    (notes_dir() / str(dead)).write_bytes(os.fsencode(precious) + b"\n")

    assert remove_stale() == []

    assert precious.read_text() == "keep me\n" and ours_running.exists()
    assert not (notes_dir() / str(dead)).exists()


def test_writes_go_on_where_the_notes_cannot_be_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "home-is-a-file"
    blocked.write_text("")
    monkeypatch.setenv("BACKEND_AGENT_HOME", str(blocked))
    monkeypatch.setattr(pending, "_NOTES", pending._Notes())
    target = tmp_path / "out.txt"

    textfile.atomic_write(target, b"written\n")

    assert target.read_bytes() == b"written\n" and leftovers(tmp_path) == []
