"""What the user set about model requests: the output limit, prices for models the catalog does
not know, stream timeouts and retries; from flags, the environment and settings files.

Settings keys (in ``~/.claude/settings.json``, ``.claude/settings.json``,
``.claude/settings.local.json`` or ``--settings``; the most specific source wins)::

    {"maxOutputTokens": 8000,
     "modelPrices": {"qwen3-coder": {"input": 0.2, "output": 0.8}}}

Prices are US dollars per million tokens (``cacheWrite`` and ``cacheRead`` default to 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backend_agent.errors import UserError
from backend_agent.models.base import env_number
from backend_agent.models.catalog import Price
from backend_agent.models.retry import RetryPolicy
from backend_agent.settings import SettingsFiles

MAX_OUTPUT_TOKENS_ENV = "BACKEND_AGENT_MAX_OUTPUT_TOKENS"
IDLE_TIMEOUT_ENV = "BACKEND_AGENT_STREAM_IDLE_TIMEOUT"
REQUEST_TIMEOUT_ENV = "BACKEND_AGENT_REQUEST_TIMEOUT"
_PRICE_FIELDS = {
    "input": "input",
    "output": "output",
    "cacheWrite": "cache_write",
    "cacheRead": "cache_read",
}


@dataclass(frozen=True)
class Timeouts:
    """How long a model request may take: to connect, between two pieces of content, in all."""

    idle: float = 90.0
    total: float = 1800.0
    connect: float = 10.0


@dataclass(frozen=True)
class ModelSettings:
    """Everything an adapter needs besides the model id, credentials and base URL."""

    max_output_tokens: int | None = None
    """Output tokens per request; None: the catalog's default for the model."""
    prices: dict[str, Price] = field(default_factory=dict)
    """Prices the user gave (they apply at any base URL), keyed like the catalog's."""
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def load(
        cls,
        settings: SettingsFiles | None = None,
        max_output_tokens: int | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> ModelSettings:
        """``max_output_tokens`` (the flag) over ``$BACKEND_AGENT_MAX_OUTPUT_TOKENS`` over the
        settings files (the most specific that sets it); timeouts and retries from the
        environment, retry notices to ``notify`` (default: stderr)."""
        output, prices = _from_settings(settings) if settings is not None else (None, {})
        from_env = env_number(MAX_OUTPUT_TOKENS_ENV, 0, whole=True)
        chosen = max_output_tokens or int(from_env) or output
        timeouts = Timeouts(
            idle=env_number(IDLE_TIMEOUT_ENV, Timeouts.idle) or Timeouts.idle,
            total=env_number(REQUEST_TIMEOUT_ENV, Timeouts.total) or Timeouts.total,
        )
        return cls(chosen, prices, timeouts, RetryPolicy.from_env(notify))


def _from_settings(settings: SettingsFiles) -> tuple[int | None, dict[str, Price]]:
    output: int | None = None
    prices: dict[str, Price] = {}
    for source in settings.sources:
        where, data = source.label, source.data
        value = data.get("maxOutputTokens")
        if value is not None:
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise UserError(f"{where}: maxOutputTokens: expected a whole number ≥ 1")
            output = value
        table = data.get("modelPrices", {})
        if not isinstance(table, dict):
            raise UserError(f"{where}: modelPrices: expected {{model id: {{input, output}}}}")
        prices.update({model: _price(where, model, fields) for model, fields in table.items()})
    return output, prices


def _price(label: str, model: str, fields: Any) -> Price:
    where = f"{label}: modelPrices.{model}"
    if not isinstance(fields, dict) or not {"input", "output"} <= set(fields):
        raise UserError(f"{where}: give input and output (US dollars per million tokens)")
    unknown = set(fields) - set(_PRICE_FIELDS)
    if unknown:
        raise UserError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    values: dict[str, float] = {}
    for name, attribute in _PRICE_FIELDS.items():
        value = fields.get(name, 0)
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise UserError(f"{where}.{name}: expected a number ≥ 0")
        values[attribute] = float(value)
    return Price(**values)
