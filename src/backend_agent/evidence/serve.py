"""``backend-agent mcp serve``: the evidence tools over stdio MCP, on the official SDK, for
Claude Code, Codex or any MCP client. Outside a session, a change is measured from a git
revision (``since``; ``HEAD`` by default: the uncommitted work, untracked files included).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from backend_agent import __version__
from backend_agent.errors import UserError
from backend_agent.evidence.source import ProjectEvidence
from backend_agent.evidence.tools import TOOLS, call_tool

SERVER_NAME = "backend"
INSTRUCTIONS = (
    "Evidence about this backend repository, read from the code with no model: endpoints and "
    "contract changes, migration impact, security findings, stack and test commands."
)


def build_server(root: Path) -> Server[Any]:
    """The ``backend`` server over the project at ``root``."""
    evidence = ProjectEvidence(root)
    listed = [
        types.Tool(
            name=tool.name,
            description=tool.description,
            input_schema=tool.input_schema,
            annotations=types.ToolAnnotations(read_only_hint=True, open_world_hint=False),
        )
        for tool in TOOLS.values()
    ]

    async def list_tools(context: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=listed)

    async def call(context: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        arguments = dict(params.arguments or {})
        try:
            text = await anyio.to_thread.run_sync(call_tool, evidence, params.name, arguments)
        except UserError as error:
            return _text(str(error), error=True)
        except Exception as error:  # an engine bug: answer with it, keep serving
            return _text(f"{params.name} failed: {type(error).__name__}: {error}", error=True)
        return _text(text)

    return Server(
        SERVER_NAME,
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call,
    )


def _text(text: str, *, error: bool = False) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=error)


def serve_stdio(root: Path) -> None:
    """Serve until the client closes stdin."""
    server = build_server(root)

    async def main() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    anyio.run(main)
