"""Name resolution across Python files: modules, imports, assignments, classes, strings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backend_agent.analysis.endpoints.python.scan import Expr

_MAX_DEPTH = 12


@dataclass(frozen=True)
class Target:
    """What an expression denotes: a binding, module, class, function, external or expression.

    ``kind`` is one of ``bind`` (``name`` assigned in ``path``/``scope``), ``module``,
    ``class``, ``func``, ``package`` (a directory, ``name`` = its dotted name), ``external``
    (``name`` = dotted name outside the repo), ``expr``
    (``value`` evaluated in ``path``/``scope``).
    """

    kind: str
    path: str
    scope: str = ""
    name: str = ""
    value: Expr | None = None

    @property
    def id(self) -> tuple[str, str, str]:
        return (self.path, self.scope, self.name)


class Names:
    """Looks names up across the files' facts, following imports and plain aliases."""

    def __init__(self, facts: Mapping[str, dict[str, Any]]) -> None:
        self.facts = facts
        self._by_module: dict[str, list[str]] = {}
        self._module_of: dict[str, str] = {}
        self._packages: dict[str, set[str]] = {}
        for path in sorted(facts, key=lambda p: (p.count("/"), p)):
            dotted = path[:-3].replace("/", ".")
            if dotted.endswith(".__init__") or dotted == "__init__":
                dotted = dotted[: -len("__init__")].rstrip(".")
            self._module_of[path] = dotted
            parts = dotted.split(".")
            for start in range(len(parts)):
                self._by_module.setdefault(".".join(parts[start:]), []).append(path)
            for end in range(1, len(parts)):  # packages, with or without __init__.py
                package = ".".join(parts[:end])
                for start in range(end):
                    self._packages.setdefault(".".join(parts[start:end]), set()).add(package)

    def module_path(self, dotted: str, near: str = "") -> str | None:
        """The file of a module name: an exact match, else a suffix match (for source roots
        below the project root); among several, the one closest to the importing file."""
        candidates = self._by_module.get(dotted, [])
        exact = [p for p in candidates if self._module_of[p] == dotted]
        return _closest(exact or candidates, near)

    def module_name(self, path: str) -> str:
        return self._module_of.get(path, "")

    def absolute(self, path: str, level: int, module: str) -> str:
        """The dotted name a (possibly relative) import refers to from ``path``."""
        if level == 0:
            return module
        package = self._module_of.get(path, "").split(".")
        if not path.endswith("__init__.py"):
            package = package[:-1]
        package = package[: len(package) - (level - 1)] if level > 1 else package
        return ".".join([*package, module] if module else package)

    def lookup(self, path: str, scope: str, name: str, depth: int = 0) -> Target | None:
        """The target of a bare name in a file's scope (function scope first, then module)."""
        facts = self.facts.get(path)
        if facts is None or depth > _MAX_DEPTH:
            return None
        assigns = facts["assigns"]
        for where in (scope, "") if scope else ("",):
            if name in assigns.get(where, {}):
                return self._follow(Target("bind", path, where, name), depth)
        if name in facts["classes"]:
            return Target("class", path, name=name)
        if name in facts["functions"]:
            return Target("func", path, name=name)
        imported = facts["imports"].get(name)
        if imported is None:
            return None
        level, module, member = imported
        dotted = self.absolute(path, level, module)
        if member is None:
            return self._module_or_package(dotted, path) or Target("external", "", name=dotted)
        target_path = self.module_path(dotted, path)
        if target_path is not None:
            found = self.lookup(target_path, "", member, depth + 1)
            if found is not None:
                return found
        full = f"{dotted}.{member}" if dotted else member
        return self._module_or_package(full, path) or Target("external", "", name=full)

    def target(self, path: str, scope: str, value: Expr, depth: int = 0) -> Target | None:
        """What an expression denotes, following names and attribute access."""
        if depth > _MAX_DEPTH:
            return None
        if value[0] == "n":
            return self.lookup(path, scope, value[1], depth + 1)
        if value[0] == "a":
            base = self.target(path, scope, value[1], depth + 1)
            return self.member(base, value[2], depth + 1) if base is not None else None
        return Target("expr", path, scope, value=value)

    def member(self, base: Target, attr: str, depth: int) -> Target | None:
        """``base.attr``: a module member, a class attribute, or an external dotted name."""
        if base.kind == "module":
            found = self.lookup(base.path, "", attr, depth)
            if found is not None:
                return found
            return self._submodule(base.path, attr)
        if base.kind == "external":
            return Target("external", "", name=f"{base.name}.{attr}")
        if base.kind == "package":
            return self._module_or_package(f"{base.name}.{attr}")
        if base.kind == "class":
            return self.class_attr(base.path, base.name, attr, depth)
        value = self.value_of(base) if base.kind == "bind" else base.value
        if base.kind in ("bind", "expr") and value is not None and value[0] == "c":
            made = self.target(base.path, base.scope, value[1], depth + 1)
            if made is not None and made.kind == "class":
                return self.class_attr(made.path, made.name, attr, depth)
        return None

    def class_attr(self, path: str, name: str, attr: str, depth: int) -> Target | None:
        """A class attribute, looked up through the class's bases within the repository."""
        if depth > _MAX_DEPTH:
            return None
        cls = self.facts[path]["classes"].get(name)
        if cls is None:
            return None
        if attr in cls["attrs"]:
            return Target("expr", path, "", f"{name}.{attr}", cls["attrs"][attr][0])
        for base in cls["bases"]:
            found = self.target(path, "", base, depth + 1)
            if found is not None and found.kind == "class":
                inherited = self.class_attr(found.path, found.name, attr, depth + 1)
                if inherited is not None:
                    return inherited
        return None

    def string(self, path: str, scope: str, value: Expr, depth: int = 0) -> str | None:
        """The constant string an expression evaluates to, or None when it is not knowable."""
        if depth > _MAX_DEPTH:
            return None
        tag = value[0]
        if tag == "s":
            return str(value[1])
        if tag == "j":
            parts = [self.string(path, scope, part, depth + 1) for part in value[1]]
            return None if any(p is None for p in parts) else "".join(p or "" for p in parts)
        if tag == "c":
            return self._call_string(path, scope, value, depth)
        if tag in ("n", "a"):
            found = self.target(path, scope, value, depth + 1)
            if found is None or found.kind in ("module", "package", "class", "func", "external"):
                return self._settings_fallback(value) if tag == "a" else None
            if found.kind == "bind":
                return self.string(found.path, found.scope, self.value_of(found), depth + 1)
            if found.value is not None:
                return self.string(found.path, found.scope, found.value, depth + 1)
        return None

    def value_of(self, bound: Target) -> Expr:
        value: Expr = self.facts[bound.path]["assigns"][bound.scope][bound.name]
        return value

    def callee(self, path: str, scope: str, call: Expr) -> str:
        """The last dotted component of what a call calls (``APIRouter``, ``getenv``)."""
        func = call[1]
        found = self.target(path, scope, func)
        if found is not None and found.kind in ("class", "func", "external"):
            return found.name.rsplit(".", 1)[-1]
        if func[0] == "a":
            return str(func[2])
        return str(func[1]) if func[0] == "n" else ""

    def _call_string(self, path: str, scope: str, call: Expr, depth: int) -> str | None:
        name = self.callee(path, scope, call)
        args, kwargs = call[2], call[3]
        if name in ("getenv", "get", "config", "env", "str"):
            default = kwargs.get("default") or (args[1] if len(args) > 1 else None)
            if name == "str" and args:
                default = args[0]
            return self.string(path, scope, default, depth + 1) if default is not None else None
        return None

    def _settings_fallback(self, value: Expr) -> str | None:
        """``settings.API_PREFIX`` through an opaque factory: the attribute's unique default
        among the repository's settings classes (classes whose name ends in Settings/Config)."""
        attr = value[2]
        found: set[str] = set()
        for path, facts in self.facts.items():
            for cls_name, cls in facts["classes"].items():
                if attr in cls["attrs"] and cls_name.endswith(
                    ("Settings", "Config", "Configuration")
                ):
                    text = self.string(path, "", cls["attrs"][attr][0], _MAX_DEPTH - 3)
                    if text is not None:
                        found.add(text)
        return found.pop() if len(found) == 1 else None

    def _follow(self, bound: Target, depth: int) -> Target:
        """A binding whose value is another name is an alias: follow it to the original."""
        value = self.value_of(bound)
        if value[0] in ("n", "a") and depth < _MAX_DEPTH:
            followed = self.target(bound.path, bound.scope, value, depth + 1)
            if followed is not None and followed.kind != "expr":
                return followed
        return bound

    def _module_or_package(self, dotted: str, near: str = "") -> Target | None:
        """A module file, or a package directory (``name`` = its full dotted name)."""
        found = self.module_path(dotted, near)
        if found is not None:
            return Target("module", found)
        packages = self._packages.get(dotted, set())
        return Target("package", "", name=next(iter(packages))) if len(packages) == 1 else None

    def _submodule(self, package_path: str, attr: str) -> Target | None:
        dotted = self._module_of.get(package_path, "")
        found = self.module_path(f"{dotted}.{attr}" if dotted else attr, package_path)
        return Target("module", found) if found else None


def _closest(candidates: list[str], near: str) -> str | None:
    """The only candidate, or the one sharing the longest directory prefix with ``near``."""
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    if not near:
        return None
    near_parts = near.split("/")[:-1]

    def shared(path: str) -> int:
        count = 0
        for mine, theirs in zip(path.split("/")[:-1], near_parts, strict=False):
            if mine != theirs:
                break
            count += 1
        return count

    ranked = sorted(candidates, key=shared, reverse=True)
    return ranked[0] if shared(ranked[0]) > shared(ranked[1]) else None
