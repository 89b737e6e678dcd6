"""The interactive mode end to end: ``backend-agent`` in a real terminal (tmux) talking to the
local fake Anthropic API. Each test types what a user types, then checks both what the screen
shows and what the API received."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.anthropic_server import AnthropicFake, Reply, tool_use

from backend_agent.messages import Usage

from .terminal import Terminal

MODEL = "claude-sonnet-4-5"
PRICE = {"input": 3.0, "output": 15.0, "cacheWrite": 3.75, "cacheRead": 0.3}


@pytest.fixture
def fake() -> Iterator[AnthropicFake]:
    with AnthropicFake() as server:
        yield server


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / ".claude").mkdir(parents=True)
    settings = {"modelPrices": {MODEL: PRICE}}
    (root / ".claude" / "settings.json").write_text(json.dumps(settings))
    return root


class Agent:
    """``backend-agent`` running in a terminal, and the API it talks to."""

    def __init__(self, tmp_path: Path, project: Path, fake: AnthropicFake, home: Path) -> None:
        self.tmp_path, self.project, self.fake, self.home = tmp_path, project, fake, home
        self.terminals: list[Terminal] = []

    def start(self, *args: str) -> Terminal:
        workdir = self.tmp_path / f"terminal{len(self.terminals)}"
        workdir.mkdir()
        terminal = Terminal(workdir)
        self.terminals.append(terminal)
        env = {
            "HOME": str(self.home),
            "BACKEND_AGENT_HOME": str(self.home / ".backend-agent"),
            "PATH": os.environ["PATH"],
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
            "ANTHROPIC_BASE_URL": self.fake.url,
            "ANTHROPIC_API_KEY": "sk-ant-test",
            "BACKEND_AGENT_MAX_RETRIES": "0",
            "TERM": "xterm-256color",
        }
        argv = [sys.executable, "-m", "backend_agent", "--model", MODEL, *args]
        terminal.start(argv, cwd=self.project, env=env)
        terminal.wait_for_prompt(1)
        return terminal

    def sent(self, index: int = -1) -> list[dict[str, Any]]:
        """The messages of request ``index``."""
        messages: list[dict[str, Any]] = self.fake.requests[index].body["messages"]
        return messages

    def close(self) -> None:
        for terminal in self.terminals:
            terminal.close()


@pytest.fixture
def agent(
    tmp_path: Path, project: Path, fake: AnthropicFake, isolated_home: Path
) -> Iterator[Agent]:
    running = Agent(tmp_path, project, fake, isolated_home)
    try:
        yield running
    finally:
        running.close()


def user_text(message: dict[str, Any]) -> str:
    """The text blocks of a user message, joined."""
    content = message["content"]
    if isinstance(content, str):
        return content
    return "\n".join(block["text"] for block in content if block["type"] == "text")


def test_help_and_unknown_commands_are_answered_here_and_send_nothing(agent: Agent) -> None:
    terminal = agent.start()
    terminal.type("/help")
    terminal.press("Enter")
    screen = terminal.wait_for("Shift+Tab")
    assert "/compact [focus]" in screen and "/permissions" in screen and "@path" in screen
    terminal.wait_for_prompt(2)
    terminal.type("/frobnicate now")
    terminal.press("Enter")
    terminal.wait_for("Unknown command /frobnicate: nothing was sent.")
    terminal.wait_for_prompt(3)
    assert agent.fake.requests == []


def test_clear_makes_the_next_request_hold_one_user_message(agent: Agent) -> None:
    agent.fake.add(Reply.of("First answer."), Reply.of("Second answer."))
    terminal = agent.start()
    terminal.type("hello")
    terminal.press("Enter")
    terminal.wait_for("First answer.")
    terminal.wait_for_prompt(2)
    terminal.type("/clear")
    terminal.press("Enter")
    terminal.wait_for("New conversation")
    terminal.wait_for_prompt(3)
    terminal.type("again")
    terminal.press("Enter")
    terminal.wait_for("Second answer.")
    messages = agent.sent()
    assert len(messages) == 1 and user_text(messages[0]) == "again"
    assert len(agent.fake.requests) == 2


def test_cost_shows_the_figures_of_the_session(agent: Agent) -> None:
    agent.fake.add(Reply.of("A short answer."))
    terminal = agent.start()
    terminal.type("hi")
    terminal.press("Enter")
    terminal.wait_for("A short answer.")
    terminal.wait_for_prompt(2)
    terminal.type("/cost")
    terminal.press("Enter")
    screen = terminal.wait_for("Session total")
    reported = agent.fake.usages[0]
    usage = Usage(
        reported.input_tokens,
        reported.output_tokens,
        reported.cache_creation_input_tokens,
        reported.cache_read_input_tokens,
    )
    dollars = (
        usage.input_tokens * PRICE["input"]
        + usage.output_tokens * PRICE["output"]
        + usage.cache_creation_input_tokens * PRICE["cacheWrite"]
        + usage.cache_read_input_tokens * PRICE["cacheRead"]
    ) / 1e6
    row = next(line for line in screen.splitlines() if line.startswith(MODEL))
    read = usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens
    assert row.split()[1:] == [
        "1",
        f"{read:,}",
        f"{usage.cache_read_input_tokens / read:.0%}",
        f"{usage.output_tokens:,}",
        f"${dollars:.4f}",
    ]
    assert f"Session total: ${dollars:.4f}" in screen
    assert len(agent.fake.requests) == 1


def test_escape_cancels_a_long_bash_call_and_the_next_prompt_works(agent: Agent) -> None:
    command = "sleep 317.5"
    agent.fake.add(Reply.of(tool_use("Bash", {"command": command})), Reply.of("Still here."))
    terminal = agent.start("--permission-mode", "bypassPermissions")
    terminal.type("start it")
    terminal.press("Enter")
    terminal.wait_for("Running Bash")
    terminal.press("Escape")
    terminal.wait_for("(cancelled)")
    assert _running(command) == []
    terminal.wait_for_prompt(2)
    terminal.type("and now?")
    terminal.press("Enter")
    terminal.wait_for("Still here.")
    messages = agent.sent()
    results = [b for b in messages[-1]["content"] if b["type"] == "tool_result"]
    assert results and results[0].get("is_error") is True
    assert "Interrupted" in json.dumps(results[0]["content"])
    assert user_text(messages[-1]).endswith("and now?")


def _running(command: str) -> list[str]:
    done = subprocess.run(["pgrep", "-f", command], capture_output=True, text=True)
    return done.stdout.split()


def test_multi_line_input_arrives_as_one_message_with_newlines(agent: Agent) -> None:
    agent.fake.add(Reply.of("One."), Reply.of("Two."), Reply.of("Three."))
    terminal = agent.start()
    terminal.type("line one")
    terminal.press("Escape", "Enter")
    terminal.type("line two")
    terminal.press("Enter")
    terminal.wait_for("One.")
    terminal.wait_for_prompt(2)
    terminal.type("first\\")
    terminal.press("Enter")
    terminal.type("second")
    terminal.press("Enter")
    terminal.wait_for("Two.")
    terminal.wait_for_prompt(3)
    terminal.paste("pasted one\npasted two")
    terminal.press("Enter")
    terminal.wait_for("Three.")
    texts = [user_text(request.body["messages"][-1]) for request in agent.fake.requests]
    assert texts == ["line one\nline two", "first\nsecond", "pasted one\npasted two"]


def test_history_survives_a_restart(agent: Agent) -> None:
    agent.fake.add(Reply.of("Noted."), Reply.of("Noted again."))
    first = agent.start()
    first.type("remember the migration order")
    first.press("Enter")
    first.wait_for("Noted.")
    first.wait_for_prompt(2)
    first.type("/exit")
    first.press("Enter")
    assert first.exit_status() == 0
    second = agent.start()
    second.press("Up")  # /exit
    second.wait_for("> /exit")
    second.press("Up")
    second.wait_for("> remember the migration order")
    second.press("Enter")
    second.wait_for("Noted again.")
    assert user_text(agent.sent()[-1]) == "remember the migration order"


def test_shift_tab_changes_the_mode_the_next_tool_call_is_checked_against(agent: Agent) -> None:
    agent.fake.add(
        Reply.of(tool_use("Write", {"file_path": "notes.md", "content": "# Notes\n"})),
        Reply.of("Written."),
    )
    terminal = agent.start()
    assert "default mode" in terminal.screen()
    terminal.press("BTab")
    terminal.wait_for("accept edits")
    terminal.type("write the notes")
    terminal.press("Enter")
    screen = terminal.wait_for("Written.")
    assert "Needs approval" not in screen
    assert (agent.project / "notes.md").read_text() == "# Notes\n"
    results = [b for b in agent.sent()[-1]["content"] if b["type"] == "tool_result"]
    assert not results[0].get("is_error")


def test_a_bang_command_runs_without_the_model_and_its_output_goes_along(agent: Agent) -> None:
    agent.fake.add(Reply.of("It printed hi."))
    terminal = agent.start()
    terminal.type("!echo hi")
    terminal.press("Enter")
    screen = terminal.wait_for("goes along with your next prompt")
    assert "\n  hi\n" in screen
    terminal.wait_for_prompt(2)
    assert agent.fake.requests == []
    terminal.type("what did it print?")
    terminal.press("Enter")
    terminal.wait_for("It printed hi.")
    text = user_text(agent.sent()[-1])
    assert text.startswith("what did it print?") and "$ echo hi\nhi" in text


def test_an_at_mention_attaches_the_file(agent: Agent) -> None:
    (agent.project / "notes.txt").write_text("alpha\nbeta\n")
    agent.fake.add(Reply.of("Two notes."))
    terminal = agent.start()
    terminal.type("summarize @no")
    terminal.press("Tab")
    terminal.wait_for("summarize @notes.txt")
    terminal.press("Enter")  # takes the completion
    terminal.press("Enter")  # sends
    screen = terminal.wait_for("Two notes.")
    assert "@notes.txt: 2 lines" in screen
    text = user_text(agent.sent()[-1])
    assert text.startswith("summarize @notes.txt")
    assert '<attached-file path="notes.txt">' in text and "alpha" in text and "beta" in text


def test_a_custom_command_expands_its_arguments(agent: Agent) -> None:
    commands = agent.project / ".claude" / "commands"
    commands.mkdir()
    (commands / "fix.md").write_text(
        "---\ndescription: Fix a tracked issue\nargument-hint: <issue>\n---\n"
        "Fix issue $ARGUMENTS, then add a test for it.\n"
    )
    agent.fake.add(Reply.of("On it."))
    terminal = agent.start()
    terminal.type("/fix 42")
    terminal.press("Enter")
    terminal.wait_for("On it.")
    assert user_text(agent.sent()[-1]) == "Fix issue 42, then add a test for it."


def test_a_todowrite_call_shows_a_checklist_and_needs_no_approval(agent: Agent) -> None:
    todos = [
        {"content": "Read the handler", "status": "completed", "activeForm": "Reading"},
        {"content": "Add the migration", "status": "in_progress", "activeForm": "Adding"},
        {"content": "Run the tests", "status": "pending", "activeForm": "Running the tests"},
    ]
    done = "## Planned\n\n- **three** items, `one` in progress"
    agent.fake.add(Reply.of("Planning.", tool_use("TodoWrite", {"todos": todos})), Reply.of(done))
    planner = agent.project / ".claude" / "agents" / "planner.md"
    planner.parent.mkdir(parents=True, exist_ok=True)
    planner.write_text(
        "---\nname: planner\ndescription: plans\ntools: Read, Grep, TodoWrite\n---\nPlan.\n"
    )
    terminal = agent.start("--agent", "planner")
    terminal.type("plan it")
    terminal.press("Enter")
    screen = terminal.wait_for("items, one in progress")  # rendered: no Markdown marks
    assert "• three items" in screen and "##" not in screen
    assert "Needs approval" not in screen
    for line in ("☒ Read the handler", "◼ Add the migration", "☐ Run the tests"):
        assert line in screen
    results = [b for b in agent.sent()[-1]["content"] if b["type"] == "tool_result"]
    assert not results[0].get("is_error")
    assert "1 of 3 done" in json.dumps(results[0]["content"])


def test_a_todowrite_call_to_an_agent_without_it_is_answered_not_asked(agent: Agent) -> None:
    """The built-in agent lists its tools, TodoWrite not among them: the call is refused with the
    tools it has, and no approval prompt appears."""
    todos = [{"content": "Plan", "status": "pending", "activeForm": "Planning"}]
    agent.fake.add(Reply.of("", tool_use("TodoWrite", {"todos": todos})), Reply.of("Done."))
    terminal = agent.start()
    terminal.type("plan it")
    terminal.press("Enter")
    screen = terminal.wait_for("Done.")
    assert "Needs approval" not in screen
    results = [b for b in agent.sent()[-1]["content"] if b["type"] == "tool_result"]
    assert results[0].get("is_error")
    assert "No such tool: TodoWrite. Available tools: Bash" in json.dumps(results[0]["content"])
