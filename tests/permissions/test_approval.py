"""Interactive approval, driven through a prompt_toolkit pipe input and a recording console."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from backend_agent.messages import ToolUseBlock
from backend_agent.permissions import PermissionOptions, PermissionPolicy, prepare_permissions
from backend_agent.tools import ToolSession
from backend_agent.ui.approval import TerminalApprover


class Terminal:
    """A policy whose approver reads typed answers from a pipe and prints to a buffer."""

    def __init__(self, project: Path, answers: str) -> None:
        self.screen = io.StringIO()
        console = Console(
            file=self.screen, force_terminal=True, color_system="truecolor", width=100
        )
        self._stack = contextlib.ExitStack()
        self._pipe = self._stack.enter_context(create_pipe_input())
        self._pipe.send_text(answers)
        approver = TerminalApprover(console, input=self._pipe, output=DummyOutput())
        setup = prepare_permissions(project, PermissionOptions(), warn=lambda message: None)
        self.session = ToolSession(project, launcher=setup.launcher)
        self.policy: PermissionPolicy = setup.policy(
            self.session, session_id="s", approver=approver
        )

    def close(self) -> None:
        self._stack.close()
        self.session.close()


@pytest.fixture
def terminal(project: Path) -> Iterator[type[Terminal]]:
    opened: list[Terminal] = []

    def open_terminal(project: Path, answers: str) -> Terminal:
        opened.append(Terminal(project, answers))
        return opened[-1]

    yield open_terminal  # type: ignore[misc]
    for t in opened:
        t.close()


def bash(command: str) -> ToolUseBlock:
    return ToolUseBlock("c1", "Bash", {"command": command})


def test_yes_once_runs_the_call_and_shows_the_command(project: Path, terminal: type) -> None:
    t = terminal(project, "1\n")
    assert t.policy.before_tool(bash("npm run test -- --watch=false")).allowed
    screen = t.screen.getvalue()
    assert "npm run test -- --watch=false" in screen
    assert "Yes, and don't ask again (saves Bash(npm run test -- --watch=false))" in screen
    assert not (project / ".claude" / "settings.local.json").exists()


def test_yes_always_saves_the_rule_shows_it_and_stops_asking(project: Path, terminal: type) -> None:
    local = project / ".claude" / "settings.local.json"
    local.write_text(json.dumps({"env": {"KEEP": "1"}, "permissions": {"allow": ["Read"]}}))
    t = terminal(project, "2\n")
    assert t.policy.before_tool(bash("make test")).allowed
    assert json.loads(local.read_text()) == {
        "env": {"KEEP": "1"},
        "permissions": {"allow": ["Read", "Bash(make test)"]},
    }
    assert f"Saved rule Bash(make test) to {local}" in t.screen.getvalue()
    # No answer is left in the pipe: a second prompt would fail, so this must not ask.
    assert t.policy.before_tool(bash("make test")).allowed


def test_a_saved_rule_applies_to_the_next_run(project: Path, terminal: type) -> None:
    terminal(project, "2\n").policy.before_tool(bash("make lint"))
    setup = prepare_permissions(project, PermissionOptions(), warn=lambda m: None)
    with ToolSession(project, launcher=setup.launcher) as session:
        policy = setup.policy(session, session_id="s2")
        assert policy.before_tool(bash("make lint")).allowed
        assert not policy.before_tool(bash("make clean")).allowed


def test_no_with_a_note_refuses_and_passes_the_note_to_the_model(
    project: Path, terminal: type
) -> None:
    t = terminal(project, "3\nuse the staging database instead\n")
    decision = t.policy.before_tool(bash("psql prod -c 'drop table users'"))
    assert not decision.allowed
    assert "refused" in decision.message
    assert "use the staging database instead" in decision.message


def test_an_invalid_choice_is_asked_again(project: Path, terminal: type) -> None:
    t = terminal(project, "maybe\n1\n")
    assert t.policy.before_tool(bash("make")).allowed  # "maybe" was neither yes nor no


def test_an_edit_shows_a_colored_diff(project: Path, terminal: type) -> None:
    t = terminal(project, "1\n")
    t.session.call("Read", {"file_path": "src/app.py"})
    edit = ToolUseBlock(
        "c2",
        "Edit",
        {"file_path": "src/app.py", "old_string": "hello", "new_string": "goodbye"},
    )
    assert t.policy.before_tool(edit).allowed
    screen = t.screen.getvalue()
    assert "\x1b[31m-print('hello')" in screen  # removed line in red
    assert "\x1b[32m+print('goodbye')" in screen  # added line in green
    assert (project / "src" / "app.py").read_text() == "print('hello')\n"  # not written yet


def test_a_protected_path_offers_no_dont_ask_again(project: Path, terminal: type) -> None:
    t = terminal(project, "1\n")
    write = ToolUseBlock("c3", "Write", {"file_path": ".git/info/exclude", "content": "x\n"})
    assert t.policy.before_tool(write).allowed
    screen = t.screen.getvalue()
    assert "protected" in screen and "don't ask again" not in screen
    assert "2. No" in screen
