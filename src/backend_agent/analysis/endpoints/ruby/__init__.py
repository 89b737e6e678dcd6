"""Ruby endpoints: Rails routes with controller filters, Sinatra, Grape, Hanami, ActionCable."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from backend_agent.analysis.endpoints.model import (
    Auth,
    Endpoint,
    Inventory,
    Unresolved,
    normalise_path,
)
from backend_agent.analysis.endpoints.ruby.scan import Call, ClassDef, Item, MethodDef, ModuleDef
from backend_agent.analysis.project import Project

_SKIPPED = re.compile(r"(^|/)(spec|test|db|features)/")
_API_ONLY = re.compile(rb"config\.api_only\s*=\s*true")
_HANAMI1_ROUTES = re.compile(r"(?:^|/)apps/(\w+)/config/routes\.rb$")
_BEFORE_CALLBACK = re.compile(r"\bbefore\s+:(\w+[!?]?)")
# Byte strings without which a Ruby file draws no routes and holds no controller, filter,
# Devise model, Sinatra/Grape/Hanami app or ActionCable class: other files are not parsed.
_HINTS = (
    b"routes", b"Controller", b"controller", b"_action", b"before", b"devise", b"Sinatra",
    b"Grape", b"Hanami", b"::Action", b"Channel", b"Cable", b"Connection", b"authenticat",
    b"mount", b"namespace", b"get ", b"post ", b"module Actions",
)  # fmt: skip
_CHANNEL_BASES = ("ApplicationCable::Channel", "ActionCable::Channel::Base")


@dataclass(frozen=True)
class RubyFacts:
    items: tuple[Item, ...]
    api_only: bool


class RubyExtractor:
    """Routes of the Ruby frameworks (see docs/endpoints-frameworks.md)."""

    name = "ruby"
    version = 3

    def wants(self, path: str) -> bool:
        return (path.endswith((".rb", ".ru"))) and not _SKIPPED.search(path)

    def scan(self, path: str, source: bytes) -> RubyFacts:
        from backend_agent.analysis.endpoints.ruby.scan import scan_ruby

        api_only = bool(_API_ONLY.search(source))
        if not path.endswith(".ru") and not any(hint in source for hint in _HINTS):
            return RubyFacts((), api_only)  # models, services, jobs...: not worth parsing
        return RubyFacts(scan_ruby(source), api_only)

    def resolve(self, facts: Mapping[str, Any], project: Project) -> Inventory:
        typed = {p: f for p, f in facts.items() if isinstance(f, RubyFacts)}
        return _Resolution(typed).run()


class _Resolution:
    def __init__(self, facts: Mapping[str, RubyFacts]) -> None:
        from backend_agent.analysis.endpoints.ruby.controllers import collect_classes
        from backend_agent.analysis.endpoints.ruby.dsl import GrapeApis, walk_classes

        self.facts = facts
        self.trees = {path: f.items for path, f in facts.items()}
        self.controllers = collect_classes(self.trees)
        self.class_defs: dict[str, tuple[str, ClassDef]] = {
            name: (path, cls)
            for path, items in self.trees.items()
            for name, cls in walk_classes(items)
        }
        self.grape = GrapeApis({n: v for n, v in self.class_defs.items() if GrapeApis.is_api(v[1])})
        self.grape_mounted: set[str] = set()
        self.sinatra_mounts: dict[str, str] = {}  # Sinatra apps mounted in Rails routes
        self.endpoints: list[Endpoint] = []
        self.unresolved: list[Unresolved] = []
        self.cable_paths: list[str] = []

    def run(self) -> Inventory:
        from backend_agent.analysis.endpoints.ruby.dsl import (
            hanami_endpoints,
            rackup_prefixes,
            sinatra_endpoints,
        )

        for path in sorted(self.trees):
            if path.endswith("config/routes.rb") and _draw_receiver(
                self.trees[path], "Rails.application", "Application"
            ):
                self._rails(path)
        prefixes: dict[str, str] = dict(self.sinatra_mounts)
        for path, items in self.trees.items():
            if path.endswith(".ru"):
                prefixes.update(rackup_prefixes(items))
        for path, items in self.trees.items():
            found, unresolved = sinatra_endpoints(path, items, prefixes)
            self.endpoints += found
            self.unresolved += unresolved
        mounted = {self.grape.find(n) for n in self.grape.mounted_names()} | self.grape_mounted
        for name in sorted(self.grape.classes):
            if name not in mounted:
                self.grape.emit(name, prefixes.get(name, ""))
        self.endpoints += self.grape.endpoints
        self.unresolved += self.grape.unresolved
        for path, items in self.trees.items():
            hanami1 = _HANAMI1_ROUTES.search(path)
            if hanami1 or any(
                c.superclass.startswith("Hanami::Routes") for _, c in _classes(items)
            ):
                base = self._hanami1_mount(hanami1.group(1)) if hanami1 else ""
                if base is None:
                    self.unresolved.append(
                        Unresolved(path, 1, "{?}", "the Hanami app's mount point is not known")
                    )
                    continue
                app = hanami1.group(1) if hanami1 else ""
                self.endpoints += hanami_endpoints(
                    path, items, base, partial(self._hanami_auth, app)
                )
        self._channels()
        return Inventory(self.endpoints, self.unresolved).sorted()

    # ---- Rails ---------------------------------------------------------------------------

    def _rails(self, routes_file: str, base: str = "") -> None:
        from backend_agent.analysis.endpoints.ruby.controllers import action_auth
        from backend_agent.analysis.endpoints.ruby.rails import RailsContext, RailsRoutes

        root = routes_file[: -len("config/routes.rb")]
        api_only = any(p.startswith(root + "config/") and f.api_only for p, f in self.facts.items())
        context = RailsContext(self.trees, api_only, self._devise_modules, self._mount)
        expansion = RailsRoutes(context)
        expansion.expand(routes_file, self.trees[routes_file], base)
        self.unresolved += expansion.unresolved
        self.cable_paths += expansion.cable_paths
        for route in expansion.routes:
            controller = _controller_class(route.controller) if route.controller else ""
            if route.devise and controller not in self.controllers:
                controller = "ApplicationController"
            auth: Auth = "unknown"
            if route.authenticated:
                auth = "required"
            elif controller:
                auth = action_auth(self.controllers, controller, route.action, route.devise)
            handler = f"{route.controller}#{route.action}" if route.controller else route.action
            self.endpoints.append(
                Endpoint(
                    "rest",
                    route.method,
                    normalise_path(route.path),
                    auth,
                    "rails",
                    handler,
                    route.file,
                    route.line,
                )
            )

    def _devise_modules(self, resource: str) -> tuple[str, ...] | None:
        from backend_agent.analysis.endpoints.ruby.rails import singularise

        model = _camelize(singularise(resource))
        found = self.class_defs.get(model)
        if found is None:
            return None
        for item in found[1].children:
            if isinstance(item, Call) and item.name == "devise":
                return tuple(str(a[1]) for a in item.args if a[0] in ("sym", "str"))
        return None

    def _mount(self, engine: str, path: str, file: str, line: int) -> bool:
        """A ``mount`` in Rails routes: Grape APIs and engines of this repository resolve."""
        grape = self.grape.find(engine)
        if grape is not None:
            self.grape_mounted.add(grape)
            self.grape.emit(grape, path)
            return True
        sinatra = self.class_defs.get(engine)
        if sinatra is not None and "Sinatra::" in sinatra[1].superclass:
            self.sinatra_mounts[engine] = path
            return True
        name = engine.removesuffix(".routes")
        for routes_file, items in sorted(self.trees.items()):
            if routes_file.endswith("config/routes.rb") and _draw_receiver(items, name):
                self._rails(routes_file, path)
                return True
        return False

    def _hanami1_mount(self, app: str) -> str | None:
        for path, items in self.trees.items():
            if not path.endswith("config/environment.rb"):
                continue
            for call in _all_calls(items):
                if (
                    call.name == "mount"
                    and call.args
                    and str(call.args[0][1]).lower().startswith(app + "::")
                ):
                    at = call.option("at")
                    return str(at[1]) if at is not None and at[0] in ("str", "sym") else None
        return None

    def _hanami_auth(self, app: str, target: str, namespace: str) -> Auth:
        """Hanami 1 actions: ``before`` callbacks of the action and of the modules the app's
        ``controller.prepare`` includes; an action that redefines a callback as an empty
        method switches it off. Hanami 2: see ``_hanami2_auth``."""
        from backend_agent.analysis.endpoints.ruby.dsl import walk_modules

        if not app:
            return self._hanami2_auth(namespace, target)
        controller, _, action = target.partition("#")
        if not action:
            return "unknown"
        found = self.class_defs.get(
            f"{_camelize(app)}::Controllers::{_camelize(controller)}::{_camelize(action)}"
        )
        if found is None:
            return "unknown"
        modules = {name: m for items in self.trees.values() for name, m in walk_modules(items)}
        prepared = [
            str(include.args[0][1])
            for path, items in self.trees.items()
            if path.startswith(f"apps/{app}/") or f"/apps/{app}/" in path
            for call in _all_calls(items)
            if call.name == "prepare"
            for include in call.children
            if isinstance(include, Call) and include.name == "include" and include.args
        ]
        bodies: dict[str, str] = {}
        callbacks: list[str] = []
        for name in prepared:
            for item in modules[name].children if name in modules else ():
                if isinstance(item, MethodDef):
                    bodies[item.name] = item.body
                    if item.name == "included":
                        callbacks += _BEFORE_CALLBACK.findall(item.body)
        _read_callbacks(found[1], bodies, callbacks, override=True)
        return _callbacks_auth(callbacks, bodies)

    def _hanami2_auth(self, namespace: str, target: str) -> Auth:
        """Hanami 2 actions (``to: "books.index"`` is ``<App>::Actions::Books::Index``):
        ``before`` callbacks of the action class and of its superclasses in the repository
        (the app's base ``Action``); ``unknown`` when the action class is not found."""
        parts = [p for p in target.split(".") if p]
        if not namespace or len(parts) < 2:
            return "unknown"
        current: str | None = f"{namespace}::Actions::" + "::".join(_camelize(p) for p in parts)
        bodies: dict[str, str] = {}
        callbacks: list[str] = []
        found_action = False
        for _ in range(10):
            found = self.class_defs.get(current or "")
            if found is None:
                break
            found_action = True
            _read_callbacks(found[1], bodies, callbacks, override=False)  # subclass wins
            current = self._constant(found[1].superclass, current or "")
        return _callbacks_auth(callbacks, bodies) if found_action else "unknown"

    def _constant(self, name: str, inside: str) -> str | None:
        """A constant named inside class ``inside``, looked up lexically (``Action`` in
        ``Library::Actions::Books::Index`` may be ``Library::Action``)."""
        scope = inside
        while scope:
            scope = scope.rpartition("::")[0]
            candidate = f"{scope}::{name}" if scope else name
            if candidate in self.class_defs:
                return candidate
        return name if name in self.class_defs else None

    # ---- ActionCable ---------------------------------------------------------------------

    def _channels(self) -> None:
        from backend_agent.analysis.endpoints.ruby.controllers import ancestry

        paths = self.cable_paths or (["/cable"] if self._uses_rails() else [])
        auth: Auth = "required" if self._cable_rejects() else "unknown"
        for name, (file, cls) in sorted(self.class_defs.items()):
            chain, _known = ancestry(self.controllers, name)
            supers = {c.superclass for c in chain} | {cls.superclass}
            if name in _CHANNEL_BASES or not supers & set(_CHANNEL_BASES):
                continue
            for path in paths:
                self.endpoints.append(
                    Endpoint(
                        "websocket",
                        "WS",
                        f"{normalise_path(path)}#{name}",
                        auth,
                        "actioncable",
                        name,
                        file,
                        cls.line,
                    )
                )

    def _uses_rails(self) -> bool:
        return any(p.endswith("config/routes.rb") for p in self.trees)

    def _cable_rejects(self) -> bool:
        connection = self.controllers.get("ApplicationCable::Connection")
        return connection is not None and any(
            "reject_unauthorized_connection" in body for body in connection.methods.values()
        )


def _draw_receiver(items: tuple[Item, ...], *names: str) -> bool:
    return any(
        isinstance(i, Call) and i.name == "draw" and any(n in i.receiver for n in names)
        for i in items
    )


def _classes(items: tuple[Item, ...]) -> list[tuple[str, ClassDef]]:
    from backend_agent.analysis.endpoints.ruby.dsl import walk_classes

    return list(walk_classes(items))


def _all_calls(items: tuple[Item, ...]) -> list[Call]:
    """Every call in a tree, inside blocks, classes and modules."""
    found: list[Call] = []
    for item in items:
        if isinstance(item, Call):
            found.append(item)
        if isinstance(item, Call | ClassDef | ModuleDef):
            found += _all_calls(item.children)
    return found


def _read_callbacks(
    cls: ClassDef, bodies: dict[str, str], callbacks: list[str], override: bool
) -> None:
    """A Hanami action class's method bodies and ``before :name`` callbacks."""
    for item in cls.children:
        if isinstance(item, MethodDef) and (override or item.name not in bodies):
            bodies[item.name] = item.body
        elif isinstance(item, Call) and item.name == "before":
            callbacks += [str(a[1]) for a in item.args if a[0] in ("sym", "str")]


def _callbacks_auth(callbacks: list[str], bodies: dict[str, str]) -> Auth:
    """Auth from ``before`` callbacks; one redefined as an empty method is switched off."""
    from backend_agent.analysis.endpoints.ruby.controllers import filter_auth

    levels = {filter_auth(n, bodies.get(n)) for n in callbacks if bodies.get(n, "x").strip()}
    if "required" in levels:
        return "required"
    return "optional" if "optional" in levels else "none"


def _camelize(path: str) -> str:
    """``admin/user_roles`` (or Hanami's ``articles::comments``) -> ``Admin::UserRoles``."""
    segments = path.replace("::", "/").split("/")
    return "::".join("".join(word.capitalize() for word in s.split("_")) for s in segments)


def _controller_class(controller: str) -> str:
    return _camelize(controller) + "Controller"


extractor = RubyExtractor()
