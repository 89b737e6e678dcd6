"""Starting a run's MCP servers: which are configured for it, and which of their tools it keeps.
The SDK is imported only when at least one server is configured."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from backend_agent.mcp.config import configured_servers

if TYPE_CHECKING:
    from backend_agent.definitions import AgentDefinition
    from backend_agent.mcp.client import McpManager
    from backend_agent.runtime.options import RunOptions
    from backend_agent.tools.session import ToolSession


def start_run_servers(
    options: RunOptions,
    definition: AgentDefinition,
    session: ToolSession,
    report: Callable[[str], None],
) -> McpManager | None:
    """Start the servers configured for this run and add their tools to ``session``; None when
    there are none. Problems with single servers go to ``report``; the run goes on."""
    servers = configured_servers(
        options.cwd,
        mcp_configs=options.mcp_configs,
        strict=options.strict_mcp_config,
        agent=definition.name,
        agent_entries=definition.mcp_servers,
        report=report,
    )
    if not servers:
        return None
    from backend_agent.mcp.tools import attach_servers, mcp_tool_filter

    keep = mcp_tool_filter(
        [definition.tools, options.tools], [*definition.disallowed_tools, *options.disallowed_tools]
    )
    return attach_servers(session, servers, keep=keep, report=report)
