"""The Anthropic Messages API adapter: streaming, tool use, thinking and prompt caching.

Imported lazily by the model registry, so the ``anthropic`` SDK only loads when a Claude model
is actually used.
"""

from __future__ import annotations

import os
from typing import Any

import anthropic
import httpx2
from anthropic.types import ContentBlock as WireBlock

from backend_agent.errors import UserError
from backend_agent.messages import (
    ContentBlock,
    ImageBlock,
    Message,
    ModelRequest,
    ModelResponse,
    StopReason,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
)
from backend_agent.models.base import EventSink, image_left_out
from backend_agent.models.retry import (
    Failure,
    RetryPolicy,
    call_with_retries,
    connection_failure,
    http_failure,
)

DEFAULT_BASE_URL = "https://api.anthropic.com"
CACHE_BREAKPOINT: dict[str, str] = {"type": "ephemeral"}
MAX_BREAKPOINTS = 4

# Error types the API may send inside a 200 stream that are worth another try.
RETRYABLE_STREAM_ERRORS = frozenset({"overloaded_error", "api_error", "rate_limit_error"})

STOP_REASONS: dict[str, StopReason] = {
    "end_turn": "end_turn",
    "tool_use": "tool_use",
    "max_tokens": "max_tokens",
    "stop_sequence": "stop_sequence",
    "refusal": "refusal",
    "pause_turn": "end_turn",
    "model_context_window_exceeded": "max_tokens",
}

MISSING_KEY = (
    "No Anthropic credentials: set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN), "
    "or use --model openai:<id> with OPENAI_API_KEY, --model openai:<id> --base-url URL "
    "for a local OpenAI-compatible server, or --model scripted:FILE"
)


