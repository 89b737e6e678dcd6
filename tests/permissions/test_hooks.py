"""Hooks: every event, and every outcome (allow, exit 2, JSON decisions, context, timeout)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend_agent.errors import UserError
from backend_agent.messages import ToolUseBlock
from backend_agent.permissions import PermissionOptions, PermissionPolicy, prepare_permissions
from backend_agent.permissions.hooks import parse_hooks
from backend_agent.tools import ToolResult, ToolSession


def hook_script(directory: Path, name: str, body: str) -> str:
    """A Python hook script; returns the command that runs it."""
    path = directory / f"{name}.py"
    path.write_text("import json, sys, time\nevent = json.load(sys.stdin)\n" + body)
    return f"{sys.executable} {path}"


class Harness:
    """A project whose .claude/settings.json holds the given hooks, and its policy."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.warnings: list[str] = []
        self.sessions: list[ToolSession] = []

    def policy(
        self, hooks: dict[str, Any], *, mode: str = "default", agent_hooks: Any = None
    ) -> PermissionPolicy:
        settings = self.project / ".claude" / "settings.json"
        settings.write_text(json.dumps({"hooks": hooks}))
        setup = prepare_permissions(
            self.project,
            PermissionOptions(mode=mode),
            agent_hooks=parse_hooks(agent_hooks, "agent.md"),
            warn=self.warnings.append,
        )
        session = ToolSession(self.project, launcher=setup.launcher)
        self.sessions.append(session)
        return setup.policy(session, session_id="session-1")

    def script(self, name: str, body: str) -> str:
        return hook_script(self.project.parent, name, body)


@pytest.fixture
def harness(project: Path) -> Iterator[Harness]:
    harness = Harness(project)
    yield harness
    for session in harness.sessions:
        session.close()


def on(event: str, command: str, matcher: str = "", timeout: float | None = None) -> dict[str, Any]:
    hook: dict[str, Any] = {"type": "command", "command": command}
    if timeout is not None:
        hook["timeout"] = timeout
    return {event: [{"matcher": matcher, "hooks": [hook]}]}


def call(name: str, **tool_input: Any) -> ToolUseBlock:
    return ToolUseBlock("call-1", name, tool_input)


READ_APP = call("Read", file_path="src/app.py")
WRITE_NEW = call("Write", file_path="src/new.py", content="x = 1\n")


def test_pre_tool_use_gets_the_event_json_and_exit_0_lets_the_call_run(
    harness: Harness, tmp_path: Path
) -> None:
    record = tmp_path / "event.json"
    body = f"open({str(record)!r}, 'w').write(json.dumps(event))\n"
    policy = harness.policy(on("PreToolUse", harness.script("record", body)))
    assert policy.before_tool(READ_APP).allowed
    event = json.loads(record.read_text())
    assert event["hook_event_name"] == "PreToolUse"
    assert event["session_id"] == "session-1"
    assert event["cwd"] == str(harness.project.resolve())
    assert event["permission_mode"] == "default"
    assert event["tool_name"] == "Read"
    assert event["tool_input"] == {"file_path": "src/app.py"}


def test_pre_tool_use_exit_2_blocks_with_stderr_for_the_model(harness: Harness) -> None:
    body = "print('reading app.py is off limits', file=sys.stderr)\nsys.exit(2)\n"
    policy = harness.policy(on("PreToolUse", harness.script("block", body)))
    decision = policy.before_tool(READ_APP)
    assert not decision.allowed
    assert "reading app.py is off limits" in decision.message


def test_pre_tool_use_matcher_is_a_regex_on_the_whole_tool_name(harness: Harness) -> None:
    body = "sys.exit(2)\n"
    policy = harness.policy(
        on("PreToolUse", harness.script("block", body), matcher="Edit|Read"), mode="acceptEdits"
    )
    assert not policy.before_tool(READ_APP).allowed
    assert policy.before_tool(WRITE_NEW).allowed
    multi = call("MultiEdit", file_path="src/app.py", edits=[])
    assert policy.before_tool(multi).allowed  # "Edit" does not match "MultiEdit"


