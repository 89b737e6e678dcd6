"""End to end through the CLI with the scripted model: denials, flags, plan mode, bypass warning."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    return {
        "HOME": str(home),
        "BACKEND_AGENT_HOME": str(home / ".backend-agent"),
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }


def run(project: Path, env: dict[str, str], calls: list[dict[str, Any]], *flags: str) -> Any:
    script = project.parent / "script.yaml"
    turns = [{"tool_calls": calls}, "finished"]
    script.write_text(yaml.safe_dump({"model": "claude-sonnet-4-5", "turns": turns}))
    done = subprocess.run(
        [sys.executable, "-m", "backend_agent", "-p", "go", "--output-format", "json",
         "--model", f"scripted:{script}", *flags],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


BASH_RM = {"name": "Bash", "input": {"command": "git status && rm -rf src"}}
WRITE = {"name": "Write", "input": {"file_path": "src/new.py", "content": "x = 1\n"}}
TOUCH = {"name": "Bash", "input": {"command": "touch made.txt"}}


def test_headless_runs_refuse_what_would_ask_and_list_the_denials(
    project: Path, env: dict[str, str]
) -> None:
    result, _ = run(project, env, [BASH_RM, WRITE])
    denied = [(d["tool_name"], d["tool_input"]) for d in result["permission_denials"]]
    assert denied == [("Bash", BASH_RM["input"]), ("Write", WRITE["input"])]
    assert (project / "src" / "app.py").exists()
    assert not (project / "src" / "new.py").exists()


def test_allowed_tools_and_accept_edits_let_the_calls_run(
    project: Path, env: dict[str, str]
) -> None:
    flags = ("--allowedTools", "Bash(touch made.txt)", "--permission-mode", "acceptEdits")
    result, _ = run(project, env, [TOUCH, WRITE], *flags)
    assert result["permission_denials"] == []
    assert (project / "made.txt").exists()
    assert (project / "src" / "new.py").read_text() == "x = 1\n"


def test_disallowed_tools_deny_even_in_bypass_mode_which_warns_once(
    project: Path, env: dict[str, str]
) -> None:
    flags = ("--disallowedTools", "Bash(touch:*)", "--permission-mode", "bypassPermissions")
    result, stderr = run(project, env, [TOUCH, WRITE], *flags)
    assert [d["tool_name"] for d in result["permission_denials"]] == ["Bash"]
    assert not (project / "made.txt").exists()
    assert (project / "src" / "new.py").exists()
    assert stderr.count("bypassPermissions") == 1


def test_plan_mode_from_settings_refuses_changes(project: Path, env: dict[str, str]) -> None:
    settings = json.dumps({"permissions": {"defaultMode": "plan"}})
    result, _ = run(project, env, [WRITE, TOUCH], "--settings", settings)
    assert [d["tool_name"] for d in result["permission_denials"]] == ["Write", "Bash"]
    assert not (project / "made.txt").exists()


def test_the_run_reports_the_mode_in_force(project: Path, env: dict[str, str]) -> None:
    from backend_agent.models.registry import ModelChoice
    from backend_agent.sessions.config import AgentChoice, SessionConfig
    from backend_agent.sessions.session import Session

    script = project.parent / "script.yaml"
    script.write_text(yaml.safe_dump({"model": "claude-sonnet-4-5", "turns": ["done"]}))
    (project / ".claude" / "settings.json").write_text('{"permissions": {"defaultMode": "plan"}}')
    agent = project.parent / "helper.md"  # no permissionMode: settings decide
    agent.write_text("---\nname: helper\ndescription: helps\n---\nYou help.\n")
    config = SessionConfig(
        cwd=project, agent=AgentChoice(file=agent), model=ModelChoice(f"scripted:{script}")
    )
    with Session.open(config) as session:
        assert session.init_record()["permissionMode"] == "plan"


def test_interactive_approval_in_a_real_terminal(project: Path, env: dict[str, str]) -> None:
    """Answer "don't ask again" in a pseudo-terminal: the command runs and the rule is saved."""
    script = project.parent / "script.yaml"
    turns = [{"tool_calls": [TOUCH]}, "all done"]
    script.write_text(yaml.safe_dump({"model": "claude-sonnet-4-5", "turns": turns}))
    fd, terminal = pty.openpty()
    argv = [sys.executable, "-m", "backend_agent", "--model", f"scripted:{script}", "go"]
    process = subprocess.Popen(
        argv, cwd=project, env=env, stdin=terminal, stdout=terminal, stderr=terminal
    )
    os.close(terminal)
    screen = b""

    def wait_for(text: bytes, times: int = 1) -> None:
        nonlocal screen
        deadline = time.monotonic() + 60
        while screen.count(text) < times and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.2)[0]:
                screen += os.read(fd, 4096)
        assert screen.count(text) >= times, screen.decode(errors="replace")

    try:
        wait_for(b"Choose [1/2/3]")
        assert b"touch made.txt" in screen and b"saves Bash(touch made.txt)" in screen
        os.write(fd, b"2\r")
        wait_for(b"all done")
        wait_for(b"\x1b[?2004h", times=2)  # the next prompt is ready (bracketed paste on)
        os.write(fd, b"\x04")  # Ctrl-D ends the session
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()
        process.wait()
        os.close(fd)
    assert (project / "made.txt").exists()
    local = json.loads((project / ".claude" / "settings.local.json").read_text())
    assert local == {"permissions": {"allow": ["Bash(touch made.txt)"]}}


def test_hooks_in_agent_frontmatter_run(project: Path, env: dict[str, str]) -> None:
    hook = (
        f"{sys.executable} -c \"import sys; print('no shell today', file=sys.stderr); sys.exit(2)\""
    )
    frontmatter = {
        "name": "guarded",
        "description": "an agent with a hook",
        "hooks": {
            "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": hook}]}]
        },
    }
    agent = project.parent / "guarded.md"
    agent.write_text(f"---\n{yaml.safe_dump(frontmatter)}---\nYou work.\n")
    flags = ("--agent-file", str(agent), "--permission-mode", "bypassPermissions")
    result, stderr = run(project, env, [TOUCH], *flags)
    assert [d["tool_name"] for d in result["permission_denials"]] == ["Bash"]
    assert not (project / "made.txt").exists()
    assert "unknown field" not in stderr
