"""The OpenAI Chat Completions adapter, also for OpenAI-compatible servers (Ollama, vLLM, ...).

It speaks the wire protocol itself over the lean client of ``models.http`` (the official SDK
is not needed at run time). Tool arguments are collected as fragments and parsed once.
"""

from __future__ import annotations

import json
import os
import uuid
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
from backend_agent.models.local import probe_context
from backend_agent.models.retry import RetryPolicy

DEFAULT_BASE_URL = "https://api.openai.com/v1"
COMPLETIONS_PATH = "/chat/completions"
DONE = "[DONE]"
LOCAL_SERVER_KEY = "local-server"
"""Sent when a base URL is given without a key: local servers ignore it."""

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
        settings: ModelSettings | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._model_id = model_id
        settings = settings or ModelSettings.load()
        custom_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        key = api_key or os.environ.get("OPENAI_API_KEY") or None
        if key is None and custom_url is None:
            raise UserError(MISSING_KEY)
        endpoint = Endpoint.parse(custom_url or DEFAULT_BASE_URL, "OPENAI_BASE_URL")
        self._api = ProviderApi(API, endpoint, settings, retry or settings.retry)
        # OpenAI's own API wants max_completion_tokens; compatible servers know max_tokens.
        self._max_tokens_field = "max_completion_tokens" if self._api.official else "max_tokens"
        self._headers = {"authorization": f"Bearer {key or LOCAL_SERVER_KEY}"}
        for variable, header in (
            ("OPENAI_ORG_ID", "openai-organization"),
            ("OPENAI_PROJECT_ID", "openai-project"),
        ):
            if os.environ.get(variable):
                self._headers[header] = os.environ[variable]
        self._output_tokens = settings.max_output_tokens

    @property
    def model_id(self) -> str:
        return self._model_id

    def complete(self, request: ModelRequest, on_event: EventSink | None = None) -> ModelResponse:
        """Stream one assistant turn, retrying transient failures."""
        output_tokens = request.max_tokens or self._default_output_tokens()
        wire = request_body(self._model_id, request)
        wire[self._max_tokens_field] = output_tokens

        return self._api.stream(
            COMPLETIONS_PATH,
            self._headers,
            json_body(wire),
            StreamedCompletion,
            on_event,
            model_id=self._model_id,
            output_tokens=output_tokens,
        )

    def _default_output_tokens(self) -> int:
        """The user's limit, else the catalog's, kept to a quarter of a local server's context."""
        if self._output_tokens is None:
            official = self._api.official
            context = None if official else probe_context(self._api.client, self._model_id)
            self._output_tokens = default_output_tokens(self._model_id, context)
        return self._output_tokens


def _error_detail(body: object) -> str:
    """``type: message`` from an OpenAI error body (``{"error": {...}}`` or the inner object)."""
    error = body.get("error", body) if isinstance(body, dict) else None
    if isinstance(error, str):
        return error
    if not isinstance(error, dict):
        return ""
    kind, message = error.get("type") or error.get("code"), error.get("message") or ""
    return f"{kind}: {message}" if kind else str(message)


API = ApiSpec(
    provider="OpenAI",
    official_host="api.openai.com",
    key_variable="OPENAI_API_KEY",
    url_variable="OPENAI_BASE_URL",
    error_detail=_error_detail,
    is_final=lambda event: event.data.strip() == DONE,
)


@dataclass
class _ToolCallParts:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass
class StreamedCompletion:
    """Assembles a streamed completion: text, reasoning, tool calls by index, usage."""

    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    tool_calls: dict[int, _ToolCallParts] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    done: bool = False

    def add(self, event: ServerSentEvent, on_event: EventSink | None) -> None:
        if event.data.strip() == DONE:
            self.done = True
            return
        chunk = event_json(event)
        if not isinstance(chunk, dict):
            raise MalformedStream(f"a chunk is not a JSON object: {event.data[:80]!r}")
        if "error" in chunk or event.event == "error":
            error = chunk.get("error", chunk)
            detail = error if isinstance(error, dict) else {"message": str(error)}
            kind = str(detail.get("type") or detail.get("code") or "")
            raise StreamErrorEvent(kind, str(detail.get("message") or ""))
        try:
            self._apply(chunk, on_event)
        except (KeyError, TypeError, AttributeError) as error:
            raise MalformedStream(f"unexpected chunk {event.data[:80]!r} ({error!r})") from None

    def _apply(self, chunk: dict[str, Any], on_event: EventSink | None) -> None:
        self.model = chunk.get("model") or self.model
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            details = usage.get("prompt_tokens_details") or {}
            cached = details.get("cached_tokens") or 0
            self.usage = Usage(
                input_tokens=(usage.get("prompt_tokens") or 0) - cached,
                output_tokens=usage.get("completion_tokens") or 0,
                cache_read_input_tokens=cached,
            )
        for choice in (chunk.get("choices") or [])[:1]:
            delta = choice.get("delta") or {}
            for name in REASONING_FIELDS:
                if isinstance(piece := delta.get(name), str) and piece:
                    self.reasoning.append(piece)
                    if on_event is not None:
                        on_event(ThinkingDelta(piece))
            if content := delta.get("content"):
                self.text.append(content)
                if on_event is not None:
                    on_event(TextDelta(content))
            for call in delta.get("tool_calls") or []:
                parts = self.tool_calls.setdefault(call.get("index", 0), _ToolCallParts())
                parts.id = call.get("id") or parts.id
                function = call.get("function") or {}
                parts.name += function.get("name") or ""
                parts.arguments.append(function.get("arguments") or "")
            self.finish_reason = choice.get("finish_reason") or self.finish_reason

    def response(self, requested_model: str) -> ModelResponse:
        if not self.done and self.finish_reason is None:
            raise StreamBroken("the stream ended before the completion was complete")
        blocks: list[ContentBlock] = []
        if self.reasoning:
            blocks.append(ThinkingBlock("".join(self.reasoning)))
        if self.text:
            blocks.append(TextBlock("".join(self.text)))
        for index, parts in sorted(self.tool_calls.items()):
            call_id = parts.id or f"call_{index}_{uuid.uuid4().hex[:12]}"
            blocks.append(tool_call(call_id, parts.name, "".join(parts.arguments)))
        message = Message("assistant", blocks)
        stop: StopReason = "end_turn"
        if self.finish_reason is not None:
            stop = FINISH_REASONS.get(self.finish_reason, "end_turn")
        if message.tool_uses and stop != "max_tokens":  # local servers may say "stop" here
            stop = "tool_use"
        return ModelResponse(message, stop, self.usage, self.model or requested_model)


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
