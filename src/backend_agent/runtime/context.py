"""How full the model's context is, and when a session compacts it.

A session's ``ContextBudget`` comes from the model catalog (window and output reserve), then
settings, environment and flags (``ContextOptions``). The ``TokenGauge`` estimates the tokens of
the next request before it is sent, calibrated by what the provider counted for the last one.
``is_context_overflow`` tells a provider's "the prompt is too long" apart from other errors.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, fields, replace
from typing import Any

from backend_agent.errors import UserError
from backend_agent.messages import (
    ContentBlock,
    ImageBlock,
    Message,
    ModelRequest,
    TextBlock,
    ThinkingBlock,
    ToolSpec,
    ToolUseBlock,
    Usage,
)
from backend_agent.models.catalog import context_limits
from backend_agent.settings import SettingsFiles

DEFAULT_COMPACT_THRESHOLD = 0.8
"""Compact when the next request would pass this share of the window minus the reserve."""
DEFAULT_TOOL_OUTPUT_LIMIT = 8_000
"""Characters of a tool result above which it is saved to a file and previewed."""
CHARS_PER_TOKEN = 4
IMAGE_TOKENS = 1_600  # what a typical screenshot costs; base64 length says nothing about it
MIN_WINDOW = 2_048

ENVIRONMENT = {
    "window": "BACKEND_AGENT_CONTEXT_WINDOW",
    "output_reserve": "BACKEND_AGENT_OUTPUT_RESERVE",
    "compact_threshold": "BACKEND_AGENT_COMPACT_THRESHOLD",
    "tool_output_limit": "BACKEND_AGENT_TOOL_OUTPUT_LIMIT",
}
SETTINGS_KEYS = {
    "window": "window",
    "output_reserve": "outputReserve",
    "compact_threshold": "compactThreshold",
    "tool_output_limit": "toolOutputLimit",
}


@dataclass(frozen=True)
class ContextOptions:
    """What the user chose about the context (flag, Python API, environment or the ``context``
    settings section); None: not given, the next source decides."""

    window: int | None = None
    output_reserve: int | None = None
    compact_threshold: float | None = None  # a share of (window - reserve), in (0, 1]
    auto_compact: bool | None = None  # False: never compact on its own (``off``)
    tool_output_limit: int | None = None

    def over(self, lower: ContextOptions) -> ContextOptions:
        """These choices, with ``lower``'s where these are not given."""
        given = {f.name: getattr(self, f.name) for f in fields(self)}
        return replace(lower, **{name: v for name, v in given.items() if v is not None})


@dataclass(frozen=True)
class ContextBudget:
    """The model's window, what stays free for its answer, and when to compact."""

    window: int
    output_reserve: int
    compact_threshold: float = DEFAULT_COMPACT_THRESHOLD
    auto_compact: bool = True

    @property
    def usable(self) -> int:
        """Tokens the prompt (system, tools, messages) may take."""
        return self.window - self.output_reserve

    @property
    def threshold(self) -> int:
        """Auto-compaction starts when the next request would pass this many tokens."""
        return int(self.usable * self.compact_threshold)


