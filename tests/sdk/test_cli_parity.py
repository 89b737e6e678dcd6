"""The command line and the Python API configure the same session: every run flag has an
``open_session`` option (or is named here as what only a terminal needs), and the options
added for that reach the part of the session they set, as their flags do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import backend_agent
from backend_agent.api import SessionOptions
from backend_agent.commands.run import build_parser
from backend_agent.errors import UserError

from .conftest import Provider

# flag (argparse dest) -> the open_session option that does the same
SAME_AS = {
    "agent": "agent",
    "agent_file": "agent",
    "agents": "agents",
    "cwd": "cwd",
    "system_prompt": "system_prompt",
    "append_system_prompt": "append_system_prompt",
    "continue_latest": "continue_conversation",
    "resume": "resume",
    "fork_session": "fork",
    "session_id": "session_id",
    "model": "model",
    "base_url": "base_url",
    "max_output_tokens": "max_output_tokens",
    "max_turns": "max_turns",
    "max_budget_usd": "max_budget_usd",
    "compact_threshold": "compact_threshold",
    "permission_mode": "permission_mode",
    "tools": "available_tools",
    "allowed_tools": "allowed_tools",
    "disallowed_tools": "disallowed_tools",
    "settings": "settings",
    "add_dir": "add_dirs",
    "sandbox": "sandbox",
    "sandbox_network": "sandbox_network",
    "evidence_check": "evidence_check",
    "mcp_config": "mcp_servers",
    "strict_mcp_config": "strict_mcp_config",
}
# what only the terminal needs: the prompt and how the answer is printed, help, errors
TERMINAL_ONLY = {"help", "version", "prompt", "print", "output_format", "verbose", "debug"}
WRITE = {
    "tool_calls": [{"name": "Write", "input": {"file_path": "src/a.py", "content": "a = 1\n"}}]
}


def test_every_run_flag_has_an_open_session_option() -> None:
    flags = {action.dest for action in build_parser()._actions}
    assert flags - TERMINAL_ONLY == set(SAME_AS), "a flag without an SDK option, or a stale map"
    options = set(SessionOptions.__optional_keys__) | {"cwd"}
    assert set(SAME_AS.values()) <= options


def test_max_output_tokens_is_what_each_request_asks_for(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    anthropic = Provider("anthropic", monkeypatch)
    try:
        with backend_agent.open_session(
            project, max_output_tokens=1234, **anthropic.options([WRITE, "Done."])
        ) as session:
            session.prompt("write a")
        assert anthropic._anthropic is not None
        assert [r.body["max_tokens"] for r in anthropic._anthropic.requests] == [1234, 1234]
    finally:
        anthropic.close()


def test_available_tools_are_the_only_built_in_tools_offered(
    project: Path, scripted: Provider
) -> None:
    with backend_agent.open_session(
        project, available_tools=["Read", "Grep"], **scripted.options(["Nothing to do."])
    ) as session:
        session.prompt("look")
    (offered,) = scripted.played().tools
    assert sorted(name for name in offered if not name.startswith("mcp__")) == ["Grep", "Read"]

    with backend_agent.open_session(
        project, available_tools=[], strict_mcp_config=True, **scripted.options(["ok"])
    ) as session:
        session.prompt("look")
    assert scripted.played().tools[-1] == []


def test_extra_agents_can_be_chosen_by_name(project: Path, scripted: Provider) -> None:
    model = scripted.options(["Hello."])["model"]
    agents = {"greeter": {"description": "Greets.", "prompt": "You only greet people."}}
    with backend_agent.open_session(
        project, agents=agents, agent="greeter", model=model
    ) as session:
        assert session.definition.name == "greeter"
        session.prompt("hi")
    assert model.requests[0].system.startswith("You only greet people.")


@pytest.mark.parametrize(
    ("threshold", "share", "auto"), [(0.7, 0.7, True), ("60%", 0.6, True), ("off", 0.8, False)]
)
def test_the_compaction_threshold_and_window_set_the_context_budget(
    project: Path, scripted: Provider, threshold: Any, share: float, auto: bool
) -> None:
    with backend_agent.open_session(
        project, compact_threshold=threshold, context_window=32_768, **scripted.options([])
    ) as session:
        usage = session.context_usage()
    assert usage.window == 32_768 and usage.auto_compact is auto
    assert usage.threshold == int((usage.window - usage.output_reserve) * share)


def test_sandbox_network_opens_the_network_of_shell_commands(
    project: Path, scripted: Provider
) -> None:
    for network in (None, True):
        with backend_agent.open_session(
            project, sandbox_network=network, **scripted.options([])
        ) as session:
            launcher: Any = session.tools.shell.launcher
            assert launcher.config.network is bool(network)


def test_bad_values_of_the_new_options_are_named(project: Path) -> None:
    bad: dict[str, tuple[Any, str]] = {
        "max_output_tokens": (0, "max_output_tokens=0: expected a positive whole number"),
        "context_window": ("big", "context_window='big': expected a positive whole number"),
        "compact_threshold": ("150%", "compact_threshold '150%': give a share"),
        "evidence_check": ("loud", "evidence_check='loud': choose one of off, warn, revise"),
    }
    for name, (value, message) in bad.items():
        with pytest.raises(UserError, match=message.replace("(", r"\(")):
            backend_agent.open_session(project, **{name: value})
    with pytest.raises(UserError, match="compact_threshold=True"):
        backend_agent.open_session(project, compact_threshold=True)


def test_warnings_reach_on_warning_not_the_terminal(
    project: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A program hears what the CLI prints as warnings: a retried request, a hook of a kind
    that does not run (both went straight to stderr before)."""
    from fakes.anthropic_server import ErrorReply

    anthropic = Provider("anthropic", monkeypatch)
    try:
        anthropic.options([])  # starts the server: first it is overloaded, then it answers
        assert anthropic._anthropic is not None
        anthropic._anthropic.add(ErrorReply(529, "overloaded_error", "busy"))
        options = anthropic.options(["Done."])
        monkeypatch.setenv("BACKEND_AGENT_MAX_RETRIES", "1")
        monkeypatch.setenv("BACKEND_AGENT_RETRY_BASE_DELAY", "0.01")
        settings = {"hooks": {"Stop": [{"hooks": [{"type": "prompt", "prompt": "check"}]}]}}
        warnings: list[str] = []
        with backend_agent.open_session(
            project,
            settings=[json.dumps(settings)],
            on_warning=warnings.append,
            **options,
        ) as session:
            result = session.prompt("hi")
    finally:
        anthropic.close()
    assert result.result == "Done."
    assert any("hooks.Stop: skipped a hook of type 'prompt'" in w for w in warnings), warnings
    assert any("retrying in" in w and "overloaded" in w for w in warnings), warnings
    assert capfd.readouterr().err == ""
