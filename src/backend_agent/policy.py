"""The seam between the agent loop and permissions: the Policy it consults, and its decisions.

The permissions package implements the real policy (modes, rules, approval, hooks); the
runtime only knows this protocol, so the loop stays readable and testable on its own. This
module sits outside both packages so that neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from backend_agent.messages import ToolUseBlock
from backend_agent.tools.base import ToolResult

SessionSource = Literal["startup", "resume"]
CompactTrigger = Literal["auto", "manual"]


@dataclass(frozen=True)
class ToolDecision:
    """Whether a tool call may run; when it may not, ``message`` goes to the model."""

    allowed: bool
    message: str = ""
    updated_input: dict[str, Any] | None = None


@dataclass(frozen=True)
class PromptDecision:
    """Whether a user prompt goes to the model, plus context hooks want to add to it."""

    blocked: bool = False
    reason: str = ""
    additional_context: str = ""


class Policy(Protocol):
    """Consulted by the runtime loop at each point where permissions or hooks apply."""

    def on_session_start(self, source: SessionSource) -> str:
        """Additional context for the model ('' for none), once per session start or resume."""
        ...

    def on_user_prompt(self, prompt: str) -> PromptDecision: ...

    def before_tool(self, call: ToolUseBlock) -> ToolDecision: ...

    def after_tool(self, call: ToolUseBlock, result: ToolResult) -> str:
        """Additional context to append to the tool result for the model ('' for none)."""
        ...

    def on_stop(self, final_text: str) -> str:
        """'' to let the run end; otherwise a reason fed back to the model to keep going."""
        ...

    def before_compact(self, trigger: CompactTrigger, instructions: str) -> str:
        """Before a compaction: more instructions for its summary ('' for none)."""
        ...

    def after_compact(self, trigger: CompactTrigger, summary: str) -> None:
        """After a compaction, with the summary that now stands for the conversation."""
        ...


class OpenPolicy:
    """Allows everything and adds nothing: for the Python API and tests without permissions."""

    def on_session_start(self, source: SessionSource) -> str:
        return ""

    def on_user_prompt(self, prompt: str) -> PromptDecision:
        return PromptDecision()

    def before_tool(self, call: ToolUseBlock) -> ToolDecision:
        return ToolDecision(allowed=True)

    def after_tool(self, call: ToolUseBlock, result: ToolResult) -> str:
        return ""

    def on_stop(self, final_text: str) -> str:
        return ""

    def before_compact(self, trigger: CompactTrigger, instructions: str) -> str:
        return ""

    def after_compact(self, trigger: CompactTrigger, summary: str) -> None:
        return None
