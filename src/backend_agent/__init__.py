"""backend-agent: a backend development agent and a model-free backend evidence engine.

The Python API (docs/sdk.md)::

    import backend_agent

    with backend_agent.open_session("path/to/project", permission_mode="acceptEdits") as s:
        result = s.prompt("add a /health endpoint with a test")

Names are imported on first use, so ``import backend_agent`` (and the CLI's start-up) stays
fast and loads no model SDK; type checkers see every name with its real type. The events are
in ``backend_agent.events``, the evidence engine in ``backend_agent.analysis``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backend_agent.api import SessionOptions, open_session, query, run
    from backend_agent.definitions import AgentDefinition
    from backend_agent.messages import Usage
    from backend_agent.models.base import Model
    from backend_agent.permissions.callback import Allow, Deny, PermissionContext
    from backend_agent.runtime.results import RunResult
    from backend_agent.sessions.session import Session
    from backend_agent.sessions.store import JsonlFileStore, MemoryStore, SessionStore
    from backend_agent.tools.base import ToolResult
    from backend_agent.tools.python import FunctionTool, tool
    from backend_agent.tools.session import ToolSession

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "open_session": "backend_agent.api",
    "query": "backend_agent.api",
    "run": "backend_agent.api",
    "SessionOptions": "backend_agent.api",
    "Session": "backend_agent.sessions.session",
    "RunResult": "backend_agent.runtime.results",
    "Usage": "backend_agent.messages",
    "tool": "backend_agent.tools.python",
    "FunctionTool": "backend_agent.tools.python",
    "ToolResult": "backend_agent.tools.base",
    "Allow": "backend_agent.permissions.callback",
    "Deny": "backend_agent.permissions.callback",
    "PermissionContext": "backend_agent.permissions.callback",
    "SessionStore": "backend_agent.sessions.store",
    "MemoryStore": "backend_agent.sessions.store",
    "JsonlFileStore": "backend_agent.sessions.store",
    "AgentDefinition": "backend_agent.definitions",
    "Model": "backend_agent.models.base",
    "ToolSession": "backend_agent.tools.session",
}

__all__ = [
    "AgentDefinition",
    "Allow",
    "Deny",
    "FunctionTool",
    "JsonlFileStore",
    "MemoryStore",
    "Model",
    "PermissionContext",
    "RunResult",
    "Session",
    "SessionOptions",
    "SessionStore",
    "ToolResult",
    "ToolSession",
    "Usage",
    "__version__",
    "open_session",
    "query",
    "run",
    "tool",
]

if not TYPE_CHECKING:  # type checkers read the imports above, not a catch-all

    def __getattr__(name: str) -> Any:
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module 'backend_agent' has no attribute {name!r}")
        value = getattr(import_module(module), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
