"""Strings and receiver kinds of Python expressions, across files: literals and module
constants (through ``Names``), settings modules and classes, the environment (``.env`` and
compose files) and configuration keys."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from backend_agent.analysis.endpoints.python.names import Names
from backend_agent.analysis.endpoints.python.scan import Expr
from backend_agent.analysis.queues.config import ConfigIndex
from backend_agent.analysis.queues.python.facts import PyQueueFacts, Receiver
from backend_agent.analysis.queues.python.kinds import constructor_kind, method_kind

_MAX_DEPTH = 10
_SETTINGS_OBJECT = re.compile(r"settings|config|conf\b|cfg|env", re.IGNORECASE)
_ENV_CALLS = ("getenv", "get", "environ.get", "config", "env", "str", "int")


@dataclass(frozen=True)
class Kind:
    """What a receiver is (a kind of ``kinds``: ``kafka-producer``, ``aiopika-queue``) and
    the call that made it, to read names from (``declare_queue("tasks")``)."""

    factory: str
    call: Expr | None = None
    path: str = ""
    scope: str = ""


class PyValues:
    """Evaluates expressions of any file against the facts of all files."""

    def __init__(self, facts: Mapping[str, PyQueueFacts], config: ConfigIndex) -> None:
        self.facts = facts
        self.names = Names({path: f.names for path, f in facts.items()})
        self.config = config
        self._settings_modules = [p for p in facts if "settings" in p.rsplit("/", 1)[-1]]

    # ---- strings ------------------------------------------------------------------------

    def string(self, path: str, scope: str, value: Expr, depth: int = 0) -> tuple[str | None, str]:
        """(text, "") or (None, why it cannot be known)."""
        found = self.names.string(path, scope, value)
        if found is not None:
            return found, ""
        if depth > _MAX_DEPTH:
            return None, "the value is nested too deeply to follow"
        tag = value[0]
        if tag == "j":
            parts = [self.string(path, scope, part, depth + 1) for part in value[1]]
            missing = next((why for text, why in parts if text is None), "")
            if missing:
                return None, missing
            return "".join(text or "" for text, _ in parts), ""
        if tag in ("n", "a"):
            target = self.names.target(path, scope, value)
            if target is not None and target.kind == "bind":
                return self.string(
                    target.path, target.scope, self.names.value_of(target), depth + 1
                )
            if target is not None and target.kind == "expr" and target.value is not None:
                return self.string(target.path, target.scope, target.value, depth + 1)
            if tag == "a" and _SETTINGS_OBJECT.search(render(value[1])):
                return self._setting(value[2])
            if tag == "a" and value[2] == "value":  # an Enum member's value
                return self.string(path, scope, value[1], depth + 1)
            return None, f"{render(value)} is not a constant this analysis can see"
        if tag == "c":
            return self._call(path, scope, value, depth)
        if tag == "sub" and value[2]:
            return self._subscript(path, scope, value, depth)
        return None, "the value is computed at run time"

    def strings(self, path: str, scope: str, value: Expr) -> list[tuple[str | None, str, Expr]]:
        """Each item of a list/tuple (or the one value): (text or None, why, expression)."""
        items = value[1] if value[0] == "l" else [value]
        if value[0] in ("n", "a"):
            target = self.names.target(path, scope, value)
            if target is not None and target.kind == "bind":
                bound = self.names.value_of(target)
                if bound[0] == "l":
                    return [(*self.string(target.path, target.scope, i), i) for i in bound[1]]
        return [(*self.string(path, scope, item), item) for item in items]

    def _call(self, path: str, scope: str, call: Expr, depth: int) -> tuple[str | None, str]:
        func = call[1]
        name = self.names.callee(path, scope, call)
        dotted = _dotted(func)
        args, kwargs = call[2], call[3]
        if name in _ENV_CALLS or dotted.endswith(("environ.get", "getenv")):
            default = kwargs.get("default") or (args[1] if len(args) > 1 else None)
            if default is not None:
                return self.string(path, scope, default, depth + 1)
            key = self.names.string(path, scope, args[0]) if args else None
            if key is not None:
                return self.config.env(key)
        if name in ("get_queue_url", "create_queue", "create_topic", "get_queue_by_name"):
            queue = kwargs.get("QueueName") or kwargs.get("Name")
            if queue is not None:
                return self.string(path, scope, queue, depth + 1)
        return None, f"{dotted or 'a call'}(...) is computed at run time"

    def _subscript(self, path: str, scope: str, value: Expr, depth: int) -> tuple[str | None, str]:
        base, key = value[1], value[2][-1]
        if _dotted(base).endswith("environ"):
            name = self.names.string(path, scope, key)
            if name is not None:
                return self.config.env(name)
        if base[0] == "c":  # sqs.get_queue_url(QueueName="x")["QueueUrl"]
            return self._call(path, scope, base, depth + 1)
        return None, "the value is read from a mapping at run time"

    def _setting(self, attr: str) -> tuple[str | None, str]:
        """``settings.X``: a Django settings module's ``X``, else the environment or a config
        key of the same name (pydantic settings read fields from the environment)."""
        found = set()
        for path in self._settings_modules:
            assigns = self.facts[path].names["assigns"].get("", {})
            if attr in assigns:
                text = self.names.string(path, "", assigns[attr])
                if text is not None:
                    found.add(text)
        if len(found) == 1:
            return found.pop(), ""
        value, why = self.config.env(attr.upper())
        if value is None:
            value, _ = self.config.key(attr.lower().replace("__", "."))
        return (value, "") if value is not None else (None, f"setting {attr}: {why}")

    # ---- receivers ----------------------------------------------------------------------

    def kind(self, path: str, scope: str, value: Expr, depth: int = 0) -> Kind | None:
        """What a receiver expression is, following assignments in its file and imports."""
        if depth > _MAX_DEPTH:
            return None
        if value[0] == "c":
            made = self._made(path, scope, value, depth)
            return Kind(made, value, path, scope) if made else None
        if value[0] == "a" and value[2] == "default_exchange":
            return Kind("aiopika-exchange", None, path, scope)
        if value[0] not in ("n", "a"):
            return None
        assigned = self._receiver(path, scope, _dotted(value))
        if assigned is not None:
            if assigned.value[0] in ("n", "a"):  # a parameter annotation: the type itself
                target = self.names.target(path, assigned.scope, assigned.value)
                dotted = target.name if target is not None and target.kind == "external" else ""
                made = constructor_kind(dotted or _dotted(assigned.value), None)
                return Kind(made, None, path, scope) if made else None
            return self.kind(path, assigned.scope, assigned.value, depth + 1)
        target = self.names.target(path, scope, value)
        if target is not None and target.kind == "bind":
            bound = self.names.value_of(target)
            if bound[0] == "c":
                return self.kind(target.path, target.scope, bound, depth + 1)
            receiver = self._receiver(target.path, target.scope, target.name)
            if receiver is not None:
                return self.kind(target.path, receiver.scope, receiver.value, depth + 1)
        return None

    def _made(self, path: str, scope: str, call: Expr, depth: int) -> str | None:
        """The kind a call returns: a known receiver's method (``channel.declare_queue``) or
        a library's constructor (``KafkaProducer``, ``boto3.client("sqs")``)."""
        func = call[1]
        if func[0] == "a":
            owner = self.kind(path, scope, func[1], depth + 1)
            if owner is not None:
                made = method_kind(owner.factory, func[2])
                if made is not None:
                    return made
        target = self.names.target(path, scope, func)
        dotted = target.name if target is not None and target.kind == "external" else _dotted(func)
        service = self.names.string(path, scope, call[2][0]) if call[2] else None
        service = service or (
            self.names.string(path, scope, call[3]["service_name"])
            if "service_name" in call[3]
            else None
        )
        return constructor_kind(dotted, service)

    def _receiver(self, path: str, scope: str, name: str) -> Receiver | None:
        facts = self.facts.get(path)
        if facts is None:
            return None
        found = [r for r in facts.receivers if r.name == name]
        for wanted in (scope, ""):
            matching = [r for r in found if r.scope == wanted]
            if matching:
                return matching[-1]
        return found[0] if len(found) == 1 or (name.startswith("self.") and found) else None


def _dotted(value: Expr) -> str:
    if value[0] == "n":
        return str(value[1])
    if value[0] == "a":
        return f"{_dotted(value[1])}.{value[2]}"
    if value[0] == "c":
        return f"{_dotted(value[1])}()"
    return "?"


def render(value: Expr) -> str:
    """What is known of a value, for ``unresolved`` fragments: ``settings.TOPIC``, ``{?}``."""
    tag = value[0]
    if tag == "s":
        return str(value[1])
    if tag in ("n", "a"):
        return _dotted(value)
    if tag == "j":
        return "".join(str(p[1]) if p[0] == "s" else "{" + render(p) + "}" for p in value[1])
    if tag == "c":
        return f"{_dotted(value[1])}(...)"
    if tag == "sub":
        return f"{render(value[1])}[...]"
    return "{?}"
