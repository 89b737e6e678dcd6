"""Model aliases and prices: the one table to update when providers change their line-up.

Aliases (``opus``, ``sonnet``, ``haiku``) can be pointed elsewhere with the environment
variables ``BACKEND_AGENT_OPUS_MODEL``, ``BACKEND_AGENT_SONNET_MODEL`` and
``BACKEND_AGENT_HAIKU_MODEL``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from backend_agent.messages import Usage

ALIASES: dict[str, str] = {
    "opus": "claude-opus-5-5",
    "sonnet": "claude-sonnet-5-5",
    "haiku": "claude-haiku-5-5",
}


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens."""

    input: float
    output: float
    cache_write: float
    cache_read: float

    def cost(self, usage: Usage) -> float:
        """What ``usage`` costs at this price, in US dollars."""
        return (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_creation_input_tokens * self.cache_write
            + usage.cache_read_input_tokens * self.cache_read
        ) / 1_000_000


# A key prices the id equal to it and ids that extend it with "-" and a digit: dated snapshots
# ("claude-sonnet-4-5-20250929") and versions of a family key ("claude-sonnet-4" prices
# "claude-sonnet-4-5"), but not variants ("gpt-5.4-mini" is unknown). The longest key wins.
# Cache writes are the 5-minute rate. Sources: the providers' published price pages.
PRICES: dict[str, Price] = {
    "claude-fable-5-1": Price(10.0, 50.0, 12.50, 0.25),
    "claude-fable-5": Price(10.0, 50.0, 12.50, 1.0),
    "claude-mythos-5-1": Price(10.0, 50.0, 12.50, 0.25),
    "claude-mythos-5": Price(10.0, 50.0, 12.50, 1.0),
    "claude-opus-5-5": Price(4.0, 20.0, 5.0, 0.20),
    "claude-opus-5": Price(5.0, 25.0, 6.25, 0.50),
    "claude-opus-4-8": Price(5.0, 25.0, 6.25, 0.50),
    "claude-opus-4-7": Price(5.0, 25.0, 6.25, 0.50),
    "claude-opus-4-6": Price(5.0, 25.0, 6.25, 0.50),
    "claude-opus-4-5": Price(5.0, 25.0, 6.25, 0.50),
    "claude-opus-4": Price(15.0, 75.0, 18.75, 1.50),
    "claude-sonnet-5-5": Price(2.0, 10.0, 2.50, 0.10),
    "claude-sonnet-5": Price(2.0, 10.0, 2.50, 0.20),
    "claude-sonnet-4": Price(3.0, 15.0, 3.75, 0.30),
    "claude-3-7-sonnet": Price(3.0, 15.0, 3.75, 0.30),
    # Haiku 5.5 costs more above 100k prompt tokens; this is the rate below that.
    "claude-haiku-5-5": Price(0.10, 0.50, 0.125, 0.01),
    "claude-haiku-4-5": Price(1.0, 5.0, 1.25, 0.10),
    "claude-3-5-haiku": Price(0.80, 4.0, 1.0, 0.08),
    "gpt-5.6-sol": Price(5.0, 30.0, 6.25, 0.50),
    "gpt-5.6-terra": Price(2.50, 15.0, 3.125, 0.25),
    "gpt-5.6-luna": Price(1.0, 6.0, 1.25, 0.10),
    "gpt-5.5": Price(5.0, 30.0, 0.0, 0.50),
    "gpt-5.4": Price(2.50, 15.0, 0.0, 0.25),
    "gpt-5.2": Price(1.75, 14.0, 0.0, 0.175),
    "gpt-5.1": Price(1.25, 10.0, 0.0, 0.125),
    "gpt-5-mini": Price(0.25, 2.0, 0.0, 0.025),
    "gpt-5-nano": Price(0.05, 0.40, 0.0, 0.005),
    "gpt-5": Price(1.25, 10.0, 0.0, 0.125),
    "gpt-4.1-mini": Price(0.40, 1.60, 0.0, 0.10),
    "gpt-4.1-nano": Price(0.10, 0.40, 0.0, 0.025),
    "gpt-4.1": Price(2.0, 8.0, 0.0, 0.50),
    "gpt-4o-mini": Price(0.15, 0.60, 0.0, 0.075),
    "gpt-4o": Price(2.50, 10.0, 0.0, 1.25),
    "o4-mini": Price(1.10, 4.40, 0.0, 0.275),
    "o3": Price(2.0, 8.0, 0.0, 0.50),
}


