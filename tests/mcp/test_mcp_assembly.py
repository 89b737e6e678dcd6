"""A run's MCP servers come from its agent too: inline frontmatter entries start with the run,
the agent's tool list narrows MCP tools when it names some, and closing the run stops them."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from mcp_helpers import DEMO_SERVER, demo_entry

from backend_agent.mcp.tools import tool_name
from backend_agent.runtime.assembly import assemble
from backend_agent.runtime.options import RunOptions


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
    options = RunOptions(cwd=project, prompt="hi", agent="api-checker", model=f"scripted:{script}")

    run = assemble(options, interactive=False)
    try:
        tools = run.session.tool_names
        assert "mcp__own__echo" in tools and "mcp__own__add" not in tools
        assert {"mcp__shared__echo", "mcp__shared__add"} <= set(tools)
        assert "mcp__own__echo" in run.init_record()["tools"]
        assert run.mcp is not None
        assert run.session.call("mcp__own__echo", {"text": "inline"}).content == "inline"
    finally:
        run.close()
    assert {c.status for c in run.mcp.connections.values()} == {"stopped"}


@given(server=st.text(max_size=40), tool=st.text(min_size=1, max_size=80))
def test_tool_names_always_fit_the_model_apis(server: str, tool: str) -> None:
    name = tool_name(server, tool)
    assert name.startswith("mcp__") and len(name) <= 64
    assert all(char.isascii() and (char.isalnum() or char in "_-") for char in name)
