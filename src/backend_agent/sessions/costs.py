"""What a session spent, per model, read from its transcript: every model turn it recorded
(on every branch: a rewind does not refund what was spent), earlier runs of a resumed
session included, each with the cost the run computed for it (``costUSD``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from backend_agent.messages import Usage
from backend_agent.sessions.store import Entry


@dataclass
class ModelSpend:
    """Tokens and dollars of one model; ``priced`` is False when a turn's price was unknown
    (its dollars are then missing from ``cost_usd``)."""

    model: str
    usage: Usage = field(default_factory=Usage)
    turns: int = 0
    cost_usd: float = 0.0
    priced: bool = True

    @property
    def input_tokens(self) -> int:
        """Every input token read, cached or not."""
        u = self.usage
        return u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens

    @property
    def cache_share(self) -> float:
        """The part of the input read from the prompt cache (0 to 1)."""
        total = self.input_tokens
        return self.usage.cache_read_input_tokens / total if total else 0.0


def spend_by_model(entries: list[Entry]) -> list[ModelSpend]:
    """One ``ModelSpend`` per model that answered, in the order they first did."""
    spends: dict[str, ModelSpend] = {}
    for entry in entries:
        message = entry.get("message")
        if entry.get("type") != "assistant" or not isinstance(message, dict):
            continue
        model = str(message.get("model") or "unknown")
        usage = _usage(message.get("usage"))
        spend = spends.setdefault(model, ModelSpend(model))
        spend.usage += usage
        spend.turns += 1
        cost = entry.get("costUSD")
        if isinstance(cost, int | float):
            spend.cost_usd += cost
        else:
            spend.priced = False
    return list(spends.values())


def _usage(data: object) -> Usage:
    if not isinstance(data, dict):
        return Usage()
    counts = {
        name: int(data.get(name) or 0)
        for name in (
            "input_tokens",
            "output_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
        )
    }
    return Usage(**counts)
