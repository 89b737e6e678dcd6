"""The Model protocol every provider adapter implements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from backend_agent.messages import ImageBlock, ModelRequest, ModelResponse, StreamEvent

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
