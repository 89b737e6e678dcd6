"""Starting a run's MCP servers: which are configured for it, and which of their tools it keeps.
The SDK is imported only when at least one server is configured."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from backend_agent.mcp.config import ServerConfig, configured_servers
from backend_agent.mcp.names import mcp_tool_filter

if TYPE_CHECKING:
    from backend_agent.definitions import AgentDefinition
    from backend_agent.mcp.client import McpManager
    from backend_agent.tools.session import ToolSession


@dataclass
class McpOptions:
    """What the user chose about MCP servers: ``--mcp-config`` values (files or JSON) and
    ``--strict-mcp-config`` (only those servers)."""

    configs: list[str] = field(default_factory=list)
    strict: bool = False


def start_run_servers(
    cwd: Path,
    options: McpOptions,
    definition: AgentDefinition,
    session: ToolSession,
    *,
    tools: Sequence[str] | None,
    disallowed_tools: Sequence[str],
    report: Callable[[str], None],
    served_in_process: Sequence[str] = (),
) -> McpManager | None:
    """Start the servers configured for this run and add the tools it may use (``tools`` and
    ``disallowed_tools`` narrow them, as the agent's own lists do) to ``session``; None when
    there are none. Problems with single servers go to ``report``; the run goes on.

    ``served_in_process`` names built-in servers the run has in process: a configured entry
    of that name running ``backend-agent mcp serve`` (e.g. a ``.mcp.json`` shared with
    Claude Code) is not started, since the same tools are already there."""
    servers = configured_servers(
        cwd,
        mcp_configs=options.configs,
        strict=options.strict,
        agent=definition.name,
        agent_entries=definition.mcp_servers,
        report=report,
    )
    servers = [s for s in servers if not (s.name in served_in_process and runs_backend_server(s))]
    if not servers:
        return None
    from backend_agent.mcp.tools import attach_servers

    keep = mcp_tool_filter(
        [definition.tools, tools], [*definition.disallowed_tools, *disallowed_tools]
    )
    return attach_servers(session, servers, keep=keep, report=report)


def runs_backend_server(server: ServerConfig) -> bool:
    """Whether a configured server is this program's own ``mcp serve``."""
    words = [server.command.rsplit("/", 1)[-1], *server.args]
    program = any(w in ("backend-agent", "backend_agent") for w in words)
    return server.transport == "stdio" and program and "mcp" in words and "serve" in words