@pytest.mark.parametrize(
    ("output", "allowed", "message"),
    [
        (
            {"permissionDecision": "deny", "permissionDecisionReason": "frozen file"},
            False,
            "frozen file",
        ),
        ({"permissionDecision": "allow", "permissionDecisionReason": "ok"}, True, ""),
    ],
)
def test_pre_tool_use_json_permission_decision(
    harness: Harness, output: dict[str, Any], allowed: bool, message: str
) -> None:
    body = f"print(json.dumps({{'hookSpecificOutput': {output!r}}}))\n"
    policy = harness.policy(on("PreToolUse", harness.script("decide", body)))
    decision = policy.before_tool(WRITE_NEW)  # default mode would ask: refused when unattended
    assert decision.allowed is allowed
    assert message in decision.message


def test_pre_tool_use_json_ask_makes_an_allowed_call_need_approval(harness: Harness) -> None:
    output = {"permissionDecision": "ask", "permissionDecisionReason": "double-check reads"}
    body = f"print(json.dumps({{'hookSpecificOutput': {output!r}}}))\n"
    policy = harness.policy(on("PreToolUse", harness.script("ask", body)))
    decision = policy.before_tool(READ_APP)
    assert not decision.allowed
    assert "double-check reads" in decision.message


def test_a_hook_cannot_approve_a_protected_path_or_a_deny_rule(harness: Harness) -> None:
    output = {"permissionDecision": "allow"}
    body = f"print(json.dumps({{'hookSpecificOutput': {output!r}}}))\n"
    policy = harness.policy(on("PreToolUse", harness.script("allow", body)))
    decision = policy.before_tool(call("Write", file_path=".git/config", content="x"))
    assert not decision.allowed and "protected" in decision.message
    plan = harness.policy(on("PreToolUse", harness.script("allow", body)), mode="plan")
    assert not plan.before_tool(WRITE_NEW).allowed


def test_pre_tool_use_legacy_decision_block(harness: Harness) -> None:
    body = "print(json.dumps({'decision': 'block', 'reason': 'use the API instead'}))\n"
    policy = harness.policy(on("PreToolUse", harness.script("legacy", body)))
    decision = policy.before_tool(READ_APP)
    assert not decision.allowed and "use the API instead" in decision.message


def test_pre_tool_use_can_rewrite_the_input(harness: Harness) -> None:
    output = {"permissionDecision": "allow", "updatedInput": {"file_path": "src/other.py"}}
    body = f"print(json.dumps({{'hookSpecificOutput': {output!r}}}))\n"
    policy = harness.policy(on("PreToolUse", harness.script("rewrite", body)))
    decision = policy.before_tool(READ_APP)
    assert decision.allowed and decision.updated_input == {"file_path": "src/other.py"}


def test_a_rewritten_input_is_checked_again(harness: Harness, outside: Path) -> None:
    output = {"updatedInput": {"file_path": str(outside / "secret.txt")}}
    body = f"print(json.dumps({{'hookSpecificOutput': {output!r}}}))\n"
    policy = harness.policy(on("PreToolUse", harness.script("rewrite", body)))
    assert not policy.before_tool(READ_APP).allowed


def test_a_hook_that_times_out_is_stopped_reported_and_ignored(harness: Harness) -> None:
    body = "time.sleep(30)\nsys.exit(2)\n"
    policy = harness.policy(on("PreToolUse", harness.script("slow", body), timeout=0.5))
    assert policy.before_tool(READ_APP).allowed
    assert any("timed out after 0.5s" in warning for warning in harness.warnings)


def test_a_failing_hook_is_reported_and_does_not_block(harness: Harness) -> None:
    body = "print('hook crashed', file=sys.stderr)\nsys.exit(1)\n"
    policy = harness.policy(on("PreToolUse", harness.script("crash", body)))
    assert policy.before_tool(READ_APP).allowed
    assert any("exit code 1: hook crashed" in warning for warning in harness.warnings)


def test_post_tool_use_sees_the_response_and_adds_context(harness: Harness, tmp_path: Path) -> None:
    record = tmp_path / "post.json"
    body = (
        f"open({str(record)!r}, 'w').write(json.dumps(event))\n"
        "ctx = {'hookEventName': 'PostToolUse', 'additionalContext': 'remember to run tests'}\n"
        "print(json.dumps({'hookSpecificOutput': ctx}))\n"
    )
    policy = harness.policy(on("PostToolUse", harness.script("post", body), matcher="Read"))
    context = policy.after_tool(READ_APP, ToolResult("     1→print('hello')"))
    assert context == "remember to run tests"
    event = json.loads(record.read_text())
    assert event["tool_response"] == {"content": "     1→print('hello')", "is_error": False}
    assert event["tool_input"] == {"file_path": "src/app.py"}


