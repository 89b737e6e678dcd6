"""``open_session`` and ``run``: each option reaches the part of the session it configures, bad
options are named, plain options cross into a worker process, and ``RunResult.to_json()`` is
exactly the CLI's JSON result."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

import backend_agent
from backend_agent.definitions import AgentDefinition
from backend_agent.errors import UserError

from .conftest import Provider

WRITE = {
    "tool_calls": [{"name": "Write", "input": {"file_path": "src/a.py", "content": "a = 1\n"}}]
}


JSON = ("--output-format", "json")


def script_file(directory: Path, turns: list[Any], name: str = "script.yaml") -> str:
    path = directory / name
    path.write_text(yaml.safe_dump({"model": "claude-haiku-4-5", "turns": turns}))
    return f"scripted:{path}"


def test_the_permission_mode_lets_edits_run(project: Path, provider: Provider) -> None:
    with backend_agent.open_session(
        project, permission_mode="acceptEdits", **provider.options([WRITE, "Written."])
    ) as session:
        result = session.prompt("write a")
    assert result.subtype == "success" and result.permission_denials == []
    assert (project / "src" / "a.py").read_text() == "a = 1\n"
    assert session.permission_mode == "acceptEdits"


def test_allowed_and_disallowed_tools_are_rules(project: Path, scripted: Provider) -> None:
    bash = {"tool_calls": [{"name": "Bash", "input": {"command": "echo one"}}]}
    with backend_agent.open_session(
        project,
        allowed_tools=["Bash(echo:*)", "Edit(/src/**)"],
        disallowed_tools=["Bash(echo one)"],
        sandbox="off",
        **scripted.options([WRITE, bash, "Done."]),
    ) as session:
        result = session.prompt("go")
    assert (project / "src" / "a.py").exists()
    assert [d["tool_name"] for d in result.permission_denials] == ["Bash"]


def test_setting_sources_choose_which_settings_files_apply(
    project: Path, scripted: Provider
) -> None:
    settings = project / ".claude" / "settings.json"
    settings.parent.mkdir()
    allow_src = json.dumps({"permissions": {"allow": ["Edit(/src/**)"]}})
    settings.write_text(allow_src)

    def denials(**options: Any) -> int:
        with backend_agent.open_session(
            project, **options, **scripted.options([WRITE, "ok"])
        ) as session:
            return len(session.prompt("write").permission_denials)

    assert denials() == 0
    assert denials(setting_sources=("user", "local")) == 1
    assert denials(setting_sources=(), settings=[allow_src]) == 0


def test_the_agent_can_be_a_name_a_file_or_a_definition(
    project: Path, scripted: Provider, tmp_path: Path
) -> None:
    agent_file = tmp_path / "reviewer.md"
    agent_file.write_text("---\nname: reviewer\ndescription: reviews\ntools: Read\n---\nReview.\n")
    project_agents = project / ".claude" / "agents"
    project_agents.mkdir(parents=True)
    (project_agents / "helper.md").write_text("---\nname: helper\ndescription: helps\n---\nHelp.\n")
    inline = AgentDefinition("inline", "inline", "Be inline.", tools=("Grep",))
    chosen = {
        "helper": "helper",
        "reviewer": agent_file,
        "reviewer ": str(agent_file),
        "inline": inline,
        "backend-agent": None,
    }
    for expected, agent in chosen.items():
        with backend_agent.open_session(
            project, agent=agent, **scripted.options(["ok"])
        ) as session:
            assert session.definition.name == expected.strip()
    with pytest.raises(UserError, match="no agent named 'nobody'"):
        backend_agent.open_session(project, agent="nobody", **scripted.options([]))


def test_prompts_and_limits(project: Path, scripted: Provider) -> None:
    model = scripted.options([WRITE, WRITE, "never"])["model"]
    with backend_agent.open_session(
        project,
        model=model,
        system_prompt="You are terse.",
        append_system_prompt="Answer in French.",
        max_turns=1,
    ) as session:
        result = session.prompt("go")
    assert result.subtype == "error_max_turns" and result.num_turns == 1
    system = model.requests[0].system
    assert system.startswith("You are terse.") and "Answer in French." in system


def test_mcp_servers_are_checked_and_named(project: Path) -> None:
    with pytest.raises(UserError, match=r"open_session\(mcp_servers=\.\.\.\): MCP server 'db'"):
        backend_agent.open_session(project, mcp_servers={"db": {"type": "ftp"}})


def test_bad_options_are_named(project: Path) -> None:
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\): permissions"):
        backend_agent.open_session(project, permissions="all")
    with pytest.raises(UserError, match="permission_mode='yolo': choose one of default"):
        backend_agent.open_session(project, permission_mode="yolo")
    with pytest.raises(UserError, match="sandbox='maybe': choose auto, required or off"):
        backend_agent.open_session(project, sandbox="maybe")
    with pytest.raises(UserError, match="not a directory"):
        backend_agent.open_session(project / "missing")


def test_plain_options_run_in_a_worker_process(project: Path, tmp_path: Path) -> None:
    """What the batch runner does: options as plain data, the run in another process."""
    options = {
        "cwd": str(project),
        "model": script_file(tmp_path, [WRITE, "Written."]),
        "permission_mode": "acceptEdits",
        "allowed_tools": ["Bash(npm test)"],
        "hooks": {"Stop": ["true"]},
        "setting_sources": [],
        "max_turns": 5,
    }
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        result = pool.submit(backend_agent.run, "write a", **options).result(timeout=120)
    assert result.subtype == "success" and result.result == "Written."
    assert (project / "src" / "a.py").read_text() == "a = 1\n"


def test_to_json_is_exactly_the_cli_json_result(project: Path, tmp_path: Path) -> None:
    turns = [WRITE, {"text": "Done.", "usage": {"input_tokens": 12, "output_tokens": 3}}]
    model = script_file(tmp_path, turns)
    cli = subprocess.run(
        [sys.executable, "-m", "backend_agent", "-p", "write a", "--model", model, *JSON],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    printed = json.loads(cli.stdout)
    result = backend_agent.run("write a", cwd=project, model=model)
    ours = result.to_json()
    assert list(ours) == list(printed)  # the same fields, in the same order
    varying = {"session_id", "duration_ms", "duration_api_ms"}
    assert {k: v for k, v in ours.items() if k not in varying} == {
        k: v for k, v in printed.items() if k not in varying
    }
    assert printed["permission_denials"][0]["tool_name"] == "Write"
    assert printed["usage"]["input_tokens"] == 12
