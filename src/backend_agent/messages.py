"""The provider-neutral message model: what the runtime, the model adapters and the UIs share.

Every provider adapter translates these blocks to and from its own wire format; nothing
outside ``models/`` ever sees a provider's types.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["user", "assistant"]
RequestPurpose = Literal["turn", "summary"]
StopReason = Literal["end_turn", "tool_use", "max_tokens", "stop_sequence", "refusal", "error"]


@dataclass(frozen=True)
class TextBlock:
    """Plain text written by the user or the model."""

    text: str
    type: Literal["text"] = "text"


@dataclass(frozen=True)
class ThinkingBlock:
    """The model's visible reasoning; ``signature`` is opaque and must be sent back unchanged."""

    thinking: str
    signature: str = ""
    type: Literal["thinking"] = "thinking"


@dataclass(frozen=True)
class ImageBlock:
    """An image, base64-encoded, e.g. from an MCP tool result."""

    data: str
    media_type: str
    type: Literal["image"] = "image"


@dataclass(frozen=True)
class ToolUseBlock:
    """A tool call requested by the model.

    ``input_error`` says why the streamed input is unusable (e.g. it was not valid JSON); the
    runtime then answers the call with that error instead of running it.
    """

    id: str
    name: str
    input: dict[str, Any]
    type: Literal["tool_use"] = "tool_use"
    input_error: str | None = None


@dataclass(frozen=True)
class ToolResultBlock:
    """The outcome of one tool call, sent back to the model in a user message."""

    tool_use_id: str
    content: str
    is_error: bool = False
    images: tuple[ImageBlock, ...] = ()
    type: Literal["tool_result"] = "tool_result"


ContentBlock = TextBlock | ThinkingBlock | ImageBlock | ToolUseBlock | ToolResultBlock


@dataclass
class Message:
    """One conversation turn: a role and its ordered content blocks."""

    role: Role
    content: list[ContentBlock]

    @classmethod
    def user(cls, text: str) -> Message:
        return cls("user", [TextBlock(text)])

    @property
    def text(self) -> str:
        """The concatenated text blocks (what a UI shows as the answer)."""
        return "".join(b.text for b in self.content if isinstance(b, TextBlock))

    @property
    def tool_uses(self) -> list[ToolUseBlock]:
        return [b for b in self.content if isinstance(b, ToolUseBlock)]


@dataclass
class Usage:
    """Token counts for one or more model calls; cache tokens are counted separately."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_creation_input_tokens + other.cache_creation_input_tokens,
            self.cache_read_input_tokens + other.cache_read_input_tokens,
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
        }


@dataclass(frozen=True)
class ToolSpec:
    """A tool as the model sees it: name, description and JSON Schema of its input."""

    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass
class ModelRequest:
    """Everything a model adapter needs for one call."""

    system: str
    messages: list[Message]
    tools: list[ToolSpec] = field(default_factory=list)
    max_tokens: int | None = None
    """Output tokens to ask for; None: the adapter's default for the model."""
    purpose: RequestPurpose = "turn"
    """``summary``: the request summarises the conversation for a compaction."""


@dataclass
class ModelResponse:
    """One complete assistant turn, after streaming has finished."""

    message: Message
    stop_reason: StopReason
    usage: Usage
    model: str
    cost_usd: float | None = None
    """What the turn cost; None when the price is unknown (e.g. a local or custom server)."""


@dataclass(frozen=True)
class TextDelta:
    """A piece of assistant text as it streams in."""

    text: str


@dataclass(frozen=True)
class ThinkingDelta:
    """A piece of the model's reasoning as it streams in."""

    text: str


StreamEvent = TextDelta | ThinkingDelta


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD, so it encodes as UTF-8.

    Undecodable bytes read with ``surrogateescape`` (kept that way so files are written back
    unchanged) must not reach a transcript, a JSON line or a request body as they are.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub("\ufffd", text)
    return text
