"""A deterministic model that replays turns from a YAML or JSON file: for tests, demos and bug
reproductions (the format is documented in docs/scripted-model.md).

Each call returns the next turn of the script: its text (streamed word by word), its tool
calls and its usage. Asking for a turn after the last one is a ``ModelError``. A script's
``summary`` answers the requests that summarise a conversation for a compaction, without
using a turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from backend_agent.errors import UserError
from backend_agent.messages import (
    ContentBlock,
    Message,
    ModelRequest,
    ModelResponse,
    StopReason,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolUseBlock,
    Usage,
)
from backend_agent.models.base import EventSink, ModelError
from backend_agent.models.catalog import cost_usd

_STOP_REASONS = ("end_turn", "tool_use", "max_tokens", "stop_sequence", "refusal")
_TURN_FIELDS = {"text", "thinking", "tool_calls", "usage", "stop_reason"}
_USAGE_FIELDS = set(Usage().as_dict())


@dataclass(frozen=True)
class ScriptedTurn:
    """One assistant turn of a script."""

    message: Message
    stop_reason: StopReason
    usage: Usage


class ScriptedModel:
    """Replays a script's turns in order; ``model_id`` (for prices) comes from the script."""

    def __init__(
        self,
        turns: list[ScriptedTurn],
        *,
        model_id: str = "scripted",
        source: str = "the script",
        summary: str | None = None,
    ) -> None:
        self._turns = turns
        self._model_id = model_id
        self.source = source  # the script's file, for messages
        self.summary = summary  # the answer to compaction requests; None: they take a turn
        self.requests: list[ModelRequest] = []  # what the runtime sent, for tests and debugging
        self._turns_used = 0

    @classmethod
    def from_file(cls, path: Path) -> ScriptedModel:
        """Load a script; UserError naming the file and the problem when it is malformed."""
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise UserError(f"{path}: cannot read script: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise UserError(f"{path}: not UTF-8 text; save the script as UTF-8") from exc
        except yaml.MarkedYAMLError as exc:  # one line: where, and what the parser expected
            mark = exc.problem_mark
            where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
            raise UserError(f"{where}: not valid YAML/JSON: {exc.problem}") from exc
        except yaml.YAMLError as exc:
            raise UserError(f"{path}: not valid YAML/JSON: {exc}") from exc
        return cls.from_data(data, origin=str(path))

    @classmethod
    def from_data(cls, data: Any, *, origin: str = "the script") -> ScriptedModel:
        """A model from an already-parsed script (``{"model": ..., "turns": [...]}`` or a list)."""
        if isinstance(data, list):
            data = {"turns": data}
        if not isinstance(data, dict) or not isinstance(data.get("turns"), list):
            raise UserError(f"{origin}: a script is a mapping with a 'turns' list")
        model_id = data.get("model", "scripted")
        if not isinstance(model_id, str):
            raise UserError(f"{origin}: 'model' must be a string")
        summary = data.get("summary")
        if summary is not None and not isinstance(summary, str):
            raise UserError(f"{origin}: 'summary' must be a string")
        turns = [
            _parse_turn(turn, origin, number) for number, turn in enumerate(data["turns"], start=1)
        ]
        return cls(turns, model_id=model_id, source=origin, summary=summary)

    @property
    def model_id(self) -> str:
        return self._model_id

    def complete(self, request: ModelRequest, on_event: EventSink | None = None) -> ModelResponse:
        """The next turn of the script, streamed to ``on_event`` word by word (a summary
        request gets the script's ``summary`` when it has one); ModelError past the end."""
        self.requests.append(request)
        if request.purpose == "summary" and self.summary is not None:
            message = Message("assistant", [TextBlock(self.summary)])
            return ModelResponse(message, "end_turn", Usage(), self._model_id, 0.0)
        index = self._turns_used
        self._turns_used += 1
        if index >= len(self._turns):
            raise ModelError(
                f"scripted model: {self.source} has {len(self._turns)} turn(s) "
                f"and the run asked for turn {index + 1}"
            )
        turn = self._turns[index]
        if on_event is not None:
            for block in turn.message.content:
                if isinstance(block, ThinkingBlock):
                    for piece in _pieces(block.thinking):
                        on_event(ThinkingDelta(piece))
                elif isinstance(block, TextBlock):
                    for piece in _pieces(block.text):
                        on_event(TextDelta(piece))
        cost = cost_usd(self._model_id, turn.usage)  # a script's model id may name a real model
        return ModelResponse(turn.message, turn.stop_reason, turn.usage, self._model_id, cost)


def _pieces(text: str) -> list[str]:
    """Text split after each run of whitespace, so UIs see it arrive as a stream would."""
    return re.findall(r"\S*\s*", text)[:-1] or [text]


def _parse_turn(raw: Any, script: str, number: int) -> ScriptedTurn:
    origin = f"{script}: turn {number}"
    if isinstance(raw, str):
        raw = {"text": raw}
    if not isinstance(raw, dict):
        raise UserError(f"{origin}: a turn is a mapping (text, thinking, tool_calls, usage)")
    unknown = set(raw) - _TURN_FIELDS
    if unknown:
        raise UserError(
            f"{origin}: unknown field(s) {', '.join(sorted(unknown))}; "
            f"valid: {', '.join(sorted(_TURN_FIELDS))}"
        )
    content: list[ContentBlock] = []
    if raw.get("thinking"):
        content.append(ThinkingBlock(str(raw["thinking"])))
    if raw.get("text"):
        content.append(TextBlock(str(raw["text"])))
    calls = raw.get("tool_calls") or []
    if not isinstance(calls, list):
        raise UserError(f"{origin}: 'tool_calls' must be a list")
    for index, call in enumerate(calls, start=1):
        call_id = f"toolu_scripted_{number}_{index}"
        content.append(_parse_call(call, f"{origin}, tool call {index}", call_id))
    stop_reason = raw.get("stop_reason") or ("tool_use" if calls else "end_turn")
    if stop_reason not in _STOP_REASONS:
        raise UserError(f"{origin}: 'stop_reason' must be one of {', '.join(_STOP_REASONS)}")
    message = Message("assistant", content)
    return ScriptedTurn(message, cast(StopReason, stop_reason), _parse_usage(raw, origin))


def _parse_call(raw: Any, origin: str, default_id: str) -> ToolUseBlock:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise UserError(f"{origin}: a tool call needs a 'name' and an 'input' mapping")
    tool_input = raw.get("input", {})
    if not isinstance(tool_input, dict):
        raise UserError(f"{origin}: 'input' must be a mapping")
    return ToolUseBlock(str(raw.get("id") or default_id), raw["name"], tool_input)


def _parse_usage(raw: dict[str, Any], origin: str) -> Usage:
    usage = raw.get("usage") or {}
    if not isinstance(usage, dict) or not set(usage) <= _USAGE_FIELDS:
        raise UserError(f"{origin}: 'usage' fields are {', '.join(sorted(_USAGE_FIELDS))}")
    if not all(isinstance(v, int) and v >= 0 for v in usage.values()):
        raise UserError(f"{origin}: usage token counts must be non-negative integers")
    return Usage(**usage)
