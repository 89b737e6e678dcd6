"""A run's MCP servers come from its agent too: inline frontmatter entries start with the run,
the agent's tool list narrows MCP tools when it names some, and closing the run stops them."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from mcp_helpers import DEMO_SERVER, demo_entry

from backend_agent.mcp.names import tool_name
from backend_agent.models.registry import ModelChoice
from backend_agent.sessions.config import AgentChoice, SessionConfig
from backend_agent.sessions.session import Session


def write_agent(project: Path, frontmatter: str) -> None:
    agents = project / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "api-checker.md").write_text(
        f"---\nname: api-checker\ndescription: d\n{frontmatter}---\nCheck the API.\n"
    )


def test_agent_frontmatter_servers_start_with_the_run_and_stop_with_it(project: Path) -> None:
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"shared": demo_entry()}}))
    inline = json.dumps({"own": {"command": demo_entry()["command"], "args": [str(DEMO_SERVER)]}})
    write_agent(
        project,
        f"tools: Read, mcp__own__echo, mcp__shared\nmcpServers:\n  - shared\n  - {inline}\n",
    )
    script = project / "script.yaml"
    script.write_text("turns: ['ok']")
    config = SessionConfig(
        cwd=project, agent=AgentChoice("api-checker"), model=ModelChoice(f"scripted:{script}")
    )

    with Session.open(config) as run:
        tools = run.tools.tool_names
        assert "mcp__own__echo" in tools and "mcp__own__add" not in tools
        assert {"mcp__shared__echo", "mcp__shared__add"} <= set(tools)
        assert "mcp__own__echo" in run.init_record()["tools"]
        mcp = run.parts.mcp
        assert mcp is not None
        assert run.tools.call("mcp__own__echo", {"text": "inline"}).content == "inline"
    assert {c.status for c in mcp.connections.values()} == {"stopped"}


@given(server=st.text(max_size=40), tool=st.text(min_size=1, max_size=80))
def test_tool_names_always_fit_the_model_apis(server: str, tool: str) -> None:
    name = tool_name(server, tool)
    assert name.startswith("mcp__") and len(name) <= 64
    assert all(char.isascii() and (char.isalnum() or char in "_-") for char in name)
