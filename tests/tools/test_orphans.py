"""Nothing a shell command starts outlives the session: daemons (setsid, nohup, double forks,
even with a cleared environment), interrupted commands' whole trees, and a killed agent."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from backend_agent.permissions.sandbox import (
    BubblewrapLauncher,
    LandlockLauncher,
    bwrap_candidates,
    landlock_problem,
    sandbox_problem,
)
from backend_agent.tools import ToolResult, ToolSession
from backend_agent.tools.base import CommandLauncher, PlainLauncher


def unique_seconds() -> str:
    """A sleep duration no other process on the machine has on its command line."""
    return f"1000.{uuid.uuid4().int % 10**9:09d}"


def running(marker: str) -> list[int]:
    """Live processes (zombies excluded) whose command line contains ``marker``, via /proc."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            command = Path(f"/proc/{name}/cmdline").read_bytes()
            state = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in command and state not in ("Z", "X"):
            found.append(int(name))
    return found


def eventually(condition: Callable[[], object], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def bash(session: ToolSession, command: str, **extra: object) -> ToolResult:
    return session.call("Bash", {"command": command, **extra})


def sandboxed(kind: str, directory: Path) -> CommandLauncher:
    if kind == "landlock":
        if (problem := landlock_problem()) is not None:
            pytest.skip(f"Landlock cannot run here: {problem}")
        return LandlockLauncher(writable=(directory,))
    bwraps = [bwrap for bwrap in bwrap_candidates() if sandbox_problem(bwrap) is None]
    if not bwraps:
        pytest.skip(f"bubblewrap cannot run here: {sandbox_problem(None)}")
    return BubblewrapLauncher(writable=(directory,), bwrap=bwraps[0])


@pytest.fixture(params=["sandbox off", "bubblewrap", "landlock"])
def launcher(request: pytest.FixtureRequest, tmp_path: Path) -> CommandLauncher:
    return PlainLauncher() if request.param == "sandbox off" else sandboxed(request.param, tmp_path)


@pytest.fixture
def sleeps() -> Iterator[list[str]]:
    """Markers of the sleeps a test starts; whatever is left is killed after the test."""
    markers: list[str] = []
    yield markers
    for marker in markers:
        for pid in running(marker):
            os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------- daemons


def test_a_setsid_daemon_is_gone_after_the_session_ends(
    launcher: CommandLauncher, tmp_path: Path, sleeps: list[str]
) -> None:
    daemon, nohup = unique_seconds(), unique_seconds()
    sleeps += [daemon, nohup]
    with ToolSession(tmp_path, launcher=launcher) as session:
        command = (
            f"setsid sleep {daemon} > /dev/null 2>&1 & nohup sleep {nohup} > /dev/null 2>&1 & wait"
        )
        bash(session, command, run_in_background=True)
        assert eventually(lambda: running(daemon) and running(nohup))
    assert eventually(lambda: not running(daemon) and not running(nohup))


def test_daemons_left_by_a_finished_command_are_killed_on_close(
    tmp_path: Path, sleeps: list[str]
) -> None:
    setsid, double_fork, bare = unique_seconds(), unique_seconds(), unique_seconds()
    sleeps += [setsid, double_fork, bare]
    with ToolSession(tmp_path) as session:
        result = bash(
            session,
            f"setsid sleep {setsid} > /dev/null 2>&1 & "
            # a double fork into a new session with an empty environment: nothing marks it
            f"(setsid env -i /bin/sleep {double_fork} > /dev/null 2>&1 &) ; "
            f"sleep {bare} > /dev/null 2>&1 &",
        )
        assert not result.is_error, result.content
        assert eventually(lambda: running(setsid) and running(double_fork) and running(bare))
        time.sleep(0.2)
        assert running(setsid) and running(double_fork)  # they do outlive the command
    assert eventually(lambda: not (running(setsid) or running(double_fork) or running(bare)))


def test_an_interrupted_command_takes_its_whole_tree_with_it(
    tmp_path: Path, sleeps: list[str]
) -> None:
    escaped, foreground = unique_seconds(), unique_seconds()
    sleeps += [escaped, foreground]
    with ToolSession(tmp_path) as session:
        results: list[ToolResult] = []
        command = f"setsid sleep {escaped} > /dev/null 2>&1 & sleep {foreground}"
        worker = threading.Thread(target=lambda: results.append(bash(session, command)))
        worker.start()
        assert eventually(lambda: running(escaped) and running(foreground))
        session.interrupt()
        worker.join(10)
        assert results and "interrupted" in results[0].content
        assert eventually(lambda: not running(escaped) and not running(foreground))
        assert bash(session, "echo still usable").content == "still usable"


def test_a_timed_out_command_takes_its_whole_tree_with_it(
    tmp_path: Path, sleeps: list[str]
) -> None:
    escaped = unique_seconds()
    sleeps.append(escaped)
    with ToolSession(tmp_path) as session:
        result = bash(session, f"setsid sleep {escaped} > /dev/null 2>&1 & sleep 60", timeout=1000)
        assert result.content.startswith("Command timed out")
        assert eventually(lambda: not running(escaped))


def test_a_killed_agent_leaves_no_daemon_behind(tmp_path: Path, sleeps: list[str]) -> None:
    daemon = unique_seconds()
    sleeps.append(daemon)
    agent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from backend_agent.tools import ToolSession\n"
            f"session = ToolSession({str(tmp_path)!r})\n"
            f"session.call('Bash', {{'command': 'setsid sleep {daemon} > /dev/null 2>&1 &'}})\n"
            "print('ready', flush=True)\n"
            "time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
    )
    assert agent.stdout is not None and agent.stdout.readline() == b"ready\n"
    assert running(daemon)
    agent.kill()  # SIGKILL: no cleanup code runs in the agent
    agent.wait()
    assert eventually(lambda: not running(daemon))