class AnthropicModel:
    """A Claude model behind the streaming Messages API."""

    def __init__(
        self,
        model_id: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._model_id = model_id
        self._retry = retry or RetryPolicy.from_env()
        self._base_url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL
        key = api_key or os.environ.get("ANTHROPIC_API_KEY") or None
        token = None if key else os.environ.get("ANTHROPIC_AUTH_TOKEN") or None
        if key is None and token is None:
            raise UserError(MISSING_KEY)
        self._client = anthropic.Anthropic(
            api_key=key, auth_token=token, base_url=self._base_url, max_retries=0
        )

    @property
    def model_id(self) -> str:
        return self._model_id

    def complete(self, request: ModelRequest, on_event: EventSink | None = None) -> ModelResponse:
        """Stream one assistant turn, retrying transient failures."""
        body = request_body(self._model_id, request)
        return call_with_retries(
            lambda: self._stream_turn(body, on_event), self._describe, self._retry, "Anthropic"
        )

    def _stream_turn(self, body: dict[str, Any], on_event: EventSink | None) -> ModelResponse:
        with self._client.messages.stream(**body) as stream:
            for event in stream:
                if on_event is not None and event.type == "content_block_delta":
                    if event.delta.type == "text_delta":
                        on_event(TextDelta(event.delta.text))
                    elif event.delta.type == "thinking_delta":
                        on_event(ThinkingDelta(event.delta.thinking))
            final = stream.get_final_message()
        blocks = [b for b in (_from_wire(block) for block in final.content) if b is not None]
        usage = Usage(
            input_tokens=final.usage.input_tokens,
            output_tokens=final.usage.output_tokens,
            cache_creation_input_tokens=final.usage.cache_creation_input_tokens or 0,
            cache_read_input_tokens=final.usage.cache_read_input_tokens or 0,
        )
        message = Message("assistant", blocks)
        stop: StopReason = "tool_use" if message.tool_uses else "end_turn"
        if final.stop_reason is not None:
            stop = STOP_REASONS.get(final.stop_reason, stop)
        return ModelResponse(message, stop, usage, final.model or self._model_id)

    def _describe(self, exc: Exception) -> Failure | None:
        if isinstance(exc, anthropic.APIStatusError):
            kind = exc.type or ""
            detail = exc.api_message or exc.message
            return http_failure(
                exc.status_code,
                f"{kind}: {detail}" if kind else detail,
                exc.response.headers,
                key_variable="ANTHROPIC_API_KEY",
                model_id=self._model_id,
                retryable_in_stream=exc.status_code < 400 and kind in RETRYABLE_STREAM_ERRORS,
            )
        if isinstance(exc, anthropic.APIConnectionError | httpx2.RequestError):
            return connection_failure(self._base_url, exc, "ANTHROPIC_BASE_URL")
        return None


def request_body(model_id: str, request: ModelRequest) -> dict[str, Any]:
    """The Messages API request for ``request``, with prompt-cache breakpoints placed.

    Breakpoints: the last tool and the system prompt (the stable prefix), and the last block
    of the last two user messages: the newest one is written to the cache, the previous one is
    exactly where the last request wrote, so everything before it is read from the cache.
    """
    body: dict[str, Any] = {
        "model": model_id,
        "max_tokens": request.max_tokens,
        "messages": _messages_to_wire(request.messages, MAX_BREAKPOINTS - 2),
    }
    if request.system:
        body["system"] = [
            {"type": "text", "text": request.system, "cache_control": CACHE_BREAKPOINT}
        ]
    if request.tools:
        tools: list[dict[str, Any]] = [
            {"name": t.name, "description": t.description, "input_schema": t.input_schema}
            for t in request.tools
        ]
        tools[-1]["cache_control"] = CACHE_BREAKPOINT
        body["tools"] = tools
    return body


def _messages_to_wire(messages: list[Message], breakpoints: int) -> list[dict[str, Any]]:
    """Messages in wire form; the last block of the last ``breakpoints`` user messages cached."""
    wire: list[dict[str, Any]] = [
        {"role": m.role, "content": _blocks_to_wire(m.content)} for m in messages
    ]
    user_turns = [w for w in wire if w["role"] == "user"]
    for turn in user_turns[-breakpoints:]:
        if turn["content"]:
            turn["content"][-1]["cache_control"] = CACHE_BREAKPOINT
    return wire


def _blocks_to_wire(blocks: list[ContentBlock]) -> list[dict[str, Any]]:
    wire: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block, TextBlock):
            if block.text:  # the API rejects empty text blocks
                wire.append({"type": "text", "text": block.text})
        elif isinstance(block, ThinkingBlock):
            wire.append(_thinking_to_wire(block))
        elif isinstance(block, ImageBlock):
            wire.append(_image_to_wire(block))
        elif isinstance(block, ToolUseBlock):
            wire.append(
                {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
            )
        else:
            wire.append(_tool_result_to_wire(block))
    return wire


def _thinking_to_wire(block: ThinkingBlock) -> dict[str, Any]:
    """Redacted thinking travels as a ThinkingBlock with no text and its data as signature."""
    if not block.thinking and block.signature:
        return {"type": "redacted_thinking", "data": block.signature}
    return {"type": "thinking", "thinking": block.thinking, "signature": block.signature}


def _image_to_wire(block: ImageBlock) -> dict[str, Any]:
    """An image block; a type the API cannot take becomes a note, so the request still works."""
    note = image_left_out(block)
    if note is not None:
        return note
    source = {"type": "base64", "media_type": block.media_type, "data": block.data}
    return {"type": "image", "source": source}


def _tool_result_to_wire(block: ToolResultBlock) -> dict[str, Any]:
    content: str | list[dict[str, Any]] = block.content
    if block.images:
        text = [{"type": "text", "text": block.content}] if block.content else []
        content = text + [_image_to_wire(image) for image in block.images]
    wire: dict[str, Any] = {
        "type": "tool_result",
        "tool_use_id": block.tool_use_id,
        "content": content,
    }
    if block.is_error:
        wire["is_error"] = True
    return wire


def _from_wire(block: WireBlock) -> ContentBlock | None:
    """The neutral block for a response block; None for empty text and server-side blocks."""
    if block.type == "text":
        return TextBlock(block.text) if block.text else None
    if block.type == "thinking":
        return ThinkingBlock(block.thinking, block.signature)
    if block.type == "redacted_thinking":
        return ThinkingBlock("", block.data)
    if block.type == "tool_use":
        tool_input = block.input if isinstance(block.input, dict) else {}
        return ToolUseBlock(block.id, block.name, dict(tool_input))
    return None
