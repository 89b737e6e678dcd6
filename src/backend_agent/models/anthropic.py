"""The Anthropic Messages API adapter: streaming, tool use, thinking and prompt caching.

It speaks the wire protocol itself over the lean client of ``models.http`` (the official SDK
is not needed at run time); tool input is assembled from its JSON fragments in linear time
and parsed once, when its block ends.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

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
from backend_agent.models.api import ApiSpec, ProviderApi
from backend_agent.models.base import EventSink, image_left_out, tool_call
from backend_agent.models.catalog import default_output_tokens
from backend_agent.models.config import ModelSettings
from backend_agent.models.failures import StreamErrorEvent
from backend_agent.models.http import (
    Endpoint,
    MalformedStream,
    ServerSentEvent,
    StreamBroken,
    event_json,
    json_body,
)
from backend_agent.models.retry import RetryPolicy

DEFAULT_BASE_URL = "https://api.anthropic.com"
MESSAGES_PATH = "/v1/messages"
API_VERSION = "2026-10-21"
"""The ``anthropic-version`` header, as the official SDK of this era sends it."""
CACHE_BREAKPOINT: dict[str, str] = {"type": "ephemeral"}
MAX_BREAKPOINTS = 4

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
        settings: ModelSettings | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._model_id = model_id
        settings = settings or ModelSettings.load()
        url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL
        endpoint = Endpoint.parse(url, "ANTHROPIC_BASE_URL")
        key = api_key or os.environ.get("ANTHROPIC_API_KEY") or None
        token = None if key else os.environ.get("ANTHROPIC_AUTH_TOKEN") or None
        if key is None and token is None:
            raise UserError(MISSING_KEY)
        # The SDK sends an API key and an auth token the same way.
        self._headers = {
            "anthropic-version": API_VERSION,
            "authorization": f"Bearer {key or token}",
        }
        self._api = ProviderApi(API, endpoint, settings, retry or settings.retry)
        self._output_tokens = settings.max_output_tokens or default_output_tokens(model_id)

    @property
    def model_id(self) -> str:
        return self._model_id

    def complete(self, request: ModelRequest, on_event: EventSink | None = None) -> ModelResponse:
        """Stream one assistant turn, retrying transient failures."""
        output_tokens = request.max_tokens or self._output_tokens
        body = json_body(request_body(self._model_id, request, output_tokens))

        return self._api.stream(
            MESSAGES_PATH,
            self._headers,
            body,
            StreamedMessage,
            on_event,
            model_id=self._model_id,
            output_tokens=output_tokens,
        )


def _error_detail(body: Any) -> str:
    """``type: message`` from an error body (``{"type": "error", "error": {...}}``)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return str(body)[:300]
    kind, message = error.get("type") or "", str(error.get("message") or "")
    return f"{kind}: {message}" if kind else message


API = ApiSpec(
    provider="Anthropic",
    official_host="api.anthropic.com",
    key_variable="ANTHROPIC_API_KEY",
    url_variable="ANTHROPIC_BASE_URL",
    error_detail=_error_detail,
    is_final=lambda event: event.event == "message_stop",
)


@dataclass
class _Block:
    """One content block as it streams in; text and JSON arrive as fragments."""

    kind: str
    parts: list[str] = field(default_factory=list)
    signature: str = ""
    id: str = ""
    name: str = ""

    def finish(self) -> ContentBlock | None:
        """The neutral block; None for empty text and blocks we do not keep (server tools)."""
        text = "".join(self.parts)
        if self.kind == "text":
            return TextBlock(text) if text else None
        if self.kind == "thinking":
            return ThinkingBlock(text, self.signature)
        if self.kind == "redacted_thinking":
            return ThinkingBlock("", self.signature)
        if self.kind == "tool_use":
            return tool_call(self.id, self.name, text)
        return None


