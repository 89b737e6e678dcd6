"""A fake OpenAI Chat Completions API: validates requests like the real one, streams chunks as SSE.

Cached prompt tokens follow the real API's automatic prefix caching, simplified: the longest
run of leading messages (and the tools) already sent in an earlier request counts as cached.
Tokens are counted as a quarter of the characters of each message's JSON.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .server import (
    COMMENT_KEEPALIVE,
    Answer,
    FakeServer,
    JSONAnswer,
    RecordedRequest,
    SSEAnswer,
    StreamFault,
    fault_answer,
    pieces,
    sse,
)

_ids = itertools.count(1)


@dataclass
class ChatReply:
    """One scripted assistant turn: text, tool calls ``(name, arguments)``, reasoning."""

    content: str = ""
    tool_calls: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)
    """Arguments given as a string are sent as they are (e.g. broken JSON)."""
    reasoning: str = ""
    """Streamed as ``delta.reasoning_content``, as vLLM and DeepSeek-style servers do."""
    finish_reason: str | None = None
    """Default: ``tool_calls`` when the reply calls a tool, else ``stop``."""
    send_usage: bool = True
    """False models local servers that never report usage."""
    arguments_delta: int = 0
    """Characters of tool arguments per chunk; 0: the arguments in three pieces."""


@dataclass
class ChatErrorReply:
    """An HTTP error answer in the API's error format."""

    status: int
    message: str = "The server had an error while processing your request."
    error_type: str = "server_error"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ChatStreamErrorReply:
    """A 200 stream that sends some text, then an ``{"error": ...}`` event, as OpenAI does."""

    message: str = "The server had an error while processing your request."
    error_type: str = "server_error"
    partial_text: str = "Partial"


OpenAIReply = ChatReply | ChatErrorReply | ChatStreamErrorReply | StreamFault


