"""The Model protocol every provider adapter implements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from backend_agent.messages import ModelRequest, ModelResponse, StreamEvent

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
