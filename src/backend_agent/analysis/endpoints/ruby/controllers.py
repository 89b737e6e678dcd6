"""Rails controllers: classes by full name, their ``before_action`` filters, and auth per action.

Filters are inherited from superclasses (``ApplicationController`` and other base controllers)
in order, with ``only:``/``except:`` and ``skip_before_action``. A filter's meaning comes from
its name and, when the repository defines it, its body: a method that only authenticates
when a token is present is ``optional``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from backend_agent.analysis.endpoints.model import Auth
from backend_agent.analysis.endpoints.ruby.scan import (
    Call,
    ClassDef,
    Item,
    MethodDef,
    ModuleDef,
    RbValue,
)

_BEFORE = ("before_action", "prepend_before_action", "append_before_action", "before_filter")
_SKIP = ("skip_before_action", "skip_before_filter")
_AUTH_NAME = re.compile(
    r"authenticat|authoriz|require_(?:login|user|auth|admin|sign)|ensure_(?:login|user|logged|signed)|"
    r"logged_in|signed_in|login_required|check_(?:auth|token|login|user)|verify_(?:token|user|auth)|"
    r"doorkeeper_authorize|jwt|protect"
)
_OPTIONAL_NAME = re.compile(r"optional|if_present|maybe|try_|soft")
_OPTIONAL_BODY = re.compile(
    r"^\s*(?:if|return\s+unless|return\s+if)\b[^\n]*(?:header|token|authorization|present\?|blank\?)",
    re.IGNORECASE,
)
# Framework base classes whose own filters are known (none that authenticate).
FRAMEWORK_BASES = ("ActionController::Base", "ActionController::API", "ActionController::Metal")
# Devise's own controllers authenticate only these actions (authenticate_scope!).
DEVISE_REQUIRED = {"registrations": {"edit", "update", "destroy"}}


@dataclass(frozen=True)
class Filter:
    name: str
    skip: bool
    only: frozenset[str] | None
    excepted: frozenset[str]
    condition: str  # source of if:/unless:, "" when unconditional

    def applies(self, action: str) -> bool:
        if self.only is not None and action not in self.only:
            return False
        return action not in self.excepted


@dataclass
class Controller:
    name: str  # full name, e.g. Api::V1::ArticlesController
    superclass: str  # full name as resolved, or as written when unknown
    filters: list[Filter] = field(default_factory=list)
    methods: dict[str, str] = field(default_factory=dict)  # name -> body
    line: int = 1
    file: str = ""


def collect_classes(trees: Mapping[str, tuple[Item, ...]]) -> dict[str, Controller]:
    """Every class in the repository by full name, with its filters and method bodies."""
    classes: dict[str, Controller] = {}

    def walk(items: Iterable[Item], namespace: str, file: str) -> None:
        for item in items:
            if isinstance(item, ModuleDef):
                walk(item.children, _join(namespace, item.name), file)
            elif isinstance(item, ClassDef):
                name = _join(namespace, item.name)
                controller = Controller(name, item.superclass, line=item.line, file=file)
                controller.superclass = _qualify(item.superclass, namespace, trees_names)
                for child in item.children:
                    if isinstance(child, Call) and child.name in _BEFORE + _SKIP:
                        controller.filters.extend(_filters(child))
                    elif isinstance(child, MethodDef):
                        controller.methods[child.name] = child.body
                classes[name] = controller
                walk([c for c in item.children if isinstance(c, ClassDef | ModuleDef)], name, file)

    trees_names = _class_names(trees)
    for file, items in trees.items():
        walk(items, "", file)
    return classes


def _class_names(trees: Mapping[str, tuple[Item, ...]]) -> set[str]:
    names: set[str] = set()

    def walk(items: Iterable[Item], namespace: str) -> None:
        for item in items:
            if isinstance(item, ModuleDef | ClassDef):
                full = _join(namespace, item.name)
                if isinstance(item, ClassDef):
                    names.add(full)
                walk(item.children, full)

    for items in trees.values():
        walk(items, "")
    return names


def _qualify(name: str, namespace: str, known: set[str]) -> str:
    """Ruby constant lookup: the innermost enclosing namespace that defines the name."""
    if not name or name.startswith("::"):
        return name.lstrip(":")
    parts = namespace.split("::") if namespace else []
    for depth in range(len(parts), -1, -1):
        candidate = _join("::".join(parts[:depth]), name)
        if candidate in known:
            return candidate
    return name


def _join(namespace: str, name: str) -> str:
    return f"{namespace}::{name}" if namespace else name


def _names(value: RbValue | None) -> frozenset[str] | None:
    if value is None:
        return None
    if value[0] in ("sym", "str"):
        return frozenset({str(value[1])})
    if value[0] == "arr":
        return frozenset(str(v[1]) for v in value[1] if v[0] in ("sym", "str"))
    return frozenset()


def _filters(call: Call) -> list[Filter]:
    only = _names(call.option("only"))
    excepted = _names(call.option("except")) or frozenset()
    condition = " ".join(
        f"{key}: {value[1] if len(value) > 1 else ''}"
        for key, value in call.options
        if key in ("if", "unless")
    )
    skip = call.name in _SKIP
    return [
        Filter(str(arg[1]), skip, only, excepted, condition)
        for arg in call.args
        if arg[0] in ("sym", "str")
    ]


def filter_auth(name: str, body: str | None) -> Auth | None:
    """What one filter means for auth: None when it is not about authentication."""
    if not _AUTH_NAME.search(name):
        return None
    if _OPTIONAL_NAME.search(name):
        return "optional"
    if body is not None and _OPTIONAL_BODY.search(body):
        return "optional"
    return "required"


def ancestry(classes: Mapping[str, Controller], name: str) -> tuple[list[Controller], bool]:
    """The class and its superclasses, root first; False when the chain leaves the repository
    at a class whose filters are unknown."""
    chain: list[Controller] = []
    current: str | None = name
    while current is not None and current in classes and len(chain) < 20:
        controller = classes[current]
        chain.append(controller)
        current = controller.superclass
        if current.startswith("Devise::") and "ApplicationController" in classes:
            current = "ApplicationController"  # Devise's controllers inherit the app's
    known = current is None or current in FRAMEWORK_BASES or current.startswith("Devise::")
    return list(reversed(chain)), known


def action_auth(
    classes: Mapping[str, Controller], controller: str, action: str, devise: str = ""
) -> Auth:
    """Auth of one controller action from the filters in force for it."""
    chain, known = ancestry(classes, controller)
    if not chain and not devise:
        return "unknown"
    active: list[tuple[Filter, str | None]] = []
    methods: dict[str, str] = {}
    for cls in chain:
        methods.update(cls.methods)
    for cls in chain:
        for item in cls.filters:
            if item.skip:
                active = [
                    (f, b) for f, b in active if not (f.name == item.name and item.applies(action))
                ]
            else:
                active.append((item, methods.get(item.name)))
    levels: set[Auth | None] = set()
    for item, body in active:
        if not item.applies(action) or not _condition_holds(item.condition, bool(devise)):
            continue
        level = filter_auth(item.name, body)
        if level is not None and item.condition and "devise_controller" not in item.condition:
            level = "unknown"
        levels.add(level)
    if devise and action in DEVISE_REQUIRED.get(devise, set()):
        levels.add("required")
    if "required" in levels:
        return "required"
    if "optional" in levels:
        return "optional"
    if "unknown" in levels or not (known or devise):
        return "unknown"
    return "none"


def _condition_holds(condition: str, in_devise: bool) -> bool:
    if "devise_controller" not in condition:
        return True
    return in_devise if condition.startswith("if") else not in_devise
