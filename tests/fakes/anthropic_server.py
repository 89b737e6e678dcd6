"""A fake Anthropic Messages API: validates requests like the real one and streams replies as SSE.

Prompt caching is modelled from the request's ``cache_control`` breakpoints: each breakpoint
stores the prefix up to it (tools, then system, then messages); a later request reads from the
cache the longest stored prefix found at or up to 20 blocks before one of its breakpoints,
writes the rest up to its last breakpoint, and pays full price for what follows. Tokens are
counted as a quarter of the characters of each block's JSON.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .server import (
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

LOOKBACK_BLOCKS = 20
IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
MAX_BREAKPOINTS = 4
BLOCK_TYPES = {
    "user": {"text", "image", "tool_result", "document"},
    "assistant": {"text", "thinking", "redacted_thinking", "tool_use"},
}
_ids = itertools.count(1)


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def thinking(value: str, signature: str = "sig-fake") -> dict[str, Any]:
    return {"type": "thinking", "thinking": value, "signature": signature}


def redacted_thinking(data: str) -> dict[str, Any]:
    return {"type": "redacted_thinking", "data": data}


def tool_use(name: str, tool_input: dict[str, Any] | str, id: str | None = None) -> dict[str, Any]:
    """A tool_use block; input given as a string is streamed as it is (e.g. broken JSON)."""
    return {
        "type": "tool_use",
        "id": id or f"toolu_{next(_ids):04d}",
        "name": name,
        "input": tool_input,
    }


@dataclass
class Reply:
    """One scripted assistant turn, as wire content blocks."""

    content: list[dict[str, Any]]
    stop_reason: str | None = None
    """Default: ``tool_use`` when the content calls a tool, else ``end_turn``."""
    input_delta: int = 0
    """Characters of tool input per delta; 0: the input in three pieces."""

    @classmethod
    def of(
        cls, *blocks: dict[str, Any] | str, stop_reason: str | None = None, input_delta: int = 0
    ) -> Reply:
        return cls([text(b) if isinstance(b, str) else b for b in blocks], stop_reason, input_delta)


@dataclass
class ErrorReply:
    """An HTTP error answer in the API's error format."""

    status: int
    error_type: str = "api_error"
    message: str = "Internal server error"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class StreamErrorReply:
    """A 200 stream that starts a text block, then fails with an ``error`` event or hangs up."""

    error_type: str = "overloaded_error"
    message: str = "Overloaded"
    partial_text: str = "Partial"
    hang_up: bool = False
    """Instead of the error event, lose the connection."""


AnthropicReply = Reply | ErrorReply | StreamErrorReply | StreamFault
PING = sse("ping", {"type": "ping"})


@dataclass
class ReportedUsage:
    """The usage the server reported for one request, as the real API would count it."""

    input_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int
    output_tokens: int = 0


