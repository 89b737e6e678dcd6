"""Assembling a run from options: agent, model, tools, prompt, transcript."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import backend_agent
from backend_agent.errors import UserError
from backend_agent.runtime.assembly import assemble
from backend_agent.runtime.options import RunOptions


@pytest.fixture
def scripted(tmp_path: Path) -> str:
    path = tmp_path / "script.yaml"
    path.write_text("model: claude-haiku-4-5\nturns: ['hello from the script']")
    return f"scripted:{path}"


def write_agent(project: Path, text: str) -> None:
    agents = project / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "narrow.md").write_text(text)


def test_agent_tools_and_disallowed_tools_filter_the_session(project: Path, scripted: str) -> None:
    write_agent(
        project,
        "---\nname: narrow\ndescription: d\ntools: Read, Bash, Edit\n"
        "disallowedTools: Edit\n---\nNarrow.\n",
    )
    options = RunOptions(
        cwd=project, prompt="hi", agent="narrow", model=scripted, tools=["Read", "Edit"]
    )
    assembled = assemble(options, interactive=False)
    try:
        assert assembled.session.tool_names == ["Read"]
        assert [spec.name for spec in assembled.session.specs()] == ["Read"]
    finally:
        assembled.close()


def test_prompt_options_and_limits_reach_the_agent(project: Path, scripted: str) -> None:
    options = RunOptions(
        cwd=project,
        prompt="hi",
        model=scripted,
        system_prompt="CUSTOM",
        append_system_prompt="EXTRA",
        max_turns=3,
        max_budget_usd=0.5,
    )
    assembled = assemble(options, interactive=False)
    try:
        agent = assembled.agent
        assert agent.system_prompt.startswith("CUSTOM\n") and "EXTRA" in agent.system_prompt
        assert "# Backend Agent" not in agent.system_prompt
        assert (agent.max_turns, agent.max_budget_usd) == (3, 0.5)
        assert assembled.definition.name == "backend-agent"
        assert assembled.permission_mode == "default"
    finally:
        assembled.close()


def test_the_transcript_starts_with_the_init_record(
    project: Path, scripted: str, isolated_home: Path
) -> None:
    assembled = assemble(RunOptions(cwd=project, prompt="hi", model=scripted), interactive=False)
    assembled.close()
    path = isolated_home / ".backend-agent" / "sessions" / f"{assembled.agent.session_id}.jsonl"
    (record,) = [json.loads(line) for line in path.read_text().splitlines()]
    assert record["type"] == "system" and record["subtype"] == "init"
    assert record["model"] == "claude-haiku-4-5" and record["cwd"] == str(project)


def test_a_missing_directory_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not a directory"):
        assemble(RunOptions(cwd=tmp_path / "absent", prompt="hi"), interactive=False)


def test_the_python_api_runs_a_prompt(project: Path, scripted: str) -> None:
    result = backend_agent.run("hi", cwd=project, model=scripted)
    assert result.subtype == "success" and result.result == "hello from the script"
