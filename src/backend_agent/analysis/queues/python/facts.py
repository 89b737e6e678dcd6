"""What phase one records about a Python file for the queue analysis (picklable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend_agent.analysis.endpoints.python.scan import Expr


@dataclass(frozen=True)
class PyCall:
    """A call worth classifying: where it is, and its arguments as expressions and text."""

    call: Expr  # ("c", func, args, kwargs, line)
    symbol: str  # enclosing function, method (Class.method) or "<module>"
    scope: str  # the Names scope (innermost function name, "" at module level)
    texts: tuple[str, ...]  # positional arguments as written
    kw_texts: tuple[tuple[str, str], ...]
    # Keys of dictionary arguments (any expression, not only strings), by position or keyword.
    dict_keys: tuple[tuple[str, tuple[Expr, ...]], ...] = ()


@dataclass(frozen=True)
class Receiver:
    """``name = factory(...)`` (or a parameter annotated with a type): what ``name`` is."""

    scope: str
    name: str  # "producer", "self.producer"
    value: Expr  # the factory call, or ("n", type) for an annotation
    line: int


@dataclass(frozen=True)
class Signature:
    """A function's parameters as written (``order_id: int``, ``notify=False``, ``*args``)."""

    name: str  # "send_email", "Mailer.send"
    line: int
    params: tuple[str, ...]


@dataclass
class PyQueueFacts:
    names: dict[str, Any]  # endpoints.python.scan facts, for Names
    calls: list[PyCall] = field(default_factory=list)
    receivers: list[Receiver] = field(default_factory=list)
    settings: list[tuple[str, str, int, Expr, tuple[tuple[str, str, int], ...]]] = field(
        default_factory=list
    )  # (scope, target, line, value, schedule texts of dict entries (key, text, line))
    signatures: list[Signature] = field(default_factory=list)
    models: dict[str, tuple[tuple[str, str, bool], ...]] = field(default_factory=dict)
    model_bases: dict[str, tuple[str, ...]] = field(default_factory=dict)