class OpenAIFake(FakeServer[OpenAIReply]):
    """Serves ``POST /v1/chat/completions`` (streaming only); ``url`` is the SDK's base URL."""

    def __init__(
        self,
        responder: Callable[[RecordedRequest], OpenAIReply] | None = None,
        *,
        context_window: int | None = None,
    ):
        super().__init__(responder)
        self._prefixes: set[str] = set()
        self.context_window = context_window
        """Prompts of more tokens are refused with a 400 ``context_length_exceeded``."""
        self.too_long: list[int] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def answer(self, request: RecordedRequest) -> Answer:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return _error(401, "You didn't provide an API key.", "invalid_request_error")
        problem = _body_problem(request.body) if isinstance(request.body, dict) else "not JSON"
        if problem is not None:
            return _error(400, problem, "invalid_request_error")
        size = prompt_size(request.body)
        if self.context_window is not None and size > self.context_window:
            self.too_long.append(size)
            message = (
                f"This model's maximum context length is {self.context_window} tokens. However, "
                f"your messages resulted in {size} tokens. Please reduce the length of the "
                "messages."
            )
            return _error(400, message, "invalid_request_error", code="context_length_exceeded")
        reply = self.next_reply(request)
        if reply is None:
            return _error(500, "fake server: no scripted reply left", "server_error")
        if isinstance(reply, ChatErrorReply):
            return _error(reply.status, reply.message, reply.error_type, reply.headers)
        if isinstance(reply, ChatStreamErrorReply):
            return SSEAnswer(_failing_stream(request.body["model"], reply))
        if isinstance(reply, StreamFault):
            delta = {"role": "assistant", "content": reply.partial_text}
            start = _chunk(request.body["model"], delta)
            return fault_answer(reply, [start], COMMENT_KEEPALIVE)
        prompt, cached = self._account(request.body)
        include_usage = (request.body.get("stream_options") or {}).get("include_usage") is True
        usage = (prompt, cached) if include_usage and reply.send_usage else None
        return SSEAnswer(_stream(request.body["model"], reply, usage))

    def _account(self, body: dict[str, Any]) -> tuple[int, int]:
        """(prompt tokens, cached tokens): the tools, then each message, as prefix segments."""
        digest = hashlib.sha256(body["model"].encode())
        prompt = cached = 0
        seen = True
        for segment in [body.get("tools") or [], *body["messages"]]:
            encoded = json.dumps(segment, sort_keys=True)
            digest = digest.copy()
            digest.update(encoded.encode())
            seen = seen and digest.hexdigest() in self._prefixes
            self._prefixes.add(digest.hexdigest())
            size = max(1, len(encoded) // 4)
            prompt += size
            cached += size if seen else 0
        return prompt, cached


def prompt_size(body: dict[str, Any]) -> int:
    """A request's prompt in tokens, counted as the usage is."""
    segments = [body.get("tools") or [], *body["messages"]]
    return sum(max(1, len(json.dumps(s, sort_keys=True)) // 4) for s in segments)


def _error(
    status: int,
    message: str,
    kind: str,
    headers: dict[str, str] | None = None,
    *,
    code: str | None = None,
) -> Answer:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return JSONAnswer(status, body, {"x-request-id": "req_fake", **(headers or {})})


def _body_problem(body: dict[str, Any]) -> str | None:
    """The real API's 400s for the mistakes an adapter can make."""
    if not isinstance(body.get("model"), str):
        return "you must provide a model parameter"
    if body.get("stream") is not True:
        return "fake server: only streaming requests are supported"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty array"
    pending: list[str] = []
    for index, message in enumerate(messages):
        role = message.get("role")
        if role == "tool":
            if message.get("tool_call_id") not in pending:
                return (
                    f"Invalid parameter: messages with role 'tool' must be a response to a "
                    f"preceding message with 'tool_calls' (messages.[{index}])."
                )
            pending.remove(message["tool_call_id"])
            if not isinstance(message.get("content"), str):
                return f"messages.[{index}].content: tool messages take text content"
            continue
        if pending:
            return (
                "An assistant message with 'tool_calls' must be followed by tool messages "
                f"responding to each 'tool_call_id'. Missing: {', '.join(pending)}"
            )
        if role not in ("system", "developer", "user", "assistant"):
            return f"messages.[{index}].role: invalid role {role!r}"
        for call in message.get("tool_calls") or []:
            try:
                json.loads(call["function"]["arguments"])
            except json.JSONDecodeError:
                return f"messages.[{index}].tool_calls: arguments must be JSON"
            pending.append(call["id"])
    return None


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return sse(
        None,
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 1_764_000_000,
            "model": model,
            "choices": [choice],
        },
    )


def _stream(model: str, reply: ChatReply, usage: tuple[int, int] | None) -> Iterator[bytes]:
    yield _chunk(model, {"role": "assistant", "content": ""})
    if reply.reasoning:
        for piece in pieces(reply.reasoning, 7):
            yield _chunk(model, {"reasoning_content": piece})
    if reply.content:
        for piece in pieces(reply.content, max(7, len(reply.content) // 1000)):
            yield _chunk(model, {"content": piece})
    for index, (name, arguments) in enumerate(reply.tool_calls):
        call_id = f"call_fake{next(_ids):04d}"
        head = {"index": index, "id": call_id, "type": "function"}
        yield _chunk(model, {"tool_calls": [{**head, "function": {"name": name, "arguments": ""}}]})
        encoded = arguments if isinstance(arguments, str) else json.dumps(arguments)
        for piece in pieces(encoded, reply.arguments_delta or max(1, len(encoded) // 3)):
            yield _chunk(
                model, {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
            )
    finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
    yield _chunk(model, {}, finish)
    if usage is not None:
        prompt, cached = usage
        completion = max(1, (len(reply.content) + len(json.dumps(reply.tool_calls))) // 4)
        body = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 1_764_000_000,
            "model": model,
            "choices": [],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            },
        }
        yield sse(None, body)
    yield sse(None, "[DONE]")


def _failing_stream(model: str, reply: ChatStreamErrorReply) -> Iterator[bytes]:
    yield _chunk(model, {"role": "assistant", "content": reply.partial_text})
    error = {"message": reply.message, "type": reply.error_type, "param": None, "code": None}
    yield sse(None, {"error": error})
