"""The built-in tools, in the stable order their specs are sent to models."""

from __future__ import annotations

from backend_agent.tools.base import Tool
from backend_agent.tools.files import Edit, MultiEdit, Read, Write
from backend_agent.tools.search import Glob, Grep
from backend_agent.tools.shell import Bash, BashOutput, KillShell
from backend_agent.tools.todo import TodoWrite


def builtin_tools() -> list[Tool]:
    """A fresh instance of every built-in tool."""
    return [
        Bash(),
        Glob(),
        Grep(),
        Read(),
        Edit(),
        MultiEdit(),
        Write(),
        BashOutput(),
        KillShell(),
        TodoWrite(),
    ]
