"""Sinatra, Grape and Hanami route DSLs over the generic Ruby call tree."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from backend_agent.analysis.endpoints.model import Auth, Endpoint, Unresolved, normalise_path
from backend_agent.analysis.endpoints.ruby.controllers import filter_auth
from backend_agent.analysis.endpoints.ruby.scan import Call, ClassDef, Item, ModuleDef, RbValue

_VERBS = ("get", "post", "put", "patch", "delete", "options", "head")
_GRAPE_NAMESPACES = ("namespace", "resource", "resources", "group", "segment")


def called_auth(names: Iterable[str]) -> Auth | None:
    levels = {filter_auth(name, None) for name in names}
    if "required" in levels:
        return "required"
    return "optional" if "optional" in levels else None


def _string(value: RbValue | None) -> str | None:
    if value is None:
        return None
    if value[0] in ("sym", "str"):
        return str(value[1])
    return None


def _join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


def walk_modules(items: Iterable[Item], namespace: str = "") -> Iterable[tuple[str, ModuleDef]]:
    for item in items:
        if isinstance(item, ModuleDef | ClassDef):
            full = _ns(namespace, item.name)
            if isinstance(item, ModuleDef):
                yield full, item
            yield from walk_modules(item.children, full)


def walk_classes(items: Iterable[Item], namespace: str = "") -> Iterable[tuple[str, ClassDef]]:
    for item in items:
        if isinstance(item, ModuleDef):
            yield from walk_classes(item.children, _ns(namespace, item.name))
        elif isinstance(item, ClassDef):
            full = _ns(namespace, item.name)
            yield full, item
            yield from walk_classes(item.children, full)


def _ns(namespace: str, name: str) -> str:
    return f"{namespace}::{name}" if namespace else name


# ---- Sinatra --------------------------------------------------------------------------------


def sinatra_endpoints(
    file: str, items: tuple[Item, ...], prefixes: Mapping[str, str]
) -> tuple[list[Endpoint], list[Unresolved]]:
    """Classic (top-level) and modular (``< Sinatra::Base``) apps, with sinatra-contrib
    namespaces; a class ``map``ped in config.ru gets that prefix."""
    endpoints: list[Endpoint] = []
    unresolved: list[Unresolved] = []
    apps: list[tuple[str, tuple[Item, ...]]] = []
    top_level = [i for i in items if isinstance(i, Call)]
    if any(i.name in _VERBS and i.has_block for i in top_level):
        apps.append(("", tuple(top_level)))
    for name, cls in walk_classes(items):
        if "Sinatra::" in cls.superclass or cls.superclass in (
            "Sinatra::Base",
            "Sinatra::Application",
        ):
            apps.append((name, cls.children))
    for name, body in apps:
        base = prefixes.get(name, "") if name else ""
        filters = _before_filters(body)
        _sinatra_block(file, body, base, "", filters, endpoints, unresolved)
    return endpoints, unresolved


def _before_filters(body: tuple[Item, ...]) -> list[tuple[str, Auth]]:
    found: list[tuple[str, Auth]] = []
    for item in body:
        if isinstance(item, Call) and item.name == "before":
            level = called_auth(item.called)
            if level is not None:
                found.append((_string(item.args[0]) or "*" if item.args else "*", level))
    return found


def _sinatra_block(
    file: str,
    body: tuple[Item, ...],
    mount: str,
    base: str,
    filters: list[tuple[str, Auth]],
    endpoints: list[Endpoint],
    unresolved: list[Unresolved],
) -> None:
    for item in body:
        if not isinstance(item, Call):
            continue
        if item.name == "namespace" and item.args:
            segment = _string(item.args[0])
            if segment is None:
                unresolved.append(Unresolved(file, item.line, "{?}", "namespace is not a literal"))
                continue
            inner = filters + _before_filters(item.children)
            _sinatra_block(
                file, item.children, mount, _join(base, segment), inner, endpoints, unresolved
            )
        elif item.name in _VERBS and item.has_block:
            path = _string(item.args[0]) if item.args else ""
            if path is None:
                unresolved.append(
                    Unresolved(file, item.line, "{?}", "route path is not a literal string")
                )
                continue
            relative = normalise_path(_join(base, path))
            full = normalise_path(_join(mount, relative))
            level = called_auth(item.called)
            for pattern, filter_level in filters:
                if pattern == "*" or re.fullmatch(
                    re.escape(pattern).replace(r"\*", ".*"), relative
                ):
                    level = level or filter_level
            endpoints.append(
                Endpoint(
                    "rest",
                    item.name.upper(),
                    full,
                    level or "none",
                    "sinatra",
                    f"{item.name} {path}",
                    file,
                    item.line,
                )
            )


def rackup_prefixes(items: tuple[Item, ...]) -> dict[str, str]:
    """config.ru: ``map '/api' do run Api end`` and ``Rack::URLMap.new('/api' => Api)`` give
    Api the prefix /api."""
    found: dict[str, str] = {}
    calls = list(_calls(items))
    calls += [a[1] for c in calls for a in c.args if a[0] == "call"]
    for item in calls:
        if item.name == "map" and item.args:
            path = _string(item.args[0]) or ""
            for child in item.children:
                if isinstance(child, Call) and child.name == "run" and child.args:
                    found[str(child.args[0][1]).split(".")[0]] = path
        elif item.name == "new" and item.receiver.endswith("URLMap"):
            for key, value in item.options:
                if key.startswith("=>") and value[0] == "const":
                    found[str(value[1])] = key[2:]
    return found


# ---- Grape ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _GrapeScope:
    prefix: str = ""
    versions: tuple[str, ...] = ()
    path: str = ""
    auth: Auth | None = None


class GrapeApis:
    """Grape API classes: prefix, path versions, namespaces/resources, route_param and mount."""

    def __init__(self, classes: Mapping[str, tuple[str, ClassDef]]) -> None:
        self.classes = classes  # full name -> (file, class)
        self.endpoints: list[Endpoint] = []
        self.unresolved: list[Unresolved] = []

    @staticmethod
    def is_api(cls: ClassDef) -> bool:
        return cls.superclass.startswith("Grape::API")

    def mounted_names(self) -> set[str]:
        names: set[str] = set()
        for _file, cls in self.classes.values():
            for item in _calls(cls.children):
                if item.name == "mount" and item.args:
                    names.add(str(item.args[0][1]))
        return names

    def find(self, name: str) -> str | None:
        if name in self.classes:
            return name
        matches = [full for full in self.classes if full.endswith("::" + name)]
        return matches[0] if len(matches) == 1 else None

    def emit(self, name: str, base: str, depth: int = 0) -> None:
        file, cls = self.classes[name]
        self._body(file, cls.children, _GrapeScope(path=base), depth)

    def _body(self, file: str, body: tuple[Item, ...], scope: _GrapeScope, depth: int) -> None:
        for item in body:
            if not isinstance(item, Call):
                continue
            name = item.name
            if name == "prefix" and item.args:
                scope = replace(scope, prefix=_string(item.args[0]) or "")
            elif name == "version" and item.args:
                using = _string(item.option("using")) or "path"
                versions = tuple(v for a in item.args if (v := _string(a)))
                if using == "path":
                    scope = replace(scope, versions=versions)
                if item.has_block:
                    self._body(file, item.children, scope, depth)
            elif name == "before" and (level := called_auth(item.called)) is not None:
                scope = replace(scope, auth=level)
            elif name in _GRAPE_NAMESPACES and item.args:
                segment = _string(item.args[0]) or ""
                self._body(
                    file, item.children, replace(scope, path=_join(scope.path, segment)), depth
                )
            elif name == "route_param" and item.args:
                param = _string(item.args[0]) or "id"
                self._body(
                    file, item.children, replace(scope, path=_join(scope.path, f":{param}")), depth
                )
            elif name in _VERBS and item.has_block:
                path = _string(item.args[0]) if item.args else ""
                self._route(file, item, name.upper(), path, scope)
            elif name == "route" and item.args and item.has_block:
                methods = item.args[0]
                verbs = (
                    [methods]
                    if methods[0] in ("sym", "str")
                    else list(methods[1])
                    if methods[0] == "arr"
                    else []
                )
                path = _string(item.args[1]) if len(item.args) > 1 else ""
                for verb in verbs:
                    self._route(file, item, str(verb[1]).upper(), path, scope)
            elif name == "mount" and item.args and depth < 10:
                target = self.find(str(item.args[0][1]))
                if target is None:
                    self.unresolved.append(
                        Unresolved(
                            file,
                            item.line,
                            normalise_path(_join(scope.prefix, scope.path)) + "/*",
                            f"mounted {item.args[0][1]} is not a Grape API in this repository",
                        )
                    )
                    continue
                target_file, cls = self.classes[target]
                self._body(target_file, cls.children, scope, depth + 1)

    def _route(
        self, file: str, item: Call, method: str, path: str | None, scope: _GrapeScope
    ) -> None:
        if path is None:
            self.unresolved.append(
                Unresolved(file, item.line, "{?}", "route path is not a literal string")
            )
            return
        level = called_auth(item.called) or scope.auth or "none"
        for version in scope.versions or ("",):
            full = normalise_path(_join(scope.prefix, version, scope.path, path))
            self.endpoints.append(
                Endpoint("rest", method, full, level, "grape", f"{method} {full}", file, item.line)
            )


def _calls(items: tuple[Item, ...]) -> Iterable[Call]:
    for item in items:
        if isinstance(item, Call):
            yield item
            yield from _calls(item.children)


# ---- Hanami ---------------------------------------------------------------------------------


def hanami_endpoints(
    file: str, items: tuple[Item, ...], base: str, auth_of: Callable[[str, str], Auth]
) -> list[Endpoint]:
    """Hanami 2 ``Routes < Hanami::Routes`` (scope, slice ``at:``) and Hanami 1 route files
    (``namespace``); ``auth_of(target, namespace)`` is the auth of a ``to:`` target's action
    (``namespace``: the app's or slice's module, Hanami 2)."""
    endpoints: list[Endpoint] = []
    namespace = ""

    def block(body: tuple[Item, ...], prefix: str) -> None:
        nonlocal namespace
        for item in _calls_shallow(body):
            if item.name in _VERBS:
                path = _string(item.args[0]) if item.args else None
                if path is None:
                    continue
                target = _string(item.option("to")) or ""
                endpoints.append(
                    Endpoint(
                        "rest",
                        item.name.upper(),
                        normalise_path(_join(prefix, path)),
                        auth_of(target, namespace),
                        "hanami",
                        target,
                        file,
                        item.line,
                    )
                )
            elif item.name == "root":
                target = _string(item.option("to")) or ""
                endpoints.append(
                    Endpoint(
                        "rest",
                        "GET",
                        normalise_path(prefix),
                        auth_of(target, namespace),
                        "hanami",
                        target,
                        file,
                        item.line,
                    )
                )
            elif item.name in ("scope", "namespace") and item.args:
                block(item.children, _join(prefix, _string(item.args[0]) or ""))
            elif item.name == "slice":
                outer, slice_name = namespace, _string(item.args[0]) if item.args else None
                namespace = "".join(w.capitalize() for w in (slice_name or "").split("_"))
                block(item.children, _join(prefix, _string(item.option("at")) or ""))
                namespace = outer

    routes_classes = [
        (name, cls)
        for name, cls in walk_classes(items)
        if cls.superclass.startswith("Hanami::Routes")
    ]
    if routes_classes:
        for name, cls in routes_classes:
            namespace = name.rpartition("::")[0]  # Library::Routes -> Library
            block(cls.children, base)
    else:
        block(items, base)
    return endpoints


def _calls_shallow(items: tuple[Item, ...]) -> Iterable[Call]:
    for item in items:
        if isinstance(item, Call):
            if item.name in ("draw", "routes", "define") and item.has_block:
                yield from _calls_shallow(item.children)
            else:
                yield item
