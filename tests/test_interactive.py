"""The basic interactive mode: in-process with piped input, and as a real process in a terminal."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from backend_agent.messages import Usage
from backend_agent.models.registry import ModelChoice
from backend_agent.permissions import PermissionOptions
from backend_agent.runtime.results import RunResult
from backend_agent.sessions.config import SessionConfig
from backend_agent.ui.interactive import run_interactive
from backend_agent.ui.render import run_summary

SEED_BLUE = "38;2;96;165;250"  # #60A5FA as a truecolor escape


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("BACKEND_AGENT_HOME", str(home / ".backend-agent"))
    return home


def write_script(tmp_path: Path, turns: list[object]) -> str:
    path = tmp_path / "script.yaml"
    path.write_text(yaml.safe_dump({"model": "claude-haiku-4-5", "turns": turns}))
    return f"scripted:{path}"


@pytest.mark.usefixtures("home")
def test_streams_answers_with_tool_lines_and_exits_on_ctrl_d(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("one\ntwo\n")
    model = write_script(
        tmp_path,
        [
            {
                "text": "Looking at the notes.",
                "tool_calls": [
                    {"name": "Read", "input": {"file_path": "notes.txt"}},
                    {"name": "Bash", "input": {"command": "exit 3"}},
                ],
            },
            "The notes have two lines.",
            "Second answer.",
        ],
    )
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, color_system="truecolor", width=100)
    with create_pipe_input() as keys:
        keys.send_text("what is in the notes?\r")
        keys.send_text("and now?\r")
        keys.send_text("\x04")
        status = run_interactive(
            SessionConfig(
                cwd=tmp_path,
                model=ModelChoice(model),
                permissions=PermissionOptions(mode="bypassPermissions"),
            ),
            input=keys,
            output=DummyOutput(),
            console=console,
        )

    output = screen.getvalue()
    assert status == 0
    assert SEED_BLUE in output  # the agent's name in its color
    text = _strip_ansi(output)
    assert "backend-agent  claude-haiku-4-5" in text
    assert "Looking at the notes." in text
    assert "● Read(notes.txt)" in text
    assert "● Bash(exit 3)" in text and "error: Exit code 3" in text
    assert "The notes have two lines." in text and "Second answer." in text


@pytest.mark.usefixtures("home")
def test_reasoning_streams_dimmed_on_its_own_line_before_the_answer(tmp_path: Path) -> None:
    model = write_script(tmp_path, [{"thinking": "The user greets me.", "text": "Hello there."}])
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, color_system="truecolor", width=100)
    with create_pipe_input() as keys:
        keys.send_text("hi\r\x04")
        run_interactive(
            SessionConfig(cwd=tmp_path, model=ModelChoice(model)),
            input=keys,
            output=DummyOutput(),
            console=console,
        )

    output = screen.getvalue()
    dimmed = "".join(re.findall(r"\x1b\[2;3m([^\x1b]*)", output))  # dim italic runs
    assert dimmed.replace(" ", "") == "✻Theusergreetsme."
    lines = [line.rstrip() for line in _strip_ansi(output).splitlines()]
    thought, label, answer = (
        lines.index(t) for t in ("✻ The user greets me.", "backend-agent", "● Hello there.")
    )
    assert thought < label < answer


def test_the_run_summary_counts_cached_input_tokens() -> None:
    usage = Usage(
        input_tokens=120,
        output_tokens=640,
        cache_creation_input_tokens=9_000,
        cache_read_input_tokens=18_000,
    )
    result = RunResult("success", "done", "s", 2, 10, 5, usage, 0.01234, [])
    assert run_summary(result) == (
        "2 turns · 27,120 tokens in (18,000 from cache), 640 out · $0.0123"
    )
    single = RunResult("success", "done", "s", 1, 10, 5, Usage(input_tokens=7), 0.0, [])
    assert run_summary(single) == "1 turn · 7 tokens in, 0 out · $0"


def test_a_real_terminal_session_cancels_with_ctrl_c_and_exits_with_ctrl_d(
    tmp_path: Path, home: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    model = write_script(
        tmp_path,
        [
            {
                "tool_calls": [
                    {"name": "Bash", "input": {"command": "echo $$ > fg.pid; exec sleep 120"}}
                ]
            },
            "Back after the interruption.",
        ],
    )
    env = {
        **os.environ,
        "HOME": str(home),
        "BACKEND_AGENT_HOME": str(home / ".ba"),
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
    }
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backend_agent",
            "--model",
            model,
            "--permission-mode",
            "bypassPermissions",
        ],
        cwd=project,
        env=env,
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        start_new_session=True,
    )
    os.close(secondary)
    terminal = _Terminal(primary)
    try:
        terminal.wait_for("Ctrl-D exits")
        terminal.wait_for_prompt()
        terminal.type("start the server\r")
        pid_file = project / "fg.pid"
        deadline = time.monotonic() + 60
        while not (pid_file.exists() and pid_file.read_text().strip()):
            assert time.monotonic() < deadline, terminal.seen
            terminal.read_some()
        os.kill(process.pid, 2)  # what the terminal does on Ctrl-C
        terminal.wait_for("(cancelled)")
        terminal.wait_for_prompt()
        terminal.type("go on\r")
        terminal.wait_for("Back after the interruption.")
        assert SEED_BLUE in terminal.seen  # the agent's name in its color
        terminal.wait_for_prompt()
        terminal.type("\x04")
        deadline = time.monotonic() + 60
        while process.poll() is None:
            assert time.monotonic() < deadline, terminal.seen
            terminal.read_some()
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(primary)


class _Terminal:
    """The other end of a pseudo-terminal: what the user types and sees."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.seen = ""
        self.mark = 0  # where wait_for_prompt looks from

    def read_some(self) -> None:
        ready, _, _ = select.select([self.fd], [], [], 0.1)
        if ready:
            try:
                self.seen += os.read(self.fd, 65536).decode("utf-8", "replace")
            except OSError:
                return
            # answer prompt_toolkit's cursor-position request like a real terminal would
            if "\x1b[6n" in self.seen:
                self.seen = self.seen.replace("\x1b[6n", "")
                os.write(self.fd, b"\x1b[1;1R")

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in _strip_ansi(self.seen):
            assert time.monotonic() < deadline, f"{text!r} not seen in:\n{_strip_ansi(self.seen)}"
            self.read_some()

    def wait_for_prompt(self, timeout: float = 60) -> None:
        """Wait until a new prompt is ready for keys (it turns on bracketed paste)."""
        deadline = time.monotonic() + timeout
        while "\x1b[?2004h" not in self.seen[self.mark :]:
            assert time.monotonic() < deadline, f"no prompt in:\n{_strip_ansi(self.seen)}"
            self.read_some()
        self.mark = len(self.seen)

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r", "", text)
