"""TodoWrite: the classic contract, kept as session state, with no permission asked; and a call
to a tool the agent lacks, answered with the tools it has instead of an approval question."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from backend_agent.messages import Message, TextBlock, ToolResultBlock, ToolUseBlock
from backend_agent.models.registry import ModelChoice
from backend_agent.permissions import PermissionOptions
from backend_agent.permissions.approval import Approval, ApprovalRequest
from backend_agent.sessions.config import AgentChoice, ResumeChoice, SessionConfig
from backend_agent.sessions.session import Session
from backend_agent.tools import ToolSession
from backend_agent.tools.todo import Todo, latest_todos

STREAM_JSON = ("--output-format", "stream-json")
PLAN = [
    {"content": "Read the handler", "status": "completed", "activeForm": "Reading the handler"},
    {"content": "Add the check", "status": "in_progress", "activeForm": "Adding the check"},
    {"content": "Run the tests", "status": "pending", "activeForm": "Running the tests"},
]


class RefusingApprover:
    """Fails the test if anyone asks: nothing here may need approval."""

    def __init__(self) -> None:
        self.asked: list[ApprovalRequest] = []

    def approve(self, request: ApprovalRequest) -> Approval:
        self.asked.append(request)
        return Approval("no")

    def notify(self, message: str) -> None:
        """Nothing to show."""


def script(tmp_path: Path, turns: list[Any], **extra: Any) -> str:
    path = tmp_path / "script.yaml"
    path.write_text(yaml.safe_dump({"model": "claude-haiku-4-5", "turns": turns, **extra}))
    return f"scripted:{path}"


def with_planner(project: Path) -> Path:
    """A project agent that lists no tools, so it has all of them, TodoWrite included (the
    built-in agent lists its own, without TodoWrite)."""
    agent = project / ".claude" / "agents" / "planner.md"
    agent.parent.mkdir(parents=True, exist_ok=True)
    agent.write_text("---\nname: planner\ndescription: plans the work\n---\nPlan, then do.\n")
    return project


def open_session(
    tmp_path: Path, model: str, approver: RefusingApprover | None = None, **options: Any
) -> Session:
    project = with_planner(tmp_path / "project")
    options.setdefault("agent", AgentChoice(name="planner"))
    config = SessionConfig(
        cwd=project,
        model=ModelChoice(model),
        permissions=PermissionOptions(mode=options.pop("mode", None)),
        **options,
    )
    return Session.open(config, approver=approver or RefusingApprover())


def results_of(session: Session) -> list[ToolResultBlock]:
    return [b for m in session.messages for b in m.content if isinstance(b, ToolResultBlock)]


def test_todowrite_replaces_the_list_and_says_where_the_work_stands(tmp_path: Path) -> None:
    with ToolSession(tmp_path) as tools:
        result = tools.call("TodoWrite", {"todos": PLAN})
        assert not result.is_error
        assert [(t.content, t.status, t.active_form) for t in tools.todos.items] == [
            (t["content"], t["status"], t["activeForm"]) for t in PLAN
        ]
        assert result.content.startswith('Todo list updated: 1 of 3 done, in progress: "Add')
        assert tools.todos.current == Todo("Add the check", "in_progress", "Adding the check")
        assert "[x] Read the handler\n[~] Add the check\n[ ] Run the tests" in tools.todos.as_text()
        assert tools.call("TodoWrite", {"todos": []}).content == "The todo list is now empty."
        assert tools.todos.items == [] and tools.todos.as_text() == ""


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ({"content": "x", "status": "doing", "activeForm": "x"}, "todos.0.status"),
        ({"content": "", "status": "pending", "activeForm": "x"}, "todos.0.content"),
        ({"content": "x", "status": "pending"}, "todos.0.activeForm: required field is missing"),
        ({"content": "x", "status": "pending", "activeForm": "x", "id": "1"}, "todos.0.id"),
    ],
)
def test_a_bad_item_is_an_error_naming_the_field_and_keeps_the_list(
    tmp_path: Path, item: dict[str, str], problem: str
) -> None:
    with ToolSession(tmp_path) as tools:
        tools.call("TodoWrite", {"todos": PLAN})
        result = tools.call("TodoWrite", {"todos": [item]})
        assert result.is_error and problem in result.content
        assert len(tools.todos.items) == 3


def test_the_list_of_a_conversation_is_its_last_successful_call() -> None:
    def call(ident: str, todos: list[dict[str, str]]) -> Message:
        return Message("assistant", [ToolUseBlock(ident, "TodoWrite", {"todos": todos})])

    def answer(ident: str, error: bool) -> Message:
        return Message("user", [ToolResultBlock(ident, "…", is_error=error)])

    messages = [
        Message("user", [TextBlock("go")]),
        call("a", PLAN[:1]),
        answer("a", False),
        call("b", [{"content": "broken", "status": "nope", "activeForm": "x"}]),
        answer("b", True),
    ]
    assert [t.content for t in latest_todos(messages)] == ["Read the handler"]
    assert latest_todos(messages[:1]) == []


def test_todowrite_needs_no_approval_in_default_and_plan_mode(tmp_path: Path) -> None:
    call = {"tool_calls": [{"name": "TodoWrite", "input": {"todos": PLAN}}]}
    for mode in ("default", "plan"):
        approver = RefusingApprover()
        with open_session(tmp_path, script(tmp_path, [call, "ok"]), approver, mode=mode) as session:
            result = session.prompt("plan the work")
            assert result.subtype == "success", result.result
            assert not results_of(session)[0].is_error
            assert [t.content for t in session.todos] == [t["content"] for t in PLAN]
            assert approver.asked == []


def test_a_tool_the_agent_lacks_is_an_error_naming_its_tools_not_a_question(
    tmp_path: Path,
) -> None:
    model = script(
        tmp_path, [{"tool_calls": [{"name": "WebSearch", "input": {"query": "x"}}]}, "ok"]
    )
    agent, approver = AgentChoice(tools=["Read", "Grep"]), RefusingApprover()
    with open_session(tmp_path, model, approver, agent=agent) as session:
        session.prompt("search the web")
        (result,) = results_of(session)
        assert approver.asked == []
        assert result.is_error
        assert "No such tool: WebSearch" in result.content
        listed = result.content.split("Available tools: ")[1].split("<")[0]
        assert listed.split(", ") == session.tools.tool_names
        assert "Grep" in listed and "Bash" not in listed


def test_todowrite_is_there_when_the_agent_lists_it_or_lists_no_tools(tmp_path: Path) -> None:
    narrow = tmp_path / "narrow.md"
    narrow.write_text("---\nname: narrow\ndescription: d\ntools: Read\n---\nYou read.\n")
    planner = tmp_path / "planner.md"
    planner.write_text("---\nname: p\ndescription: d\ntools: Read, TodoWrite\n---\nPlan.\n")
    model = script(tmp_path, ["ok"])

    def builtin_tools(agent: AgentChoice) -> list[str]:
        with open_session(tmp_path, model, agent=agent) as session:
            return [name for name in session.tools.tool_names if not name.startswith("mcp__")]

    assert builtin_tools(AgentChoice(file=narrow)) == ["Read"]
    assert builtin_tools(AgentChoice(file=planner)) == ["Read", "TodoWrite"]
    assert "TodoWrite" in builtin_tools(AgentChoice(name="planner"))  # no tools: line
    assert builtin_tools(AgentChoice(name="planner", tools=["Read"])) == ["Read"]


def test_a_resumed_session_gets_the_list_back_and_compaction_keeps_it(tmp_path: Path) -> None:
    turns = [{"tool_calls": [{"name": "TodoWrite", "input": {"todos": PLAN}}]}, "planned"]
    model = script(tmp_path, [*turns, "resumed"], summary="We planned the work.")
    with open_session(tmp_path, model) as first:
        first.prompt("plan")
        session_id = first.id
    with open_session(tmp_path, model, resume=ResumeChoice(session=session_id)) as again:
        assert [t.status for t in again.todos] == ["completed", "in_progress", "pending"]
        compaction = again.compact()
        blocks = [b for m in compaction.messages for b in m.content]
        text = "\n".join(b.text for b in blocks if isinstance(b, TextBlock))
        assert "[~] Add the check" in text and "We planned the work." in text
        assert len(again.todos) == 3


def test_headless_stream_json_carries_the_call_and_its_result(tmp_path: Path) -> None:
    model = script(
        tmp_path, [{"tool_calls": [{"name": "TodoWrite", "input": {"todos": PLAN}}]}, "done"]
    )
    project = with_planner(tmp_path / "project")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "backend_agent",
            "-p",
            "plan",
            "--model",
            model,
            *STREAM_JSON,
            "--agent",
            "planner",
        ],
        cwd=project,
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    calls = blocks_of(records, "assistant", "tool_use")
    assert calls[0]["name"] == "TodoWrite" and calls[0]["input"] == {"todos": PLAN}
    results = blocks_of(records, "user", "tool_result")
    assert results[0]["is_error"] is False and "1 of 3 done" in results[0]["content"]
    assert records[-1]["subtype"] == "success"


def blocks_of(records: list[dict[str, Any]], kind: str, block_type: str) -> list[dict[str, Any]]:
    """The content blocks of one type in the stream-json records of one type."""
    return [
        block
        for record in records
        if record["type"] == kind
        for block in record["message"]["content"]
        if block["type"] == block_type
    ]
