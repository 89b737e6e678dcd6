"""JSON records of a session in the shape ``claude -p --output-format stream-json`` prints:
``system/init``, ``assistant``, ``user`` and ``system/compact_boundary`` (the ``result``
record is ``RunResult.to_json()``). Headless output and the transcript both write these, so
one reader understands either;
``message_from_dict`` reads a message back exactly as it was (a resumed session sends the
model the same bytes).
"""

from __future__ import annotations

from typing import Any

from backend_agent.messages import (
    ContentBlock,
    ImageBlock,
    Message,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from backend_agent.runtime.compaction import Compaction
from backend_agent.runtime.events import PromptSent, ToolResultsSent, TurnEnd


def block_to_dict(block: ContentBlock) -> dict[str, Any]:
    """A content block in the Anthropic Messages wire shape."""
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text}
    if isinstance(block, ThinkingBlock):
        return {"type": "thinking", "thinking": block.thinking, "signature": block.signature}
    if isinstance(block, ImageBlock):
        source = {"type": "base64", "media_type": block.media_type, "data": block.data}
        return {"type": "image", "source": source}
    if isinstance(block, ToolUseBlock):
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    content: str | list[dict[str, Any]] = block.content
    if block.images:
        content = [{"type": "text", "text": block.content}, *map(block_to_dict, block.images)]
    return {
        "type": "tool_result",
        "tool_use_id": block.tool_use_id,
        "content": content,
        "is_error": block.is_error,
    }


def block_from_dict(data: dict[str, Any]) -> ContentBlock:
    """The block ``block_to_dict`` made ``data`` from; ValueError for anything else."""
    kind = data.get("type")
    if kind == "text":
        return TextBlock(data["text"])
    if kind == "thinking":
        return ThinkingBlock(data["thinking"], data.get("signature", ""))
    if kind == "image":
        source = data["source"]
        return ImageBlock(source["data"], source["media_type"])
    if kind == "tool_use":
        return ToolUseBlock(data["id"], data["name"], dict(data["input"]))
    if kind == "tool_result":
        content = data["content"]
        images: tuple[ImageBlock, ...] = ()
        if isinstance(content, list):
            text, *rest = content
            content = text["text"]
            images = tuple(_image(block_from_dict(part)) for part in rest)
        return ToolResultBlock(data["tool_use_id"], content, bool(data["is_error"]), images)
    raise ValueError(f"unknown content block type {kind!r}")


def _image(block: ContentBlock) -> ImageBlock:
    if not isinstance(block, ImageBlock):
        raise ValueError("a tool result's extra parts must be images")
    return block


def message_to_dict(message: Message) -> dict[str, Any]:
    """A message as ``{"role", "content"}`` with wire-shaped blocks."""
    return {"role": message.role, "content": [block_to_dict(b) for b in message.content]}


def message_from_dict(data: dict[str, Any]) -> Message:
    """The message ``message_to_dict`` made ``data`` from; ValueError/KeyError if malformed."""
    role = data["role"]
    if role not in ("user", "assistant"):
        raise ValueError(f"unknown role {role!r}")
    return Message(role, [block_from_dict(block) for block in data["content"]])


def init_record(
    session_id: str,
    *,
    cwd: str,
    model: str,
    tools: list[str],
    agent: str,
    permission_mode: str,
    sandbox: str,
) -> dict[str, Any]:
    """The first record of a session: what runs where, and what isolates shell commands
    (``bubblewrap``, ``landlock`` or ``none``)."""
    return {
        "type": "system",
        "subtype": "init",
        "session_id": session_id,
        "cwd": cwd,
        "model": model,
        "tools": tools,
        "agent": agent,
        "permissionMode": permission_mode,
        "sandbox": sandbox,
    }


def assistant_record(event: TurnEnd, session_id: str) -> dict[str, Any]:
    """One model turn: its message with the model, stop reason and usage."""
    message = {
        "type": "message",
        "model": event.model,
        **message_to_dict(event.message),
        "stop_reason": event.stop_reason,
        "usage": event.usage.as_dict(),
    }
    return {
        "type": "assistant",
        "message": message,
        "parent_tool_use_id": None,
        "session_id": session_id,
    }


def user_record(event: PromptSent | ToolResultsSent, session_id: str) -> dict[str, Any]:
    """A user message: a prompt, hook feedback, or a turn's tool results."""
    return {
        "type": "user",
        "message": message_to_dict(event.message),
        "parent_tool_use_id": None,
        "session_id": session_id,
    }


def compact_boundary_record(compaction: Compaction, session_id: str) -> dict[str, Any]:
    """The context was compacted here: why, and its size in tokens before and after."""
    return {
        "type": "system",
        "subtype": "compact_boundary",
        "session_id": session_id,
        "compact_metadata": {
            "trigger": compaction.trigger,
            "pre_tokens": compaction.pre_tokens,
            "post_tokens": compaction.post_tokens,
        },
    }
