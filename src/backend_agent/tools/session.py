"""ToolSession: the tools plus the state they share (read tracking, Bash's directory, shells,
the todo list)."""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

from backend_agent.messages import ToolSpec, valid_text
from backend_agent.tools.base import CommandLauncher, PlainLauncher, PlannedChange, Tool, ToolResult
from backend_agent.tools.builtin import MAX_OUTPUT_CHARS
from backend_agent.tools.files import FileChangeTool, ReadTracker
from backend_agent.tools.pending import remove_stale
from backend_agent.tools.registry import builtin_tools
from backend_agent.tools.shell import Bash, BashOutput, Shell
from backend_agent.tools.spill import MAX_SAVED_CHARS, OutputSpill
from backend_agent.tools.todo import TodoList


class ToolSession:
    """Runs tool calls for one agent session; ``close()`` kills whatever Bash left running.

    Relative paths in tool inputs resolve against ``cwd`` (the root), not Bash's directory.
    With a ``spill``, outputs over its limit are saved to files and previewed (see
    ``tools.spill``); without one they are cut at 30,000 characters.
    """

    def __init__(
        self,
        cwd: str | Path,
        *,
        launcher: CommandLauncher | None = None,
        spill: OutputSpill | None = None,
    ) -> None:
        self.cwd = Path(os.path.abspath(Path(cwd).expanduser()))
        if not self.cwd.is_dir():
            raise NotADirectoryError(f"Not a directory: {self.cwd}")
        remove_stale()  # temporary files that killed writes of earlier runs left behind
        self.read_tracker = ReadTracker()
        self.shell = Shell(self.cwd, launcher or PlainLauncher())
        self.todos = TodoList()
        self.spill = spill
        self._tools: dict[str, Tool] = {tool.name: tool for tool in builtin_tools()}
        self._read_only: set[str] = set()
        # Safety net: background shells die even if close() is never called.
        self._finalizer = weakref.finalize(self, self.shell.reaper.close)

    @property
    def shell_cwd(self) -> Path:
        """Bash's current directory (``cd`` persists between Bash calls)."""
        return self.shell.cwd

    @property
    def sandbox(self) -> str:
        """The sandbox Bash commands run in: ``bubblewrap``, ``landlock`` or ``none``."""
        return self.shell.launcher.kind

    @property
    def output_cap(self) -> int:
        """Characters a tool keeps of its output: all of it (up to 10 MB) for the spill to
        save, or the 30,000 that are sent to the model without one."""
        return MAX_SAVED_CHARS if self.spill is not None else MAX_OUTPUT_CHARS

    @property
    def tool_names(self) -> list[str]:
        return list(self._tools)

    def add_tool(self, tool: Tool, *, read_only: bool = False) -> None:
        """Register a tool (e.g. from an MCP server); replaces one with the same name.
        ``read_only``: it only reads the project, so it runs without a permission prompt."""
        self._tools[tool.name] = tool
        if read_only:
            self._read_only.add(tool.name)
        else:
            self._read_only.discard(tool.name)

    def remove_tool(self, name: str) -> None:
        self._tools.pop(name, None)
        self._read_only.discard(name)

    def is_read_only(self, name: str) -> bool:
        """Whether tool ``name`` was registered as only reading the project."""
        return name in self._read_only

    def specs(self, names: Iterable[str] | None = None) -> list[ToolSpec]:
        """The specs of the named tools (all when None), in registration order."""
        wanted = set(self._tools if names is None else names)
        return [self._spec(tool) for name, tool in self._tools.items() if name in wanted]

    def _spec(self, tool: Tool) -> ToolSpec:
        """A tool's spec as this session offers it: without BashOutput, Bash says where a
        background command's output goes (or offers none)."""
        if isinstance(tool, Bash) and BashOutput.name not in self._tools:
            return tool.spec_without_bash_output(logs_to_file=self.spill is not None)
        return tool.spec()

    def resolve_path(self, path: str) -> Path:
        """An input path made absolute: relative paths start at the session's root."""
        return Path(os.path.normpath(self.cwd / Path(path).expanduser()))

    def call(self, name: str, input: dict[str, Any]) -> ToolResult:
        """Run one tool call; every failure comes back as an error result, never raised."""
        tool = self._tools.get(name)
        if tool is None:
            available = ", ".join(self._tools)
            return ToolResult.error(f"No such tool: {name}. Available tools: {available}")
        try:
            result = tool.run(input, self)
        except Exception as exc:  # a bug in a tool must not end the agent's run
            result = ToolResult.error(f"{name} failed unexpectedly: {type(exc).__name__}: {exc}")
        # Text from files that are not UTF-8 (kept on disk byte for byte) is sent as valid text.
        content = valid_text(result.content)
        result = result if content is result.content else replace(result, content=content)
        return self.spill.apply(name, result) if self.spill is not None else result

    def planned_change(self, name: str, input: dict[str, Any]) -> PlannedChange | None:
        """What a Write/Edit/MultiEdit call would change, without writing; else None."""
        tool = self._tools.get(name)
        if not isinstance(tool, FileChangeTool):
            return None
        return tool.planned_change(input, self)

    def interrupt(self) -> None:
        """Kill every running foreground Bash command (with its children)."""
        self.shell.interrupt()

    def close(self) -> None:
        """Kill background shells and anything else Bash started."""
        self.shell.close()

    def __enter__(self) -> ToolSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