# Output tokens asked for per request when the user sets no limit: a key covers the ids that
# start with it (the longest key wins). Other models (local servers) get DEFAULT_OUTPUT_TOKENS,
# further clamped to a quarter of the server's context when it reports one.
OUTPUT_TOKENS: dict[str, int] = {
    "claude-": 32_000,
    "claude-3-5": 8_192,  # older models allow less: the API refuses a larger max_tokens
    "claude-3-haiku": 4_096,
    "claude-3-opus": 4_096,
    "claude-3-sonnet": 4_096,
    "claude-3-7": 32_000,
    "gpt-5": 32_000,
    "gpt-4.1": 32_768,
    "gpt-4o": 16_384,
    "o3": 32_000,
    "o4-mini": 32_000,
}
DEFAULT_OUTPUT_TOKENS = 8_192
MIN_OUTPUT_TOKENS = 1_024


def default_output_tokens(model_id: str, context: int | None = None) -> int:
    """The output limit for ``model_id``: the table's, else DEFAULT_OUTPUT_TOKENS; at most a
    quarter of ``context`` (a local server's context size, when it reports one)."""
    keys = [key for key in OUTPUT_TOKENS if model_id.startswith(key)]
    limit = OUTPUT_TOKENS[max(keys, key=len)] if keys else DEFAULT_OUTPUT_TOKENS
    if context is None:
        return limit
    return min(limit, max(MIN_OUTPUT_TOKENS, context // 4))


@dataclass(frozen=True)
class ContextLimits:
    """Tokens a model holds in one request (``window``: prompt and answer together), and how
    many of them a session keeps free for the answer (``output_reserve``)."""

    window: int
    output_reserve: int


# A key covers the ids that start with it (the longest key wins). Sources: the providers'
# model pages. Unknown models (local servers) get DEFAULT_CONTEXT: set the real size with
# BACKEND_AGENT_CONTEXT_WINDOW or the ``context.window`` setting (see docs/context.md).
CONTEXT_LIMITS: dict[str, ContextLimits] = {
    "claude-": ContextLimits(200_000, 32_000),
    "gpt-5": ContextLimits(400_000, 128_000),  # 272k of prompt at most
    "gpt-4.1": ContextLimits(1_047_576, 32_768),
    "gpt-4o": ContextLimits(128_000, 16_384),
    "o3": ContextLimits(200_000, 32_000),
    "o4-mini": ContextLimits(200_000, 32_000),
}
DEFAULT_CONTEXT = ContextLimits(32_768, 4_096)


def context_limits(model_id: str) -> ContextLimits:
    """The context window and output reserve of ``model_id`` (DEFAULT_CONTEXT if unknown)."""
    keys = [key for key in CONTEXT_LIMITS if model_id.startswith(key)]
    return CONTEXT_LIMITS[max(keys, key=len)] if keys else DEFAULT_CONTEXT


def resolve_alias(name: str) -> str:
    """The full model id for an alias (env override first); other names pass through."""
    alias = name.lower()
    if alias in ALIASES:
        return os.environ.get(f"BACKEND_AGENT_{alias.upper()}_MODEL") or ALIASES[alias]
    return name


def price_of(model_id: str, prices: dict[str, Price] = PRICES) -> Price | None:
    """The price of ``model_id`` in ``prices`` (see PRICES for how keys match); None when
    unknown."""
    matches = [key for key in prices if model_id == key or _extends(model_id, key)]
    return prices[max(matches, key=len)] if matches else None


def _extends(model_id: str, key: str) -> bool:
    rest = model_id.removeprefix(key + "-")
    return rest != model_id and rest[:1].isdigit()


def cost_usd(model_id: str, usage: Usage) -> float:
    """What ``usage`` cost on ``model_id``; 0.0 for models without a known price (e.g. local)."""
    price = price_of(model_id)
    return 0.0 if price is None else price.cost(usage)
