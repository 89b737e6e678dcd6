"""Strings of Ruby values across files: literals and symbols, constants looked up through the
enclosing modules, interpolation, ``ENV[...]``/``ENV.fetch`` (``.env`` and compose files),
``Settings.a.b`` (config gem YAML), method locals, and the names of Bunny queues and
exchanges and looked-up SQS queues; plus the job and consumer classes of every file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from backend_agent.analysis.queues.config import ConfigIndex
from backend_agent.analysis.queues.ruby.scan import RbClass, RbQueueFacts, RbValue

_MAX_DEPTH = 12
_PASS_THROUGH = ("freeze", "to_s", "to_sym", "dup", "strip")
_BUNNY_FACTORIES = ("queue", "fanout", "topic", "direct", "headers", "exchange", "default_exchange")
_CONFIG_ROOTS = ("Settings", "Config", "AppConfig", "Configuration")


@dataclass(frozen=True)
class Where:
    """Where a value is read: its file, enclosing modules and method (for locals)."""

    path: str
    namespace: tuple[str, ...]
    symbol: str


class RbValues:
    """Evaluates values of any file against the facts of all files."""

    def __init__(self, facts: Mapping[str, RbQueueFacts], config: ConfigIndex) -> None:
        self.facts = facts
        self.config = config
        self.constants: dict[str, RbValue] = {}
        self.classes: dict[str, tuple[str, RbClass]] = {}
        for path in sorted(facts):
            for name, held in facts[path].constants.items():
                self.constants.setdefault(name, held)
            for cls in facts[path].classes:
                self.classes.setdefault(cls.name, (path, cls))

    def constant(self, name: str, namespace: tuple[str, ...]) -> RbValue | None:
        """A constant as Ruby looks it up: in each enclosing module, then at the top level."""
        for depth in range(len(namespace), -1, -1):
            qualified = "::".join((*namespace[:depth], name))
            if qualified in self.constants:
                return self.constants[qualified]
        return None

    def cls(self, name: str, namespace: tuple[str, ...]) -> tuple[str, RbClass] | None:
        """A class of the repository by the name a file uses for it."""
        for depth in range(len(namespace), -1, -1):
            qualified = "::".join((*namespace[:depth], name))
            if qualified in self.classes:
                return self.classes[qualified]
        suffix = [c for n, c in self.classes.items() if n.endswith("::" + name)]
        return suffix[0] if len(suffix) == 1 else None

    def ancestors(self, cls: RbClass) -> list[str]:
        """Superclass names up the repository's class hierarchy (``ApplicationJob``, ...)."""
        found: list[str] = []
        current: RbClass | None = cls
        while current is not None and current.superclass and len(found) < _MAX_DEPTH:
            found.append(current.superclass)
            parent = self.cls(current.superclass, current.namespace)
            current = parent[1] if parent is not None else None
        return found

    def string(self, value: RbValue | None, at: Where, depth: int = 0) -> tuple[str | None, str]:
        """(text, "") or (None, why it cannot be known)."""
        if value is None:
            return None, "no name is given"
        if depth > _MAX_DEPTH:
            return None, "the value is nested too deeply to follow"
        tag = value[0]
        if tag in ("str", "sym"):
            return str(value[1]), ""
        if tag == "const":
            held = self.constant(str(value[1]), at.namespace)
            if held is None:
                return None, f"{value[1]} is not a constant this analysis can see"
            return self.string(held, at, depth + 1)
        if tag == "tpl":
            parts = [self.string(p, at, depth + 1) for p in value[1]]
            missing = next((why for text, why in parts if text is None), "")
            return (None, missing) if missing else ("".join(t or "" for t, _ in parts), "")
        if tag == "env":
            key, why = self.string(value[1], at, depth + 1)
            found, why = self.config.env(key) if key is not None else (None, why)
            if found is None and value[2] is not None:
                return self.string(value[2], at, depth + 1)
            return found, why
        if tag == "id":
            held = self.local(at, str(value[1]))
            if held is not None:
                return self.string(held, at, depth + 1)
            return None, f"{value[1]} is not a constant this analysis can see"
        if tag == "call":
            return self._call(value, at, depth)
        return None, "the value is computed at run time"

    def local(self, at: Where, name: str) -> RbValue | None:
        facts = self.facts.get(at.path)
        return facts.locals.get(at.symbol, {}).get(name) if facts is not None else None

    def follow(self, value: RbValue | None, at: Where) -> RbValue | None:
        """Through a method local to what it holds."""
        for _ in range(_MAX_DEPTH):
            if value is None or value[0] != "id":
                return value
            value = self.local(at, str(value[1]))
        return value

    def _call(self, value: RbValue, at: Where, depth: int) -> tuple[str | None, str]:
        receiver, method = value[1], value[2]
        if method in _PASS_THROUGH and receiver is not None:
            return self.string(receiver, at, depth + 1)
        if method in ("name", "queue_url"):
            made = self.follow(receiver, at)
            if (
                made is not None
                and made[0] == "call"
                and made[2] in ("queue", "get_queue_url", "create_queue")
            ):
                named = made[3][0] if made[3] else dict(made[4]).get("queue_name")
                return self.string(named, at, depth + 1)
        path = _chain(value)
        if path and path[0] in _CONFIG_ROOTS and len(path) > 1:
            found, why = self.config.key(".".join(path[1:]))
            return (found, "") if found is not None else (None, why)
        return None, f"{'.'.join(path) or method} is computed at run time"

    def bunny(self, value: RbValue | None, at: Where) -> tuple[str, RbValue | None] | None:
        """("queue" | "exchange", name value) of a Bunny queue or exchange expression."""
        made = self.follow(value, at)
        if made is None or made[0] != "call" or made[2] not in _BUNNY_FACTORIES:
            return None
        if made[2] == "default_exchange":
            return "exchange", ("str", "")
        return ("queue" if made[2] == "queue" else "exchange"), (made[3][0] if made[3] else None)


def _chain(value: RbValue) -> list[str]:
    """``Settings.kafka.topic`` -> ["Settings", "kafka", "topic"] (argument-less calls)."""
    parts: list[str] = []
    while value is not None and value[0] == "call" and not value[3]:
        parts.append(str(value[2]))
        value = value[1]
    if value is not None and value[0] == "const":
        parts.append(str(value[1]))
        return parts[::-1]
    return []
