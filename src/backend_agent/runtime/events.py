"""What a run reports while it goes, for UIs, headless output, the SDK and the transcript.

Text and thinking deltas come straight from the model as they stream; the other events mark
the points of a run: a user message added (the prompt, hook feedback, the interruption note),
each tool call starting and ending, a tool call waiting for the user's (or the program's)
approval, each model turn ending (with its usage and the running cost), the tool results sent
back, a compaction of the context (or its failure), and finally the run's result. The public
names are in ``backend_agent.events``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from backend_agent.messages import (
    Message,
    StopReason,
    TextDelta,
    ThinkingDelta,
    ToolUseBlock,
    Usage,
)
from backend_agent.runtime.compaction import Compaction
from backend_agent.runtime.results import RunResult
from backend_agent.tools.base import ToolResult

PromptOrigin = Literal["prompt", "feedback", "interruption"]


@dataclass(frozen=True)
class PromptSent:
    """User content was added to the conversation: the user's prompt (with hook context),
    feedback that keeps the model working (a stop hook, an end-of-turn check), or the note
    that the user interrupted. It is merged into the last message when that is a user one."""

    message: Message
    origin: PromptOrigin = "prompt"


@dataclass(frozen=True)
class ToolStart:
    """A tool call is about to be checked by the policy and run."""

    call: ToolUseBlock


@dataclass(frozen=True)
class ToolEnd:
    """A tool call finished; ``denied`` when the policy refused to run it."""

    call: ToolUseBlock
    result: ToolResult
    denied: bool = False


@dataclass(frozen=True)
class PermissionRequest:
    """A tool call needs approval and the approver (``can_use_tool``, the terminal) is being
    asked: why, and the rules "always allow" would save. The answer shows in its ToolEnd."""

    tool: str
    tool_input: dict[str, Any]
    reason: str
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True)
class TurnEnd:
    """The model finished one turn: its message, why it stopped, and what it cost."""

    message: Message
    stop_reason: StopReason
    model: str
    usage: Usage
    total_usage: Usage
    total_cost_usd: float
    cost_usd: float | None = None  # of this turn; None when the model's price is unknown


@dataclass(frozen=True)
class ToolResultsSent:
    """The results of a turn's tool calls, sent back to the model in one user message."""

    message: Message


@dataclass(frozen=True)
class ContextCompacted:
    """The conversation was replaced by a compacted one (``compaction.messages``)."""

    compaction: Compaction


@dataclass(frozen=True)
class CompactionFailed:
    """A compaction did not happen; ``gave_up``: the session stops compacting on its own."""

    message: str
    gave_up: bool = False


@dataclass(frozen=True)
class RunFinished:
    """The prompt's run is over (recorded, checkpointed): its result."""

    result: RunResult


AgentEvent = (
    TextDelta
    | ThinkingDelta
    | PromptSent
    | ToolStart
    | ToolEnd
    | PermissionRequest
    | TurnEnd
    | ToolResultsSent
    | ContextCompacted
    | CompactionFailed
    | RunFinished
)
EventHandler = Callable[[AgentEvent], None]