def resolve_budget(
    model_id: str, options: ContextOptions, settings: SettingsFiles | None = None
) -> ContextBudget:
    """The budget of a session with ``model_id``: ``options`` over the environment over the
    settings over the model catalog. UserError naming the source of a bad value."""
    chosen = options.over(options_from_env()).over(options_from_settings(settings))
    catalog = context_limits(model_id)
    window = chosen.window or catalog.window
    if window < MIN_WINDOW:
        raise UserError(f"context window {window} is too small: at least {MIN_WINDOW} tokens")
    reserve = chosen.output_reserve
    if reserve is None:  # a small window set for a local model keeps most of it for the prompt
        reserve = min(catalog.output_reserve, window // 4)
    if reserve >= window // 2:
        raise UserError(
            f"output reserve {reserve} leaves too little of the {window}-token window for the "
            "prompt: keep it under half the window"
        )
    return ContextBudget(
        window,
        reserve,
        chosen.compact_threshold or DEFAULT_COMPACT_THRESHOLD,
        chosen.auto_compact is not False,
    )


def tool_output_limit(options: ContextOptions, settings: SettingsFiles | None = None) -> int:
    """Characters a tool result may have before it is saved to a file instead."""
    chosen = options.over(options_from_env()).over(options_from_settings(settings))
    return chosen.tool_output_limit or DEFAULT_TOOL_OUTPUT_LIMIT


def parse_threshold(text: str, where: str) -> ContextOptions:
    """``80%``, ``80`` or ``0.8`` (a share of the window minus the reserve), or ``off``."""
    value = text.strip().lower()
    if value == "off":
        return ContextOptions(auto_compact=False)
    try:
        number = float(value.removesuffix("%"))
    except ValueError:
        number = -1.0
    share = number / 100 if value.endswith("%") or number > 1 else number
    if not 0.05 <= share <= 1:
        raise UserError(f"{where} {text!r}: give a share of the context such as 80%, 0.8, or off")
    return ContextOptions(compact_threshold=share)


def options_from_env() -> ContextOptions:
    """``BACKEND_AGENT_CONTEXT_WINDOW`` and its siblings (see ENVIRONMENT)."""
    values: dict[str, Any] = {}
    for name, variable in ENVIRONMENT.items():
        raw = os.environ.get(variable, "").strip()
        if not raw:
            continue
        if name == "compact_threshold":
            threshold = parse_threshold(raw, variable)
            values.update(compact_threshold=threshold.compact_threshold)
            values.update(auto_compact=threshold.auto_compact)
        else:
            values[name] = _whole_number(raw, variable)
    return ContextOptions(**values)


def options_from_settings(settings: SettingsFiles | None) -> ContextOptions:
    """The ``context`` sections of the settings sources, the most specific winning per key."""
    merged = ContextOptions()
    for source in settings.sources if settings is not None else ():
        section = source.data.get("context")
        if section is None:
            continue
        if not isinstance(section, dict):
            raise UserError(f"{source.label}: context: expected an object")
        merged = _section_options(section, source.label).over(merged)
    return merged


def _section_options(section: dict[str, Any], label: str) -> ContextOptions:
    values: dict[str, Any] = {}
    known = set(SETTINGS_KEYS.values())
    for key in section:
        if key not in known:
            raise UserError(
                f"{label}: context.{key}: unknown key; known: {', '.join(sorted(known))}"
            )
    for name, key in SETTINGS_KEYS.items():
        value = section.get(key)
        if value is None:
            continue
        where = f"{label}: context.{key}"
        if name == "compact_threshold":
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise UserError(f'{where}: expected a share such as 0.8, "80%" or "off"')
            threshold = parse_threshold(str(value), where)
            values.update(compact_threshold=threshold.compact_threshold)
            values.update(auto_compact=threshold.auto_compact)
        else:
            values[name] = _whole_number(value, where)
    return ContextOptions(**values)


def _whole_number(value: Any, where: str) -> int:
    try:
        number = int(value) if not isinstance(value, bool) else -1
    except (TypeError, ValueError):
        number = -1
    if number <= 0 or (isinstance(value, float) and not value.is_integer()):
        raise UserError(f"{where}: expected a positive whole number, got {value!r}")
    return number


# ---------------------------------------------------------------- estimating tokens


def text_tokens(text: str) -> int:
    """A text's tokens, estimated from its length."""
    return -(-len(text) // CHARS_PER_TOKEN)


def block_tokens(block: ContentBlock) -> int:
    if isinstance(block, TextBlock):
        return text_tokens(block.text)
    if isinstance(block, ThinkingBlock):
        return text_tokens(block.thinking) + text_tokens(block.signature) // 4
    if isinstance(block, ImageBlock):
        return IMAGE_TOKENS
    if isinstance(block, ToolUseBlock):
        return text_tokens(block.id + block.name + json.dumps(block.input)) + 8
    return text_tokens(block.content) + len(block.images) * IMAGE_TOKENS + 12


def messages_tokens(messages: list[Message]) -> int:
    return sum(4 + sum(block_tokens(b) for b in m.content) for m in messages)


def tools_tokens(tools: list[ToolSpec]) -> int:
    return sum(
        text_tokens(t.name + t.description + json.dumps(t.input_schema, separators=(",", ":")))
        for t in tools
    )


def request_tokens(request: ModelRequest) -> int:
    """The prompt tokens of ``request`` (system, tools, messages), estimated from its text."""
    return (
        text_tokens(request.system)
        + tools_tokens(request.tools)
        + messages_tokens(request.messages)
    )


class TokenGauge:
    """Estimates requests in the provider's tokens: text length, scaled by how the provider
    counted the last request it answered (models that report no usage leave the scale at 1)."""

    def __init__(self) -> None:
        self.scale = 1.0

    def tokens(self, raw: int) -> int:
        """``raw`` (a length-based estimate) in the provider's tokens."""
        return round(raw * self.scale)

    def estimate(self, request: ModelRequest) -> int:
        return self.tokens(request_tokens(request))

    def observe(self, request: ModelRequest, usage: Usage) -> None:
        """Learn from the input tokens the provider counted for ``request``."""
        counted = prompt_tokens(usage)
        raw = request_tokens(request)
        if counted > 0 and raw > 0:
            self.scale = min(4.0, max(0.25, counted / raw))


def prompt_tokens(usage: Usage) -> int:
    """A request's whole prompt as the provider counted it, cached parts included."""
    return usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens


@dataclass(frozen=True)
class ContextUsage:
    """What fills the context, by part, in estimated tokens; for a status line, ``/context``
    and the SDK. ``last_request`` is the latest request's prompt as the provider counted it."""

    window: int
    output_reserve: int
    threshold: int
    system: int  # the system prompt without the memory files
    memory: int  # the memory files (CLAUDE.md, AGENTS.md, ...) in the system prompt
    tools: int
    messages: int
    last_request: int = 0
    auto_compact: bool = True

    @property
    def used(self) -> int:
        return self.system + self.memory + self.tools + self.messages

    @property
    def free(self) -> int:
        """Tokens left for the prompt before the window (minus the reserve) is full."""
        return max(0, self.window - self.output_reserve - self.used)

    @property
    def percent_used(self) -> float:
        return 100.0 * self.used / self.window

    def as_dict(self) -> dict[str, Any]:
        parts = {f.name: getattr(self, f.name) for f in fields(self)}
        return {**parts, "used": self.used, "free": self.free}


# ---------------------------------------------------------------- overflow errors

# How providers and local servers say the prompt does not fit the context: Anthropic ("prompt
# is too long", "input length and `max_tokens` exceed context limit"), OpenAI
# ("context_length_exceeded", "maximum context length"), vLLM ("maximum context length"),
# llama.cpp ("exceeds the available context size", "exceed_context_size_error"), LM Studio
# and Mistral ("context length"), Bedrock ("input is too long"), Gemini ("input token count").
_OVERFLOW = re.compile(
    r"prompt is too long|context[ _-]?(?:length|size|window|limit)|maximum context|"
    r"exceed_context_size|input is too long|input token count|prompt contains \d+ tokens",
    re.IGNORECASE,
)
_NOT_OVERFLOW = re.compile(r"rate.?limit|per minute|HTTP 429", re.IGNORECASE)


_STATED_WINDOW = re.compile(
    r"> (\d+) maximum|maximum context length is (\d+)|context (?:size|window|length)"
    r"(?: of only)? \(?(\d{3,}) tokens",
    re.IGNORECASE,
)


def stated_window(error: BaseException) -> int | None:
    """The context window an overflow error states (``... > 200000 maximum``), if any."""
    match = _STATED_WINDOW.search(str(error))
    return int(next(g for g in match.groups() if g)) if match else None


def is_context_overflow(error: BaseException) -> bool:
    """Whether a failed model call means the prompt is too long for the model's context.

    An error about the output limit alone (``max_tokens: 100000 > 64000``) is not one: only
    errors that speak of the context or the prompt's length are.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(current)
        if _OVERFLOW.search(text) and not _NOT_OVERFLOW.search(text):
            return True
        current = current.__cause__ or current.__context__
    return False