class AnthropicFake(FakeServer[AnthropicReply]):
    """Serves ``POST /v1/messages`` (streaming only); ``url`` is the SDK's base URL."""

    def __init__(
        self,
        responder: Callable[[RecordedRequest], AnthropicReply] | None = None,
        *,
        context_window: int | None = None,
    ):
        super().__init__(responder)
        self._cache: set[str] = set()
        self.usages: list[ReportedUsage] = []
        """What each streamed answer reported, in order."""
        self.context_window = context_window
        """Prompts of more tokens are refused with the API's 400 "prompt is too long"."""
        self.too_long: list[int] = []
        """The token counts of the prompts refused that way."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, request: RecordedRequest) -> Answer:
        problem = _auth_problem(request) or _request_problem(request)
        if problem is not None:
            return problem
        size = prompt_size(request.body)
        if self.context_window is not None and size > self.context_window:
            self.too_long.append(size)
            message = f"prompt is too long: {size} tokens > {self.context_window} maximum"
            return _error(400, "invalid_request_error", message)
        reply = self.next_reply(request)
        if reply is None:
            return _error(500, "api_error", "fake server: no scripted reply left")
        if isinstance(reply, ErrorReply):
            return _error(reply.status, reply.error_type, reply.message, reply.headers)
        usage = self._account(request.body)
        if isinstance(reply, Reply):
            usage.output_tokens = max(1, len(json.dumps(reply.content)) // 4)
        self.usages.append(usage)
        model = request.body["model"]
        if isinstance(reply, StreamErrorReply):
            return SSEAnswer(_failing_stream(model, usage, reply), drop=reply.hang_up)
        if isinstance(reply, StreamFault):
            start = [_message_start(model, usage), *_started_text(reply.partial_text)]
            return fault_answer(reply, start, PING)
        return SSEAnswer(_stream(model, usage, reply))

    def _account(self, body: dict[str, Any]) -> ReportedUsage:
        segments = _segments(body)
        tokens = [max(1, len(json.dumps(s, sort_keys=True)) // 4) for s, _ in segments]
        hashes, digest = [], hashlib.sha256(body["model"].encode())
        for segment, _ in segments:
            digest = digest.copy()
            digest.update(json.dumps(segment, sort_keys=True).encode())
            hashes.append(digest.hexdigest())
        breakpoints = [i for i, (_, marked) in enumerate(segments) if marked]
        hit = -1
        for point in breakpoints:
            for i in range(point, max(-1, point - LOOKBACK_BLOCKS), -1):
                if hashes[i] in self._cache:
                    hit = max(hit, i)
                    break
        last = breakpoints[-1] if breakpoints else -1
        self._cache.update(hashes[i] for i in breakpoints)
        read = sum(tokens[: hit + 1])
        written = sum(tokens[hit + 1 : last + 1]) if last > hit else 0
        return ReportedUsage(sum(tokens) - read - written, written, read)


def prompt_size(body: dict[str, Any]) -> int:
    """A request's prompt in tokens, counted as the usage is."""
    return sum(max(1, len(json.dumps(s, sort_keys=True)) // 4) for s, _ in _segments(body))


def _segments(body: dict[str, Any]) -> list[tuple[Any, bool]]:
    """The cacheable prefix order (tools, system, message blocks), each with its breakpoint flag."""
    out: list[tuple[Any, bool]] = []

    def add(item: dict[str, Any], prefix: str = "") -> None:
        plain = {k: v for k, v in item.items() if k != "cache_control"}
        out.append(((prefix, plain), "cache_control" in item))

    for tool in body.get("tools", []):
        add(tool)
    system = body.get("system")
    for block in [text(system)] if isinstance(system, str) else system or []:
        add(block)
    for message in body["messages"]:
        content = message["content"]
        for block in [text(content)] if isinstance(content, str) else content:
            add(block, message["role"])
    return out


def _error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Answer:
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return JSONAnswer(status, body, {"request-id": "req_fake", **(headers or {})})


def _auth_problem(request: RecordedRequest) -> Answer | None:
    headers = request.headers
    if not headers.get("x-api-key") and not headers.get("authorization", "").startswith("Bearer "):
        return _error(401, "authentication_error", "x-api-key header is required")
    if "anthropic-version" not in headers:
        return _error(400, "invalid_request_error", "anthropic-version header is required")
    return None


def _request_problem(request: RecordedRequest) -> Answer | None:
    """The real API's 400s for the mistakes an adapter can make."""
    problem = _body_problem(request.body) if isinstance(request.body, dict) else "body: not JSON"
    return None if problem is None else _error(400, "invalid_request_error", problem)


def _body_problem(body: dict[str, Any]) -> str | None:
    for name, kind in (("model", str), ("max_tokens", int), ("messages", list)):
        if not isinstance(body.get(name), kind):
            return f"{name}: Field required"
    if body.get("stream") is not True:
        return "fake server: only streaming requests are supported"
    messages = body["messages"]
    if not messages or messages[0]["role"] != "user":
        return "messages: the first message must use the user role"
    marks = sum(marked for _, marked in _segments(body))
    if marks > MAX_BREAKPOINTS:
        return (
            f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {marks}."
        )
    pending: set[str] = set()
    for index, message in enumerate(messages):
        content = message["content"]
        blocks = [text(content)] if isinstance(content, str) else content
        if not blocks:
            return f"messages.{index}: all messages must have non-empty content"
        problem = _blocks_problem(index, message["role"], blocks, pending)
        if problem is not None:
            return problem
        pending = {b["id"] for b in blocks if b["type"] == "tool_use"}
    return None


def _blocks_problem(
    index: int, role: str, blocks: list[dict[str, Any]], pending: set[str]
) -> str | None:
    answered = {b["tool_use_id"] for b in blocks if b["type"] == "tool_result"}
    if role == "user" and pending - answered:
        missing = ", ".join(sorted(pending - answered))
        return (
            f"messages.{index}: tool_use ids were found without tool_result blocks "
            f"immediately after: {missing}"
        )
    for number, block in enumerate(blocks):
        where = f"messages.{index}.content.{number}"
        if block["type"] not in BLOCK_TYPES[role]:
            return f"{where}: {block['type']} blocks are not allowed in {role} messages"
        if block["type"] == "text" and not block["text"]:
            return f"{where}: text content blocks must be non-empty"
        if block["type"] == "tool_result" and block["tool_use_id"] not in pending:
            return f"{where}: unexpected tool_use_id {block['tool_use_id']!r} in tool_result"
        for image in _images(block):
            if image["source"].get("media_type") not in IMAGE_TYPES:
                return f"{where}: image media type must be one of {sorted(IMAGE_TYPES)}"
        if "cache_control" in block and block["type"] in ("thinking", "redacted_thinking"):
            return f"{where}: thinking blocks cannot carry cache_control"
    return None


def _images(block: dict[str, Any]) -> list[dict[str, Any]]:
    """The image blocks in a block: itself, or those inside a tool result."""
    if block["type"] == "image":
        return [block]
    content = block.get("content") if block["type"] == "tool_result" else None
    return [b for b in content if b["type"] == "image"] if isinstance(content, list) else []


def _message_start(model: str, usage: ReportedUsage) -> bytes:
    message = {
        "id": f"msg_fake{next(_ids):04d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": usage.input_tokens,
            "cache_creation_input_tokens": usage.cache_creation_input_tokens,
            "cache_read_input_tokens": usage.cache_read_input_tokens,
            "output_tokens": 1,
        },
    }
    return sse("message_start", {"type": "message_start", "message": message})


def _stream(model: str, usage: ReportedUsage, reply: Reply) -> Iterator[bytes]:
    yield _message_start(model, usage)
    yield sse("ping", {"type": "ping"})
    for index, block in enumerate(reply.content):
        yield from _block_events(index, block, reply.input_delta)
    calls_tool = any(b["type"] == "tool_use" for b in reply.content)
    stop = reply.stop_reason or ("tool_use" if calls_tool else "end_turn")
    delta = {"stop_reason": stop, "stop_sequence": None}
    yield sse(
        "message_delta",
        {"type": "message_delta", "delta": delta, "usage": {"output_tokens": usage.output_tokens}},
    )
    yield sse("message_stop", {"type": "message_stop"})


def _block_events(index: int, block: dict[str, Any], input_delta: int = 0) -> Iterator[bytes]:
    def delta(body: dict[str, Any]) -> bytes:
        return sse(
            "content_block_delta", {"type": "content_block_delta", "index": index, "delta": body}
        )

    kind = block["type"]
    empty = {"text": text(""), "thinking": thinking("", ""), "tool_use": {**block, "input": {}}}
    start = empty.get(kind, block)
    yield sse(
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": start},
    )
    if kind == "text":
        for piece in pieces(block["text"], max(7, len(block["text"]) // 1000)):
            yield delta({"type": "text_delta", "text": piece})
    elif kind == "thinking":
        for piece in pieces(block["thinking"], 7):
            yield delta({"type": "thinking_delta", "thinking": piece})
        yield delta({"type": "signature_delta", "signature": block["signature"]})
    elif kind == "tool_use":
        raw = block["input"]
        arguments = raw if isinstance(raw, str) else json.dumps(raw)
        yield delta({"type": "input_json_delta", "partial_json": ""})
        for piece in pieces(arguments, input_delta or max(1, len(arguments) // 3)):
            yield delta({"type": "input_json_delta", "partial_json": piece})
    yield sse("content_block_stop", {"type": "content_block_stop", "index": index})


def _started_text(partial: str) -> list[bytes]:
    """The events of a text block that has begun but not ended."""
    return list(_block_events(0, text(partial)))[:-1]


def _failing_stream(model: str, usage: ReportedUsage, reply: StreamErrorReply) -> Iterator[bytes]:
    yield _message_start(model, usage)
    yield from _started_text(reply.partial_text)
    if not reply.hang_up:
        error = {"type": "error", "error": {"type": reply.error_type, "message": reply.message}}
        yield sse("error", error)
