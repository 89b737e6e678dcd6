"""The built-in MCP server ``backend``, in process: the evidence tools as ordinary tools named
``mcp__backend__<tool>``, added to a session like any MCP server's tools (so an agent's
``tools:`` narrows them only when it names MCP entries) and run without a permission prompt
(they only read the project)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend_agent.errors import UserError
from backend_agent.evidence.source import ProjectEvidence
from backend_agent.evidence.tools import TOOLS, EvidenceTool, call_tool
from backend_agent.messages import ToolSpec
from backend_agent.tools.base import ToolResult
from backend_agent.tools.builtin import truncate
from backend_agent.tools.session import ToolSession

SERVER = "backend"
PREFIX = f"mcp__{SERVER}__"


class BackendTool:
    """One evidence tool as the model calls it: never raises, answers in text."""

    def __init__(self, tool: EvidenceTool, evidence: ProjectEvidence) -> None:
        self.tool = tool
        self.evidence = evidence

    @property
    def name(self) -> str:
        return PREFIX + self.tool.name

    def spec(self) -> ToolSpec:
        return ToolSpec(self.name, self.tool.description, self.tool.input_schema)

    def run(self, input: dict[str, Any], session: ToolSession) -> ToolResult:
        try:
            # Capped like every MCP tool's result: whole up to the spill's cap, so a large
            # answer is saved to a file in full and previewed (tools.spill).
            text = call_tool(self.evidence, self.tool.name, input)
            return ToolResult(truncate(text, limit=session.output_cap))
        except UserError as error:
            return ToolResult.error(f"{self.name}: {error}")
        except Exception as error:  # an engine bug: the model can still work without it
            return ToolResult.error(f"{self.name} failed: {type(error).__name__}: {error}")


def attach_backend_tools(
    session: ToolSession, evidence: ProjectEvidence, keep: Callable[[str], bool]
) -> list[str]:
    """Add the tools ``keep`` accepts to ``session`` as read-only; returns their names."""
    added = []
    for tool in TOOLS.values():
        backend = BackendTool(tool, evidence)
        if keep(backend.name):
            session.add_tool(backend, read_only=True)
            added.append(backend.name)
    return added
