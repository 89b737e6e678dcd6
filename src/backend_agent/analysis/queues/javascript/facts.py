"""What phase one records about a JavaScript/TypeScript file for the queue analysis."""

from __future__ import annotations

from dataclasses import dataclass, field

from backend_agent.analysis.endpoints.javascript.facts import FileFacts, Value


@dataclass(frozen=True)
class JsCall:
    """A call or ``new`` worth classifying, with its enclosing symbol and type arguments."""

    kind: str  # "call" | "new"
    callee: Value
    args: tuple[Value, ...]
    line: int
    symbol: str
    type_args: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()  # arguments as written (schedules)
    offset: int = 0  # start byte: identifies the construction in ``("new", ..., offset)``


@dataclass(frozen=True)
class Decorated:
    """A NestJS class or method decorator: ``@Processor('email')``, ``@EventPattern(...)``."""

    decorator: str
    args: tuple[Value, ...]
    cls: str
    method: str  # "" for a class decorator
    line: int
    texts: tuple[str, ...] = ()
    params: tuple[str, ...] = ()  # the method's parameter types (payload DTOs)


@dataclass
class JsQueueFacts:
    values: FileFacts
    calls: list[JsCall] = field(default_factory=list)
    decorated: list[Decorated] = field(default_factory=list)
    types: dict[str, tuple[tuple[str, str, bool], ...]] = field(default_factory=dict)
    typed: dict[str, str] = field(default_factory=dict)  # variable/parameter -> its type
    transports: list[str] = field(default_factory=list)  # NestJS Transport.X members
    extends: dict[str, Value] = field(default_factory=dict)  # class -> its superclass
    imports: tuple[str, ...] = ()  # module specifiers this file imports


def last_name(value: Value) -> str:
    """The name a value ends in: ``Queue`` of ``new Queue``, ``add`` of ``queue.add``."""
    if value[0] == "ref":
        return str(value[1]).rsplit("/", 1)[-1]
    if value[0] in ("import", "member"):
        return str(value[2])
    return ""
