"""MCP tools as ordinary tools: ``mcp__<server>__<tool>`` with the server's description and input
schema, results mapped to ToolResult, and the start-up that adds a session's servers' tools.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import Any

import mcp_types

from backend_agent.errors import UserError
from backend_agent.mcp.client import (
    CallTimedOut,
    McpManager,
    RemoteTool,
    ServerLost,
    describe_error,
)
from backend_agent.mcp.config import MissingVariable, ServerConfig
from backend_agent.mcp.names import server_prefix, tool_name
from backend_agent.messages import ImageBlock, ToolSpec
from backend_agent.tools.base import ToolResult
from backend_agent.tools.builtin import MAX_OUTPUT_CHARS, truncate
from backend_agent.tools.session import ToolSession

DEFAULT_STARTUP_SECONDS = 30.0
DEFAULT_CALL_SECONDS = 600.0


class McpTool:
    """One tool of a connected server; calls go through the manager's loop."""

    def __init__(
        self,
        server: str,
        remote: RemoteTool,
        manager: McpManager,
        on_server_lost: Callable[[str], None],
    ) -> None:
        self.server = server
        self.remote = remote
        self._name = tool_name(server, remote.name)
        self._manager = manager
        self._on_server_lost = on_server_lost

    @property
    def name(self) -> str:
        return self._name

    def spec(self) -> ToolSpec:
        schema = self.remote.input_schema or {"type": "object", "properties": {}}
        return ToolSpec(self._name, self.remote.description, schema)

    def run(self, input: dict[str, Any], session: ToolSession) -> ToolResult:
        try:
            result = self._manager.call(self.server, self.remote.name, input)
        except ServerLost as exc:
            self._on_server_lost(self.server)
            return ToolResult.error(
                f"MCP server '{self.server}' stopped during {self._name}: {exc}. "
                "Its tools are no longer available."
            )
        except CallTimedOut as exc:
            return ToolResult.error(f"{self._name} failed: {exc}")
        except Exception as exc:
            return ToolResult.error(f"{self._name} failed: {describe_error(exc)}")
        return tool_result(result, session.output_cap)


def tool_result(result: mcp_types.CallToolResult, cap: int = MAX_OUTPUT_CHARS) -> ToolResult:
    """Text parts joined (capped at ``cap`` characters, like built-in tool output), images
    kept as images."""
    texts: list[str] = []
    images: list[ImageBlock] = []
    for part in result.content:
        if isinstance(part, mcp_types.TextContent):
            texts.append(part.text)
        elif isinstance(part, mcp_types.ImageContent):
            images.append(ImageBlock(part.data, part.mime_type))
        elif isinstance(part, mcp_types.EmbeddedResource):
            resource = part.resource
            if isinstance(resource, mcp_types.TextResourceContents):
                texts.append(resource.text)
            else:
                texts.append(f"[binary resource {resource.uri} ({resource.mime_type}) omitted]")
        elif isinstance(part, mcp_types.ResourceLink):
            texts.append(f"[resource {part.name}: {part.uri}]")
        else:
            texts.append(f"[{part.type} content omitted]")
    if not texts and result.structured_content is not None:
        texts.append(json.dumps(result.structured_content, indent=2))
    text = truncate("\n".join(texts), limit=cap)
    if result.is_error:
        return ToolResult.error(text or "the tool reported an error without a message")
    if not text and not images:
        text = "(the tool returned no content)"
    return ToolResult(text, images=tuple(images))


def attach_servers(
    session: ToolSession,
    servers: Sequence[ServerConfig],
    *,
    keep: Callable[[str], bool],
    report: Callable[[str], None],
) -> McpManager:
    """Start ``servers`` and add their tools to ``session``; a server that cannot start is
    reported and skipped, one that stops later has its tools withdrawn."""
    startup_timeout = _seconds_from_env("MCP_TIMEOUT", DEFAULT_STARTUP_SECONDS)
    call_timeout = _seconds_from_env("MCP_TOOL_TIMEOUT", DEFAULT_CALL_SECONDS)
    runnable: list[ServerConfig] = []
    for server in servers:
        try:
            runnable.append(server.expanded(os.environ))
        except MissingVariable as exc:
            report(f"{exc}; the server is skipped")
    manager = McpManager(
        runnable, cwd=session.cwd, startup_timeout=startup_timeout, call_timeout=call_timeout
    )
    manager.start()

    def withdraw(server: str) -> None:
        prefix = server_prefix(server)
        for name in session.tool_names:
            if name.startswith(prefix):
                session.remove_tool(name)
        message = manager.take_report(server)
        if message:
            report(message)

    def add_tools(name: str) -> None:
        """The server's tools as it lists them now (a reconnected server may list others)."""
        prefix = server_prefix(name)
        for stale in [tool for tool in session.tool_names if tool.startswith(prefix)]:
            session.remove_tool(stale)
        for remote in manager.connections[name].tools:
            tool = McpTool(name, remote, manager, withdraw)
            if keep(tool.name):
                session.add_tool(tool)

    for name in manager.connections:
        message = manager.take_report(name)
        if message:
            report(message)
        add_tools(name)
    manager.on_reconnected = add_tools
    return manager


def _seconds_from_env(variable: str, default: float) -> float:
    """A time limit given in milliseconds, as Claude Code reads ``MCP_TIMEOUT``."""
    value = os.environ.get(variable, "").strip()
    if not value:
        return default
    try:
        milliseconds = float(value)
    except ValueError:
        raise UserError(f"{variable}={value!r}: expected a number of milliseconds") from None
    if milliseconds <= 0:
        raise UserError(f"{variable}={value!r}: expected a positive number of milliseconds")
    return milliseconds / 1000
