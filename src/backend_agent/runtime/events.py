"""What the agent loop reports while it runs, for UIs, headless output and the transcript.

Text and thinking deltas come straight from the model as they stream; the other events mark
the points of a run: the prompt sent, each tool call starting and ending, each model turn
ending (with its usage and the running cost), and the tool results sent back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from backend_agent.messages import (
    Message,
    StopReason,
    TextDelta,
    ThinkingDelta,
    ToolUseBlock,
    Usage,
)
from backend_agent.tools.base import ToolResult


@dataclass(frozen=True)
class PromptSent:
    """A user message (prompt, stop-hook feedback) was added to the conversation."""

    message: Message


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
class TurnEnd:
    """The model finished one turn: its message, why it stopped, and what it cost."""

    message: Message
    stop_reason: StopReason
    model: str
    usage: Usage
    total_usage: Usage
    total_cost_usd: float


@dataclass(frozen=True)
class ToolResultsSent:
    """The results of a turn's tool calls, sent back to the model in one user message."""

    message: Message


AgentEvent = (
    TextDelta | ThinkingDelta | PromptSent | ToolStart | ToolEnd | TurnEnd | ToolResultsSent
)
EventHandler = Callable[[AgentEvent], None]
