"""The built-in tools (Bash, Read, Write, Edit, MultiEdit, Glob, Grep, ...) and their session.

Kept light: ``ToolSession`` (which pulls in pydantic and every tool module) loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backend_agent.tools.base import PlannedChange, ToolResult

if TYPE_CHECKING:
    from backend_agent.tools.session import ToolSession

__all__ = ["PlannedChange", "ToolResult", "ToolSession"]


def __getattr__(name: str) -> Any:
    if name == "ToolSession":
        from backend_agent.tools.session import ToolSession

        return ToolSession
    raise AttributeError(f"module 'backend_agent.tools' has no attribute {name!r}")
