"""Opening a session from its configuration: agent, model, tools, prompt, transcript."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import backend_agent
from backend_agent import paths
from backend_agent.errors import UserError
from backend_agent.models.registry import ModelChoice
from backend_agent.runtime.results import Limits
from backend_agent.sessions.config import AgentChoice, SessionConfig
from backend_agent.sessions.session import Session


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
    config = SessionConfig(
        cwd=project,
        agent=AgentChoice("narrow", tools=["Read", "Edit"]),
        model=ModelChoice(scripted),
    )
    with Session.open(config) as session:  # no MCP entry named: MCP tools are left alone
        builtin = [name for name in session.tools.tool_names if not name.startswith("mcp__")]
        assert builtin == ["Read"]
        assert next(spec.name for spec in session.tools.specs()) == "Read"


def test_prompt_options_and_limits_reach_the_agent(project: Path, scripted: str) -> None:
    config = SessionConfig(
        cwd=project,
        agent=AgentChoice(system_prompt="CUSTOM", append_system_prompt="EXTRA"),
        model=ModelChoice(scripted),
        limits=Limits(max_turns=3, max_budget_usd=0.5),
    )
    with Session.open(config) as session:
        agent = session.agent
        assert agent.system_prompt.startswith("CUSTOM\n") and "EXTRA" in agent.system_prompt
        assert "# Backend Agent" not in agent.system_prompt
        assert (agent.max_turns, agent.max_budget_usd) == (3, 0.5)
        assert session.definition.name == "backend-agent"
        assert session.permission_mode == "default"


def test_the_transcript_starts_with_the_init_record(
    project: Path, scripted: str, isolated_home: Path
) -> None:
    with Session.open(SessionConfig(cwd=project, model=ModelChoice(scripted))) as session:
        path = session.transcript_path
    slug = str(project).replace("/", "-").replace("_", "-")
    assert path == isolated_home / ".backend-agent" / "projects" / slug / f"{session.id}.jsonl"
    assert path == paths.session_file(project, session.id)
    init, system_prompt = [json.loads(line) for line in path.read_text().splitlines()]
    assert init["type"] == "system" and init["subtype"] == "init"
    assert init["model"] == "claude-haiku-4-5" and init["cwd"] == str(project)
    assert init["sandbox"] in ("bubblewrap", "none")
    assert system_prompt["subtype"] == "system_prompt"
    assert system_prompt["text"] == session.agent.system_prompt
    assert system_prompt["parentUuid"] == init["uuid"] and init["parentUuid"] is None


def test_a_missing_directory_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not a directory"):
        Session.open(SessionConfig(cwd=tmp_path / "absent"))


def test_the_python_api_runs_a_prompt(project: Path, scripted: str) -> None:
    result = backend_agent.run("hi", cwd=project, model=scripted)
    assert result.subtype == "success" and result.result == "hello from the script"
