"""backend-agent: a backend development agent and a model-free backend evidence engine.

The public API is imported lazily so that ``import backend_agent`` (and the CLI's start-up)
stays fast: heavy SDKs load only on the code path that needs them.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "ToolSession": "backend_agent.tools.session",
    "ToolResult": "backend_agent.tools.base",
    "AgentDefinition": "backend_agent.definitions",
    "Agent": "backend_agent.runtime.agent",
    "RunResult": "backend_agent.runtime.results",
    "Session": "backend_agent.sessions.session",
    "SessionConfig": "backend_agent.sessions.config",
    "SessionStore": "backend_agent.sessions.store",
    "run": "backend_agent.api",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'backend_agent' has no attribute {name!r}")
    return getattr(import_module(module), name)