# ---------------------------------------------------------------- the start-up race


class AnnouncingLauncher:
    """Signals the moment a command is about to start, to interrupt right then."""

    kind = "none"

    def __init__(self) -> None:
        self.starting = threading.Event()

    def argv(self, command: str, cwd: str) -> list[str]:
        self.starting.set()
        return ["bash", "-c", command]


def test_an_interrupt_as_a_command_starts_leaves_no_survivor(
    tmp_path: Path, sleeps: list[str]
) -> None:
    marker = unique_seconds()
    sleeps.append(marker)
    launcher = AnnouncingLauncher()
    with ToolSession(tmp_path, launcher=launcher) as session:
        for _ in range(40):
            launcher.starting.clear()
            results: list[ToolResult] = []
            worker = threading.Thread(
                target=lambda done=results: done.append(bash(session, f"sleep {marker}"))
            )
            worker.start()
            assert launcher.starting.wait(10)
            time.sleep(random.uniform(0, 0.004))
            session.interrupt()
            worker.join(10)
            assert not worker.is_alive()
            assert results[0].is_error and "interrupted" in results[0].content
        assert eventually(lambda: not running(marker), 2.0)


def test_ctrl_c_as_a_command_starts_leaves_no_survivor(tmp_path: Path, sleeps: list[str]) -> None:
    """Ctrl-C (KeyboardInterrupt) may land anywhere in the call; then the runtime interrupts."""
    marker = unique_seconds()
    sleeps.append(marker)
    with ToolSession(tmp_path) as session:
        bash(session, "true")  # the reaper is running: only the command's start is timed
        for attempt in range(40):
            timer = threading.Timer(attempt * 0.0005, os.kill, (os.getpid(), signal.SIGINT))
            try:
                timer.start()
                bash(session, f"sleep {marker}")
                time.sleep(1)  # the signal had no call to interrupt; it lands here
            except KeyboardInterrupt:
                session.interrupt()  # as the runtime does
            timer.join()
        assert eventually(lambda: not running(marker), 2.0)
