"""What /cost reads: the spend per model from a transcript's model turns."""

from __future__ import annotations

from typing import Any

from backend_agent.sessions.costs import spend_by_model


def turn(model: str, cost: float | None, **usage: int) -> dict[str, Any]:
    return {"type": "assistant", "message": {"model": model, "usage": usage}, "costUSD": cost}


def test_spend_is_summed_per_model_and_an_unknown_price_is_said() -> None:
    entries = [
        {"type": "user", "message": {"role": "user", "content": []}},
        turn("claude-a", 0.25, input_tokens=100, cache_read_input_tokens=300, output_tokens=10),
        turn("local", None, input_tokens=50, output_tokens=5),
        turn("claude-a", 0.5, input_tokens=100, cache_creation_input_tokens=100, output_tokens=20),
        turn("local", 0.0, input_tokens=50),
    ]
    claude, local = spend_by_model(entries)
    assert (claude.model, claude.turns, claude.cost_usd, claude.priced) == (
        "claude-a",
        2,
        0.75,
        True,
    )
    assert claude.input_tokens == 600 and claude.usage.output_tokens == 30
    assert claude.cache_share == 0.5
    assert (local.turns, local.cost_usd, local.priced) == (2, 0.0, False)
    assert spend_by_model([]) == []
