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
    "opus": "claude-opus-4-5",
    "sonnet": "claude-sonnet-4-5",
    "haiku": "claude-haiku-4-5",
}


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens."""

    input: float
    output: float
    cache_write: float
    cache_read: float


# Longest matching prefix wins, so dated snapshots ("claude-sonnet-4-5-20250929") are covered.
PRICES: dict[str, Price] = {
    "claude-opus-4-5": Price(5.0, 25.0, 6.25, 0.50),
    "claude-opus-4": Price(15.0, 75.0, 18.75, 1.50),
    "claude-sonnet-4": Price(3.0, 15.0, 3.75, 0.30),
    "claude-3-7-sonnet": Price(3.0, 15.0, 3.75, 0.30),
    "claude-haiku-4-5": Price(1.0, 5.0, 1.25, 0.10),
    "claude-3-5-haiku": Price(0.80, 4.0, 1.0, 0.08),
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


def resolve_alias(name: str) -> str:
    """The full model id for an alias (env override first); other names pass through."""
    alias = name.lower()
    if alias in ALIASES:
        return os.environ.get(f"BACKEND_AGENT_{alias.upper()}_MODEL") or ALIASES[alias]
    return name


def price_of(model_id: str) -> Price | None:
    """The price entry whose id is the longest prefix of ``model_id``; None when unknown."""
    matches = [key for key in PRICES if model_id.startswith(key)]
    return PRICES[max(matches, key=len)] if matches else None


def cost_usd(model_id: str, usage: Usage) -> float:
    """What ``usage`` cost on ``model_id``; 0.0 for models without a known price (e.g. local)."""
    price = price_of(model_id)
    if price is None:
        return 0.0
    return (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + usage.cache_creation_input_tokens * price.cache_write
        + usage.cache_read_input_tokens * price.cache_read
    ) / 1_000_000
