"""The events of a run, as ``Session.stream()``, ``Session.astream()``, ``query()`` and
``on_event`` callbacks give them; every one is a frozen dataclass.

In the order a run produces them: ``PromptSent`` (the prompt, or feedback that keeps the model
working), ``ThinkingDelta`` and ``TextDelta`` (streamed as the model writes), ``TurnEnd`` (a
model turn: its message, stop reason, usage and the cost so far), ``ToolStart``,
``PermissionRequest`` (the call needs approval and the approver is asked), ``ToolEnd`` (the
result, ``denied`` when refused), ``ToolResultsSent``, ``ContextCompacted`` or
``CompactionFailed`` (when the context is compacted, before a request), and last
``RunFinished`` (the ``RunResult``). ``Event`` is their union, for ``match`` statements and
type annotations.
"""

from __future__ import annotations

from backend_agent.messages import TextDelta, ThinkingDelta
from backend_agent.runtime.events import (
    AgentEvent as Event,
)
from backend_agent.runtime.events import (
    CompactionFailed,
    ContextCompacted,
    PermissionRequest,
    PromptSent,
    RunFinished,
    ToolEnd,
    ToolResultsSent,
    ToolStart,
    TurnEnd,
)

__all__ = [
    "CompactionFailed",
    "ContextCompacted",
    "Event",
    "PermissionRequest",
    "PromptSent",
    "RunFinished",
    "TextDelta",
    "ThinkingDelta",
    "ToolEnd",
    "ToolResultsSent",
    "ToolStart",
    "TurnEnd",
]