@dataclass
class StreamedMessage:
    """Assembles a Messages API stream: blocks by index, usage, stop reason."""

    blocks: dict[int, _Block] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    stop_reason: str | None = None
    finished: bool = False

    def add(self, event: ServerSentEvent, on_event: EventSink | None) -> None:
        if event.event == "ping":
            return
        payload = event_json(event)
        try:
            self._apply(payload, on_event)
        except (KeyError, TypeError, AttributeError) as error:
            raise MalformedStream(f"unexpected event {event.data[:80]!r} ({error!r})") from None

    def _apply(self, payload: Any, on_event: EventSink | None) -> None:
        kind = payload.get("type")
        if kind == "content_block_delta":
            self._delta(payload["index"], payload["delta"], on_event)
        elif kind == "content_block_start":
            self._start(payload["index"], payload["content_block"])
        elif kind == "message_start":
            message = payload["message"]
            self.model = message.get("model") or self.model
            self._count(message.get("usage") or {})
        elif kind == "message_delta":
            self.stop_reason = payload.get("delta", {}).get("stop_reason") or self.stop_reason
            self._count(payload.get("usage") or {})
        elif kind == "message_stop":
            self.finished = True
        elif kind == "error":
            error = payload.get("error") or {}
            raise StreamErrorEvent(str(error.get("type") or ""), str(error.get("message") or ""))

    def _start(self, index: int, block: dict[str, Any]) -> None:
        kind = block.get("type", "")
        started = _Block(kind, id=block.get("id", ""), name=block.get("name", ""))
        if kind == "text" and block.get("text"):
            started.parts.append(block["text"])
        elif kind == "thinking":
            started.parts.append(block.get("thinking") or "")
            started.signature = block.get("signature") or ""
        elif kind == "redacted_thinking":
            started.signature = block.get("data") or ""
        self.blocks[index] = started

    def _delta(self, index: int, delta: dict[str, Any], on_event: EventSink | None) -> None:
        block = self.blocks.get(index)
        if block is None:
            raise StreamBroken(f"a delta for content block {index}, which never started")
        kind = delta.get("type")
        if kind == "text_delta":
            block.parts.append(delta["text"])
            if on_event is not None:
                on_event(TextDelta(delta["text"]))
        elif kind == "input_json_delta":
            block.parts.append(delta["partial_json"])
        elif kind == "thinking_delta":
            block.parts.append(delta["thinking"])
            if on_event is not None:
                on_event(ThinkingDelta(delta["thinking"]))
        elif kind == "signature_delta":
            block.signature += delta["signature"]

    def _count(self, usage: dict[str, Any]) -> None:
        """Usage fields as reported so far (message_delta's counts are cumulative)."""
        current = self.usage.as_dict()
        current.update({k: v for k, v in usage.items() if k in current and isinstance(v, int)})
        self.usage = Usage(**current)

    def response(self, requested_model: str) -> ModelResponse:
        if not self.finished:
            raise StreamBroken("the stream ended before the message was complete")
        blocks = [b for b in (self.blocks[i].finish() for i in sorted(self.blocks)) if b]
        message = Message("assistant", blocks)
        stop: StopReason = "tool_use" if message.tool_uses else "end_turn"
        if self.stop_reason is not None:
            stop = STOP_REASONS.get(self.stop_reason, stop)
        return ModelResponse(message, stop, self.usage, self.model or requested_model)


def request_body(model_id: str, request: ModelRequest, max_tokens: int) -> dict[str, Any]:
    """The Messages API request for ``request``, with prompt-cache breakpoints placed.

    Breakpoints: the last tool and the system prompt (the stable prefix), and the last block
    of the last two user messages: the newest one is written to the cache, the previous one is
    exactly where the last request wrote, so everything before it is read from the cache.
    """
    body: dict[str, Any] = {
        "model": model_id,
        "max_tokens": max_tokens,
        "messages": _messages_to_wire(request.messages, MAX_BREAKPOINTS - 2),
        "stream": True,
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