@pytest.mark.parametrize(
    "body",
    [
        "print('lint failed: E501', file=sys.stderr)\nsys.exit(2)\n",
        "print(json.dumps({'decision': 'block', 'reason': 'lint failed: E501'}))\n",
    ],
    ids=["exit-2", "json-block"],
)
def test_post_tool_use_block_feeds_the_reason_to_the_model(harness: Harness, body: str) -> None:
    policy = harness.policy(on("PostToolUse", harness.script("lint", body)))
    assert "lint failed: E501" in policy.after_tool(WRITE_NEW, ToolResult("ok"))


def test_user_prompt_submit_adds_plain_stdout_as_context(harness: Harness, tmp_path: Path) -> None:
    body = "print('Ticket: ' + event['prompt'].upper())\n"
    policy = harness.policy(on("UserPromptSubmit", harness.script("ctx", body)))
    decision = policy.on_user_prompt("fix bug 7")
    assert not decision.blocked and decision.additional_context == "Ticket: FIX BUG 7"


@pytest.mark.parametrize(
    "body",
    [
        "print('no secrets in prompts', file=sys.stderr)\nsys.exit(2)\n",
        "print(json.dumps({'decision': 'block', 'reason': 'no secrets in prompts'}))\n",
    ],
    ids=["exit-2", "json-block"],
)
def test_user_prompt_submit_can_block_the_prompt(harness: Harness, body: str) -> None:
    policy = harness.policy(on("UserPromptSubmit", harness.script("guard", body)))
    decision = policy.on_user_prompt("my password is hunter2")
    assert decision.blocked and decision.reason == "no secrets in prompts"


def test_stop_hook_keeps_the_agent_going_once_then_sees_stop_hook_active(
    harness: Harness,
) -> None:
    body = (
        "if event['stop_hook_active']:\n    sys.exit(0)\n"
        "print('tests were not run', file=sys.stderr)\nsys.exit(2)\n"
    )
    policy = harness.policy(on("Stop", harness.script("stop", body)))
    assert policy.on_stop("done") == "tests were not run"
    assert policy.on_stop("done, tests pass") == ""


def test_stop_hook_json_block(harness: Harness) -> None:
    body = "print(json.dumps({'decision': 'block', 'reason': 'write the report first'}))\n"
    policy = harness.policy(on("Stop", harness.script("stop", body)))
    assert policy.on_stop("done") == "write the report first"


@pytest.mark.parametrize(
    "body",
    [
        "print('Branch: main; open ticket: API-12')\n",
        "ctx = {'hookEventName': 'SessionStart', 'additionalContext': 'Branch: main; open ticket: "
        "API-12'}\nprint(json.dumps({'hookSpecificOutput': ctx}))\n",
    ],
    ids=["plain", "json"],
)
def test_session_start_adds_context(harness: Harness, body: str) -> None:
    policy = harness.policy(on("SessionStart", harness.script("start", body), matcher="startup"))
    assert policy.on_session_start("startup") == "Branch: main; open ticket: API-12"
    assert policy.on_session_start("resume") == ""  # the matcher names the source


def test_hooks_from_agent_frontmatter_run_after_settings_hooks(
    harness: Harness, tmp_path: Path
) -> None:
    log = tmp_path / "order.log"
    first = harness.script("first", f"open({str(log)!r}, 'a').write('settings\\n')\n")
    second = harness.script("second", f"open({str(log)!r}, 'a').write('agent\\n')\n")
    policy = harness.policy(on("SessionStart", first), agent_hooks=on("SessionStart", second))
    policy.on_session_start("startup")
    assert log.read_text() == "settings\nagent\n"


def test_invalid_hook_configuration_is_a_user_error() -> None:
    with pytest.raises(UserError, match="not a valid regex"):
        parse_hooks(on("PreToolUse", "true", matcher="Edit("), "settings.json")
    with pytest.raises(UserError, match=r"settings.json: hooks\.PreToolUse"):
        parse_hooks({"PreToolUse": "not a list"}, "settings.json")
