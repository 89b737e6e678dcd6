"""Sessions in the interactive mode: the resume picker, /rewind, and SIGTERM in a terminal."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from backend_agent import paths
from backend_agent.models.registry import ModelChoice
from backend_agent.permissions import PermissionOptions
from backend_agent.sessions.config import ResumeChoice, SessionConfig
from backend_agent.ui.interactive import run_interactive

CLEAR_LINE = "\x15"  # Ctrl-U
END = "\x04"  # Ctrl-D


def interactive(config: SessionConfig, keys: str, *, pick: bool = False) -> tuple[int, str]:
    """Run the interactive mode with ``keys`` typed; (exit status, what the screen showed)."""
    screen = io.StringIO()
    console = Console(file=screen, width=120)
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        status = run_interactive(
            config,
            pick=pick,
            input=pipe,
            output=DummyOutput(),
            console=console,
        )
    return status, screen.getvalue()


def bypassing(project: Path, model: str, **resume: Any) -> SessionConfig:
    return SessionConfig(
        cwd=project,
        model=ModelChoice(model),
        permissions=PermissionOptions(mode="bypassPermissions"),
        resume=ResumeChoice(**resume),
    )


def edits(path: str, old: str, new: str) -> list[Any]:
    """Turns that read ``path``, replace ``old`` with ``new`` and say so."""
    return [
        {"tool_calls": [{"name": "Read", "input": {"file_path": path}}]},
        {
            "tool_calls": [
                {
                    "name": "Bash",
                    "input": {"command": f"sed -i s/{old}/{new}/ {path}"},
                }
            ]
        },
        f"Replaced {old} with {new}.",
    ]


def test_rewind_restores_code_and_conversation_and_hands_the_prompt_back(
    project: Path, script: Any
) -> None:
    (project / "app.py").write_text("v1\n")
    model = script([*edits("app.py", "v1", "v2"), *edits("app.py", "v2", "v3"), "fresh"])
    keys = "first change\rsecond change\r/rewind\r2\r1\r" + CLEAR_LINE + "redo\r" + END
    status, screen = interactive(bypassing(project, model), keys)

    assert status == 0
    assert (project / "app.py").read_text() == "v2\n"
    assert "1. " in screen and "first change" in screen and "2. " in screen
    assert "Restored 1 files: app.py" in screen
    assert "The conversation is back to before prompt 2." in screen
    assert "fresh" in screen


def test_rewind_asks_before_overwriting_a_file_changed_outside(project: Path, script: Any) -> None:
    (project / "app.py").write_text("v1\n")
    model = script(edits("app.py", "v1", "v2"))
    status, _ = interactive(bypassing(project, model), "first change\r" + END)
    assert status == 0 and (project / "app.py").read_text() == "v2\n"
    (project / "app.py").write_text("by hand\n")

    keys = "/rewind\r1\r3\rn\r/rewind\r1\r3\ry\r" + END
    status, screen = interactive(bypassing(project, script([]), latest=True), keys)

    assert status == 0
    assert "Changed outside the session since its last checkpoint:" in screen
    assert "Nothing was rewound." in screen
    assert (project / "app.py").read_text() == "v1\n"


def test_resume_without_an_id_picks_from_this_directory(project: Path, script: Any) -> None:
    status, _ = interactive(bypassing(project, script(["one"])), "older work\r" + END)
    status, _ = interactive(bypassing(project, script(["two"])), "newer work\r" + END)
    model = script(["continued"])
    status, screen = interactive(bypassing(project, model), "2\rgo on\r" + END, pick=True)

    assert status == 0
    newest_first = screen.index("newer work") < screen.index("older work")
    assert newest_first and "Resumed session" in screen and "continued" in screen
    sessions = sorted(paths.project_dir(project).glob("*.jsonl"), key=os.path.getmtime)
    resumed = [json.loads(line) for line in sessions[-1].read_text().splitlines()]
    prompts = [e["prompt"] for e in resumed if e.get("origin") == "prompt"]
    assert prompts == ["older work", "go on"]


def test_the_picker_with_no_sessions_says_so_and_exits(project: Path, script: Any) -> None:
    status, screen = interactive(bypassing(project, script([])), "", pick=True)
    assert status == 0 and "No sessions to resume in this directory." in screen


def test_sigterm_in_a_terminal_cancels_the_turn_and_exits_143(
    project: Path, script: Any, isolated_home: Path
) -> None:
    token = f"{os.getpid() % 1000}3.75"
    model = script(
        [{"tool_calls": [{"name": "Bash", "input": {"command": f"touch started; sleep 4{token}"}}]}]
    )
    env = {
        **os.environ,
        "HOME": str(isolated_home),
        "BACKEND_AGENT_HOME": str(isolated_home / ".backend-agent"),
        "TERM": "xterm-256color",
    }
    primary, secondary = pty.openpty()
    args = ["--model", model, "--permission-mode", "bypassPermissions", "--sandbox", "off"]
    process = subprocess.Popen(
        [sys.executable, "-m", "backend_agent", *args],
        cwd=project,
        env=env,
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        start_new_session=True,
    )
    os.close(secondary)
    seen = ""
    try:
        while "\x1b[?2004h" not in seen:  # the prompt is ready for keys
            seen += read_some(primary)
        os.write(primary, b"wait for it\r")
        while not (project / "started").exists():
            seen += read_some(primary)
        process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 60
        while process.poll() is None:
            assert time.monotonic() < deadline, seen
            seen += read_some(primary)
        assert process.returncode == 143, seen
    finally:
        if process.poll() is None:
            process.kill()
        os.close(primary)
    assert not sleeping(token)
    (transcript,) = paths.project_dir(project).glob("*.jsonl")
    last = json.loads(transcript.read_text().splitlines()[-1])
    assert last["type"] == "result" and last["result"] == "terminated"


def read_some(fd: int) -> str:
    ready, _, _ = select.select([fd], [], [], 0.1)
    if not ready:
        return ""
    try:
        text = os.read(fd, 65536).decode("utf-8", "replace")
    except OSError:
        return ""
    if "\x1b[6n" in text:  # answer the cursor-position request like a terminal
        os.write(fd, b"\x1b[1;1R")
    return text


def sleeping(token: str) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not any(token in _cmdline(pid) for pid in os.listdir("/proc") if pid.isdigit()):
            return False
        time.sleep(0.05)
    return True


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
