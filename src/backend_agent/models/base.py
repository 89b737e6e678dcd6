"""The Model protocol every provider adapter implements."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Protocol

from backend_agent.errors import UserError
from backend_agent.messages import (
    ImageBlock,
    ModelRequest,
    ModelResponse,
    StreamEvent,
    ToolUseBlock,
)

EventSink = Callable[[StreamEvent], None]


class Model(Protocol):
    """One provider's model. ``complete`` streams deltas to ``on_event`` and returns the turn."""

    @property
    def model_id(self) -> str: ...

    def complete(
        self, request: ModelRequest, on_event: EventSink | None = None
    ) -> ModelResponse: ...


class ModelError(Exception):
    """A model call failed for good (after retries); the message is one line for the user."""


IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
"""The image media types the provider APIs take (Anthropic and OpenAI accept the same four)."""


def image_left_out(image: ImageBlock) -> dict[str, str] | None:
    """The text part sent instead of an image the APIs cannot take (so the request still
    works), or None when its type is one of ``IMAGE_TYPES``."""
    if image.media_type in IMAGE_TYPES:
        return None
    note = f"[{image.media_type} image left out: the API takes JPEG, PNG, GIF or WebP]"
    return {"type": "text", "text": note}


def env_number(name: str, default: float, *, whole: bool = False) -> float:
    """A number ≥ 0 from the environment variable ``name``; UserError naming it when invalid."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        value = -1
    if value < 0:
        kind = "a whole number" if whole else "a number of seconds"
        raise UserError(f"{name} must be {kind} ≥ 0, got {raw!r}")
    return value


def tool_call(call_id: str, name: str, raw_input: str) -> ToolUseBlock:
    """A streamed tool call with its input parsed once; input that is not a JSON object is
    marked (``input_error``) for the runtime to answer, never guessed at."""
    if not raw_input.strip():
        return ToolUseBlock(call_id, name, {})
    try:
        value = json.loads(raw_input)
    except ValueError as error:
        reason = error.args[0] if error.args else str(error)
        problem = f"its input is not valid JSON ({reason})"
        return ToolUseBlock(call_id, name, {}, input_error=problem)
    if not isinstance(value, dict):
        return ToolUseBlock(call_id, name, {}, input_error="its input is not a JSON object")
    return ToolUseBlock(call_id, name, value)
