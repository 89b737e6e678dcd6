"""The OpenAI Chat Completions adapter, also for OpenAI-compatible servers (Ollama, vLLM, ...).

Imported lazily by the model registry, so the ``openai`` SDK only loads when it is used.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx2
import openai
from openai.types.chat import ChatCompletionChunk

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

DEFAULT_BASE_URL = "https://api.openai.com/v1"
LOCAL_SERVER_KEY = "local-server"
"""Sent when a base URL is given without a key: local servers ignore it, the SDK wants one."""

FINISH_REASONS: dict[str, StopReason] = {
    "stop": "end_turn",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "length": "max_tokens",
    "content_filter": "refusal",
}

# Where OpenAI-compatible servers stream reasoning (vLLM/DeepSeek, Ollama/llama.cpp/LM Studio).
REASONING_FIELDS = ("reasoning_content", "reasoning")

MISSING_KEY = (
    "No OpenAI credentials: set OPENAI_API_KEY, or --base-url URL (or OPENAI_BASE_URL) for a "
    "local OpenAI-compatible server, or use a Claude model with ANTHROPIC_API_KEY, "
    "or --model scripted:FILE"
)


class OpenAIModel:
    """A model behind a Chat Completions endpoint, streamed."""

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
        custom_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        key = api_key or os.environ.get("OPENAI_API_KEY") or None
        if key is None and custom_url is None:
            raise UserError(MISSING_KEY)
        self._base_url = custom_url or DEFAULT_BASE_URL
        # OpenAI's own API wants max_completion_tokens; compatible servers know max_tokens.
        self._max_tokens_field = (
            "max_completion_tokens" if "api.openai.com" in self._base_url else "max_tokens"
        )
        self._client = openai.OpenAI(
            api_key=key or LOCAL_SERVER_KEY, base_url=self._base_url, max_retries=0
        )

    @property
    def model_id(self) -> str:
        return self._model_id

    def complete(self, request: ModelRequest, on_event: EventSink | None = None) -> ModelResponse:
        """Stream one assistant turn, retrying transient failures."""
        body = request_body(self._model_id, request)
        body[self._max_tokens_field] = request.max_tokens
        return call_with_retries(
            lambda: self._stream_turn(body, on_event), self._describe, self._retry, "OpenAI"
        )

    def _stream_turn(self, body: dict[str, Any], on_event: EventSink | None) -> ModelResponse:
        turn = _StreamedTurn()
        with self._client.chat.completions.create(**body) as stream:
            for chunk in stream:
                turn.add(chunk, on_event)
        return turn.response(self._model_id)

    def _describe(self, exc: Exception) -> Failure | None:
        if isinstance(exc, openai.APIStatusError):
            detail = _error_detail(exc.body) or exc.message
            return http_failure(
                exc.status_code,
                detail,
                exc.response.headers,
                key_variable="OPENAI_API_KEY",
                model_id=self._model_id,
            )
        if isinstance(exc, openai.APIConnectionError | httpx2.RequestError):
            return connection_failure(self._base_url, exc, "OPENAI_BASE_URL")
        if isinstance(exc, openai.APIError):  # an error event inside a 200 stream
            detail = _error_detail(exc.body) or exc.message
            return Failure(
                f"stream error {detail}", "try again later or pick another --model", True
            )
        return None


def _error_detail(body: object) -> str:
    """``type: message`` from an OpenAI error body (``{"error": {...}}`` or the inner object)."""
    error = body.get("error", body) if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ""
    kind, message = error.get("type") or error.get("code"), error.get("message") or ""
    return f"{kind}: {message}" if kind else str(message)


@dataclass
class _ToolCallParts:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass
class _StreamedTurn:
    """Assembles a streamed completion: text, reasoning, tool calls by index, usage."""

    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    tool_calls: dict[int, _ToolCallParts] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str = ""

    def add(self, chunk: ChatCompletionChunk, on_event: EventSink | None) -> None:
        self.model = chunk.model or self.model
        if chunk.usage is not None:
            cached = 0
            if chunk.usage.prompt_tokens_details is not None:
                cached = chunk.usage.prompt_tokens_details.cached_tokens or 0
            self.usage = Usage(
                input_tokens=chunk.usage.prompt_tokens - cached,
                output_tokens=chunk.usage.completion_tokens,
                cache_read_input_tokens=cached,
            )
        for choice in chunk.choices[:1]:
            delta = choice.delta
            extra = delta.model_extra or {}
            for name in REASONING_FIELDS:
                if isinstance(piece := extra.get(name), str) and piece:
                    self.reasoning.append(piece)
                    if on_event is not None:
                        on_event(ThinkingDelta(piece))
            if delta.content:
                self.text.append(delta.content)
                if on_event is not None:
                    on_event(TextDelta(delta.content))
            for call in delta.tool_calls or []:
                parts = self.tool_calls.setdefault(call.index, _ToolCallParts())
                parts.id = call.id or parts.id
                if call.function is not None:
                    parts.name += call.function.name or ""
                    parts.arguments.append(call.function.arguments or "")
            self.finish_reason = choice.finish_reason or self.finish_reason

    def response(self, requested_model: str) -> ModelResponse:
        blocks: list[ContentBlock] = []
        if self.reasoning:
            blocks.append(ThinkingBlock("".join(self.reasoning)))
        if self.text:
            blocks.append(TextBlock("".join(self.text)))
        for index, parts in sorted(self.tool_calls.items()):
            call_id = parts.id or f"call_{index}_{uuid.uuid4().hex[:12]}"
            blocks.append(ToolUseBlock(call_id, parts.name, _parse_arguments(parts.arguments)))
        message = Message("assistant", blocks)
        stop: StopReason = "end_turn"
        if self.finish_reason is not None:
            stop = FINISH_REASONS.get(self.finish_reason, "end_turn")
        if message.tool_uses:  # some local servers say "stop" even when they called tools
            stop = "tool_use"
        return ModelResponse(message, stop, self.usage, self.model or requested_model)


def _parse_arguments(fragments: list[str]) -> dict[str, Any]:
    """The tool input; arguments that are not a JSON object are kept for the tool to reject."""
    raw = "".join(fragments)
    try:
        value = json.loads(raw or "{}")
    except json.JSONDecodeError:
        return {"invalid_arguments": raw}
    return value if isinstance(value, dict) else {"invalid_arguments": raw}


def request_body(model_id: str, request: ModelRequest) -> dict[str, Any]:
    """The streaming Chat Completions request for ``request`` (without the max-tokens field)."""
    messages: list[dict[str, Any]] = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    for message in request.messages:
        if message.role == "assistant":
            messages.append(_assistant_to_wire(message))
        else:
            messages.extend(_user_to_wire(message))
    body: dict[str, Any] = {
        "model": model_id,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.input_schema,
                },
            }
            for tool in request.tools
        ]
    return body


def _assistant_to_wire(message: Message) -> dict[str, Any]:
    """Text and tool calls; reasoning is not sent back (Chat Completions has no field for it)."""
    wire: dict[str, Any] = {"role": "assistant", "content": message.text or None}
    if message.tool_uses:
        wire["tool_calls"] = [
            {
                "id": use.id,
                "type": "function",
                "function": {"name": use.name, "arguments": json.dumps(use.input)},
            }
            for use in message.tool_uses
        ]
    elif wire["content"] is None:
        wire["content"] = ""
    return wire


def _user_to_wire(message: Message) -> list[dict[str, Any]]:
    """Tool results become ``tool`` messages; text, images and tool images one user message.

    Tool messages carry text only, so a tool result's images follow in the user message.
    """
    tool_messages: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for block in message.content:
        if isinstance(block, ToolResultBlock):
            content = f"Error: {block.content}" if block.is_error else block.content
            tool_messages.append(
                {"role": "tool", "tool_call_id": block.tool_use_id, "content": content}
            )
            if block.images:
                parts.append(
                    {"type": "text", "text": f"Images from tool call {block.tool_use_id}:"}
                )
                parts.extend(_image_part(image) for image in block.images)
        elif isinstance(block, TextBlock):
            parts.append({"type": "text", "text": block.text})
        elif isinstance(block, ImageBlock):
            parts.append(_image_part(block))
    if not parts:
        return tool_messages
    if all(part["type"] == "text" for part in parts):
        user: dict[str, Any] = {"role": "user", "content": "\n\n".join(p["text"] for p in parts)}
    else:
        user = {"role": "user", "content": parts}
    return [*tool_messages, user]


def _image_part(image: ImageBlock) -> dict[str, Any]:
    """An image as a data URL; a type the API cannot take becomes a note."""
    note = image_left_out(image)
    if note is not None:
        return note
    url = f"data:{image.media_type};base64,{image.data}"
    return {"type": "image_url", "image_url": {"url": url}}
