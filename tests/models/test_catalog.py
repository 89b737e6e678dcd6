"""Aliases and prices: what a run costs and which model an alias means."""

from __future__ import annotations

import pytest

from backend_agent.messages import Usage
from backend_agent.models.catalog import (
    ALIASES,
    cost_usd,
    default_output_tokens,
    price_of,
    resolve_alias,
)


def test_every_token_kind_is_charged_at_its_own_rate():
    usage = Usage(
        input_tokens=1_000_000,
        output_tokens=1_000_000,
        cache_creation_input_tokens=1_000_000,
        cache_read_input_tokens=1_000_000,
    )

    assert cost_usd("claude-sonnet-4-5", usage) == pytest.approx(3.0 + 15.0 + 3.75 + 0.30)


def test_cache_reads_cost_a_tenth_or_less_of_fresh_input():
    for model_id in [*ALIASES.values(), "gpt-5.5", "claude-opus-4-8"]:
        price = price_of(model_id)
        assert price is not None, model_id
        assert price.cache_read <= price.input / 10 + 1e-12


@pytest.mark.parametrize(
    ("model_id", "priced_as"),
    [
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4"),
        ("claude-opus-4-1", "claude-opus-4"),
        ("claude-opus-4-5-20251101", "claude-opus-4-5"),
        ("claude-opus-5-5", "claude-opus-5-5"),
        ("gpt-5-2025-08-07", "gpt-5"),
        ("gpt-5-mini", "gpt-5-mini"),
    ],
)
def test_snapshots_and_versions_are_priced_like_their_family(model_id, priced_as):
    assert price_of(model_id) == price_of(priced_as)


@pytest.mark.parametrize("model_id", ["gpt-5.4-mini", "llama3.1:8b", "qwen3-coder:30b", "o3-pro"])
def test_unknown_models_and_variants_cost_nothing_rather_than_a_guess(model_id):
    assert price_of(model_id) is None
    assert cost_usd(model_id, Usage(input_tokens=1000, output_tokens=1000)) == 0.0


def test_aliases_resolve_to_current_models_and_can_be_overridden(monkeypatch):
    assert resolve_alias("Sonnet") == ALIASES["sonnet"]
    assert all(price_of(model_id) is not None for model_id in ALIASES.values())
    monkeypatch.setenv("BACKEND_AGENT_OPUS_MODEL", "claude-opus-4-8")
    assert resolve_alias("opus") == "claude-opus-4-8"
    assert resolve_alias("claude-haiku-4-5") == "claude-haiku-4-5"


@pytest.mark.parametrize(
    ("model_id", "context", "expected"),
    [
        ("claude-sonnet-5-5", None, 32_000),
        ("claude-3-5-haiku-20241022", None, 8_192),  # the API's own maximum for it
        ("gpt-4o", None, 16_384),
        ("qwen3-coder", None, 8_192),
        ("qwen3-coder", 16_384, 4_096),  # a quarter of a local server's context
        ("qwen3-coder", 2_048, 1_024),  # but never less than this
        ("gpt-4o", 32_768, 8_192),  # a local server's model named like OpenAI's
    ],
)
def test_the_default_output_limit_comes_from_the_catalog_and_the_context(
    model_id: str, context: int | None, expected: int
) -> None:
    assert default_output_tokens(model_id, context) == expected
