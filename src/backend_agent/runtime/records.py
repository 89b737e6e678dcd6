"""JSON records of a session in the shape ``claude -p --output-format stream-json`` prints:
``system/init``, ``assistant``, ``user`` and ``result``. Headless output and the transcript
both write these, so one reader understands either.
"""

from __future__ import annotations

from typing import Any

from backend_agent.messages import (
    ContentBlock,
    ImageBlock,
    Message,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
)
from backend_agent.runtime.agent import RunResult
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


def message_to_dict(message: Message) -> dict[str, Any]:
    """A message as ``{"role", "content"}`` with wire-shaped blocks."""
    return {"role": message.role, "content": [block_to_dict(b) for b in message.content]}


def init_record(
    session_id: str, *, cwd: str, model: str, tools: list[str], agent: str, permission_mode: str
) -> dict[str, Any]:
    """The first record of a session: what runs where."""
    return {
        "type": "system",
        "subtype": "init",
        "session_id": session_id,
        "cwd": cwd,
        "model": model,
        "tools": tools,
        "agent": agent,
        "permissionMode": permission_mode,
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


def result_record(result: RunResult) -> dict[str, Any]:
    """The final record, identical to ``--output-format json``'s single object."""
    return {
        "type": "result",
        "subtype": result.subtype,
        "is_error": result.is_error,
        "duration_ms": result.duration_ms,
        "duration_api_ms": result.duration_api_ms,
        "num_turns": result.num_turns,
        "result": result.result,
        "session_id": result.session_id,
        "total_cost_usd": result.total_cost_usd,
        "usage": result.usage.as_dict(),
        "permission_denials": result.permission_denials,
    }
