"""The seams of the tool layer: results, the Tool protocol, and how Bash commands are launched."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from backend_agent.messages import ImageBlock, ToolSpec

if TYPE_CHECKING:
    from backend_agent.tools.session import ToolSession


@dataclass(frozen=True)
class ToolResult:
    """Exactly what the model receives for one tool call."""

    content: str
    is_error: bool = False
    images: tuple[ImageBlock, ...] = ()

    @classmethod
    def error(cls, message: str) -> ToolResult:
        """An error result, wrapped the way models were trained to recognise it."""
        return cls(f"<tool_use_error>{message}</tool_use_error>", is_error=True)


@dataclass(frozen=True)
class PlannedChange:
    """What a Write/Edit/MultiEdit call would do to a file, computed without writing it.

    ``before`` and ``after`` are the file's text (line endings normalised to ``\\n``);
    ``before`` is empty when the call creates the file.
    """

    path: Path
    before: str
    after: str
    is_new: bool = False


class Tool(Protocol):
    """Anything the model can call: a built-in tool or an MCP server's tool.

    ``run`` validates its own input and never raises: every failure is a ``ToolResult``
    with ``is_error=True``.
    """

    @property
    def name(self) -> str: ...

    def spec(self) -> ToolSpec: ...

    def run(self, input: dict[str, Any], session: ToolSession) -> ToolResult: ...


class SandboxUnavailable(Exception):
    """Raised by a CommandLauncher that must refuse to run a command (e.g. sandbox required)."""


class CommandLauncher(Protocol):
    """Turns a shell command into the argv that runs it (plain ``bash -c`` or a sandbox)."""

    @property
    def kind(self) -> str:
        """The sandbox commands run in: ``bubblewrap``, ``landlock`` or ``none``."""
        ...

    def argv(self, command: str, cwd: str) -> list[str]: ...


class PlainLauncher:
    """Runs commands with ``bash -c`` and no sandbox."""

    kind = "none"

    def argv(self, command: str, cwd: str) -> list[str]:
        return ["bash", "-c", command]
