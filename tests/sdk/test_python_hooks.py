"""Python callables as hooks: they get the JSON a command hook gets and may return the same
decisions; they mix with command hooks and matchers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import backend_agent
from backend_agent.errors import UserError

from .conftest import Provider

BASH = {"name": "Bash", "input": {"command": "echo hi"}}


def test_a_python_hook_gets_the_json_a_command_hook_gets(
    project: Path, provider: Provider, tmp_path: Path
) -> None:
    received: list[dict[str, Any]] = []
    stdin_copy = tmp_path / "stdin.json"
    command = f"cat > {stdin_copy}"
    script = [{"tool_calls": [BASH]}, "Done."]
    with backend_agent.open_session(
        project,
        hooks={"PreToolUse": [received.append, command]},
        allowed_tools=["Bash(echo hi)"],
        sandbox="off",
        **provider.options(script),
    ) as session:
        session.prompt("say hi")
    assert received == [json.loads(stdin_copy.read_text())]
    assert received[0]["hook_event_name"] == "PreToolUse"
    assert received[0]["tool_input"] == {"command": "echo hi"}
    assert received[0]["session_id"] == session.id


def test_a_python_hook_can_deny_and_the_model_reads_why(project: Path, provider: Provider) -> None:
    def no_shell(event: dict[str, Any]) -> dict[str, Any]:
        return {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": "no shell on Fridays",
            }
        }

    script = [{"tool_calls": [BASH]}, "Understood."]
    with backend_agent.open_session(
        project,
        hooks={"PreToolUse": [{"matcher": "Bash", "hooks": [no_shell]}]},
        permission_mode="bypassPermissions",
        **provider.options(script),
    ) as session:
        result = session.prompt("say hi")
    ((message, is_error),) = provider.played().results[1]
    assert is_error and "no shell on Fridays" in message
    assert [d["tool_name"] for d in result.permission_denials] == ["Bash"]


def test_matchers_choose_the_tools_and_text_becomes_context(
    project: Path, scripted: Provider
) -> None:
    calls: list[str] = []

    async def on_read(event: dict[str, Any]) -> None:
        calls.append(event["tool_name"])

    (project / "notes.txt").write_text("hello\n")
    read = {"name": "Read", "input": {"file_path": "notes.txt"}}
    model = scripted.options([{"tool_calls": [read, BASH]}, "Done."])["model"]
    with backend_agent.open_session(
        project,
        model=model,
        hooks={
            "PreToolUse": [{"matcher": "Read|Grep", "hooks": [on_read]}],
            "UserPromptSubmit": [lambda event: f"The user's prompt was {event['prompt']!r}."],
        },
        sandbox="off",
    ) as session:
        session.prompt("read the notes")
    assert calls == ["Read"]
    first_prompt = model.requests[0].messages[0].text
    assert "The user's prompt was 'read the notes'." in first_prompt


def test_a_failing_hook_is_reported_and_the_run_goes_on(project: Path, scripted: Provider) -> None:
    warnings: list[str] = []

    def broken(event: dict[str, Any]) -> None:
        raise RuntimeError("hook bug")

    with backend_agent.open_session(
        project,
        hooks={"UserPromptSubmit": [broken]},
        on_warning=warnings.append,
        **scripted.options(["Fine."]),
    ) as session:
        result = session.prompt("hi")
    assert result.subtype == "success"
    assert warnings == [
        "UserPromptSubmit hook function "
        "sdk.test_python_hooks.test_a_failing_hook_is_reported_and_the_run_goes_on"
        ".<locals>.broken failed: RuntimeError: hook bug"
    ]


@pytest.mark.parametrize(
    ("hooks", "problem"),
    [
        ({"BeforeTool": ["true"]}, "unknown hook event 'BeforeTool'"),
        ({"Stop": "true"}, "hooks['Stop'] must be a list"),
        ({"Stop": [42]}, "42 is neither a callable nor a command"),
        ({"PreToolUse": [{"matcher": "(", "hooks": ["true"]}]}, "is not a valid regex"),
    ],
)
def test_malformed_hooks_are_named(project: Path, hooks: Any, problem: str) -> None:
    with pytest.raises(UserError, match=r"open_session\(hooks=\.\.\.\): .*" + re.escape(problem)):
        backend_agent.open_session(project, hooks=hooks, model="sonnet")
