"""How tools of MCP servers (and a program's Python tools) are named, ``mcp__<server>__<tool>``,
and which of them a run keeps. No MCP SDK needed here."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

MAX_TOOL_NAME = 64  # the strictest provider limit (OpenAI); Anthropic allows 128
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_-]")


def tool_name(server: str, tool: str) -> str:
    """``mcp__<server>__<tool>``, with characters the model APIs reject replaced by ``_``."""
    name = f"mcp__{_NOT_ALLOWED.sub('_', server)}__{_NOT_ALLOWED.sub('_', tool)}"
    return name[:MAX_TOOL_NAME]


def server_prefix(server: str) -> str:
    return f"mcp__{_NOT_ALLOWED.sub('_', server)}__"


def mcp_tool_filter(
    narrowing: Iterable[Sequence[str] | None], disallowed: Iterable[str]
) -> Callable[[str], bool]:
    """Which MCP tools a run keeps. A ``tools`` list narrows MCP tools only when it names some
    (``mcp__server`` for a whole server, or ``mcp__server__tool``); ``disallowedTools`` entries
    of either form remove them."""

    def names(entry: str, tool: str) -> bool:
        entry = entry.removesuffix("__*")
        return tool == entry or (entry.count("__") == 1 and tool.startswith(entry + "__"))

    lists = [
        [entry for entry in listed if entry.startswith("mcp__")]
        for listed in narrowing
        if listed is not None
    ]
    denied = [entry for entry in disallowed if entry.startswith("mcp__")]

    def keep(tool: str) -> bool:
        if any(names(entry, tool) for entry in denied):
            return False
        return all(not entries or any(names(e, tool) for e in entries) for entries in lists)

    return keep
