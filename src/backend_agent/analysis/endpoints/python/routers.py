"""FastAPI, Flask, Starlette and aiohttp: routes on router objects, mounts between them, and
full paths from the mount chains (prefixes resolved across files, never guessed). Route
tables are read by ``tables``, auth of decorators and dependencies by ``dependencies``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from backend_agent.analysis.endpoints.model import (
    Auth,
    Endpoint,
    EndpointKind,
    Unresolved,
    normalise_path,
)
from backend_agent.analysis.endpoints.python.auth import by_name, combine
from backend_agent.analysis.endpoints.python.dependencies import DependencyAuth
from backend_agent.analysis.endpoints.python.exprs import fragment, join_paths, show
from backend_agent.analysis.endpoints.python.graph import Mount, ObjId, Route
from backend_agent.analysis.endpoints.python.names import Names
from backend_agent.analysis.endpoints.python.scan import Expr, Facts
from backend_agent.analysis.endpoints.python.tables import (
    HTTP_VERBS,
    aiohttp_routes,
    starlette_routes,
)

CONSTRUCTORS = {
    "FastAPI": "fastapi", "APIRouter": "fastapi", "Flask": "flask", "Blueprint": "flask",
    "Quart": "flask", "Starlette": "starlette", "Router": "starlette",
    "Application": "aiohttp", "RouteTableDef": "aiohttp", "Api": "flask", "Namespace": "flask",
}  # fmt: skip
FRAMEWORK_ROOTS = {
    "fastapi": "fastapi",
    "flask": "flask",
    "quart": "flask",
    "starlette": "starlette",
    "aiohttp": "aiohttp",
}


@dataclass
class RouterGraph:
    """Router objects, their routes, and the mounts between them."""

    names: Names
    frameworks: dict[ObjId, str] = field(default_factory=dict)
    own_prefix: dict[ObjId, tuple[str | None, str]] = field(default_factory=dict)
    own_auth: dict[ObjId, list[Auth]] = field(default_factory=dict)
    routes: dict[ObjId, list[Route]] = field(default_factory=dict)
    mounts: list[Mount] = field(default_factory=list)
    _by_child: dict[ObjId, list[Mount]] | None = None

    def __post_init__(self) -> None:
        self.auth = DependencyAuth(self.names)

    def collect(self) -> None:
        for path, facts in self.names.facts.items():
            for (scope, name), value in _assignments(facts):
                if value[0] == "c":
                    self._constructor(path, scope, name, value)
            for fname, func in facts["functions"].items():
                for decorator in func["decorators"]:
                    self._decorator(path, func["scope"], fname, func, decorator)
            for scope, call in facts["calls"]:
                self._call(path, scope, call)
            for cls_name, cls in facts["classes"].items():
                for decorator in cls["decorators"]:
                    self._class_decorator(path, cls_name, decorator)

    def _class_decorator(self, path: str, cls_name: str, decorator: Expr) -> None:
        """flask-restx / flask-smorest style ``@ns.route("/items/<id>")`` on a Resource class."""
        if decorator[0] != "c" or decorator[1][0] != "a" or decorator[1][2] != "route":
            return
        obj = self.object_of(path, "", decorator[1][1])
        if obj is None or not decorator[2]:
            return
        framework = self._framework(obj, path) or "flask"
        self.class_route(
            obj, framework, path, "", ("n", cls_name), decorator[2][:1], int(decorator[4])
        )

    def _mounted_in(self) -> dict[ObjId, list[Mount]]:
        """Mounts by child object (built once, after collection)."""
        if self._by_child is None:
            self._by_child = {}
            for mount in self.mounts:
                self._by_child.setdefault(mount.child, []).append(mount)
        return self._by_child

    def endpoints(self) -> tuple[list[Endpoint], list[Unresolved]]:
        endpoints: list[Endpoint] = []
        unresolved: list[Unresolved] = []
        for obj, routes in self.routes.items():
            for chain_prefix, chain_fragment, chain_auth in self._chains(obj, frozenset()):
                for route in routes:
                    full = join_paths(chain_prefix, route.path)
                    if full is None:
                        unresolved.append(
                            Unresolved(
                                route.file,
                                route.line,
                                fragment(chain_fragment, route.fragment),
                                "prefix or path is not a constant the analysis can evaluate",
                            )
                        )
                        continue
                    auth = combine([*chain_auth, *self.own_auth.get(obj, []), *route.auth])
                    for method in route.methods:
                        endpoints.append(
                            Endpoint(
                                route.kind,
                                method,
                                normalise_path(full),
                                auth,
                                route.framework,
                                route.handler,
                                route.file,
                                route.line,
                            )
                        )
        return endpoints, unresolved

    def _chains(
        self, obj: ObjId, seen: frozenset[ObjId]
    ) -> Iterator[tuple[str | None, str, list[Auth]]]:
        """(prefix, fragment, auth) for every chain of mounts from a root down to ``obj``."""
        own, own_fragment = self.own_prefix.get(obj, ("", ""))
        parents = [m for m in self._mounted_in().get(obj, []) if m.parent not in seen]
        if not parents:
            yield own, own_fragment, []
            return
        for mount in parents:
            if mount.replaces_prefix:
                mine, mine_fragment = mount.prefix, mount.fragment
            else:
                mine, mine_fragment = join_paths(mount.prefix, own), mount.fragment + own_fragment
            for prefix, parent_fragment, auth in self._chains(mount.parent, seen | {obj}):
                parent_auth = self.own_auth.get(mount.parent, [])
                yield (
                    join_paths(prefix, mine),
                    parent_fragment + mine_fragment,
                    [*auth, *parent_auth, *mount.auth],
                )

    # -- collection ---------------------------------------------------------------------

    def _constructor(self, path: str, scope: str, name: str, call: Expr) -> None:
        callee = self.names.callee(path, scope, call)
        framework = CONSTRUCTORS.get(callee)
        if framework is None:
            return
        obj: ObjId = (path, scope, name)
        self.frameworks[obj] = framework
        kwargs = call[3]
        prefix_expr = kwargs.get("prefix") or kwargs.get("url_prefix")
        if callee == "Namespace" and prefix_expr is None:
            prefix_expr = kwargs.get("path") or (call[2][0] if call[2] else None)
        if prefix_expr is not None:
            self.own_prefix[obj] = (self.names.string(path, scope, prefix_expr), show(prefix_expr))
        auth = self.auth.dependency_auth(path, scope, kwargs.get("dependencies"))
        if auth:
            self.own_auth[obj] = auth
        if callee == "Api" and call[2]:
            parent = self.object_of(path, scope, call[2][0])
            if parent is not None:
                self.mounts.append(Mount(parent, obj, "", "", []))
        routes = kwargs.get("routes")
        if routes is not None:
            starlette_routes(self, obj, path, scope, routes, "", "", 0)

    def object_of(self, path: str, scope: str, value: Expr) -> ObjId | None:
        """The router object an expression denotes (``app.router`` is ``app`` for aiohttp)."""
        found = self.names.target(path, scope, value)
        if (found is None or found.kind != "bind") and value[0] == "a" and value[2] == "router":
            value = value[1]
            found = self.names.target(path, scope, value)
        if found is None:
            if value[0] == "n" and _imports_web_framework(self.names.facts[path]):
                return (path, scope, "param:" + value[1])
            return None
        if found.kind == "bind":
            return found.id
        return None

    def _framework(self, obj: ObjId, path: str) -> str | None:
        known = self.frameworks.get(obj)
        if known is not None:
            return known
        for root in self.names.facts[path]["roots"]:
            if root in FRAMEWORK_ROOTS:
                return FRAMEWORK_ROOTS[root]
        return None

    def _decorator(self, path: str, scope: str, fname: str, func: Facts, decorator: Expr) -> None:
        if decorator[0] == "a" and decorator[2] == "before_request":
            self._app_guard(path, scope, decorator[1], fname)
            return
        if decorator[0] != "c" or decorator[1][0] != "a":
            return
        verb = decorator[1][2]
        if verb not in (*HTTP_VERBS, "route", "api_route", "websocket", "websocket_route"):
            return
        obj = self.object_of(path, scope, decorator[1][1])
        framework = self._framework(obj, path) if obj is not None else None
        if obj is None or framework is None:
            return
        args, kwargs = decorator[2], decorator[3]
        path_expr = args[0] if args else kwargs.get("path", kwargs.get("rule", ("s", "")))
        if verb in HTTP_VERBS:
            methods: tuple[str, ...] = (verb.upper(),)
        elif verb.startswith("websocket"):
            methods = ("WS",)
        else:
            methods = self.methods_of(path, scope, kwargs.get("methods"), ("GET",))
        auth = [*self.auth.dependency_auth(path, scope, kwargs.get("dependencies"))]
        auth += self.auth.function_auth(path, fname, func)
        self._add_route(
            obj,
            path,
            scope,
            path_expr,
            methods,
            self._handler(path, fname),
            decorator[4],
            framework,
            auth,
        )

    def _call(self, path: str, scope: str, call: Expr) -> None:
        method, target, args, kwargs = call[1][2], call[1][1], call[2], call[3]
        parent = self.object_of(path, scope, target)
        if parent is None:
            return
        framework = self._framework(parent, path) or ""
        child = args[0] if args else kwargs.get("router") or kwargs.get("blueprint")
        if method in ("include_router", "register_blueprint", "add_namespace") and child:
            self.mount(
                parent,
                path,
                scope,
                child,
                kwargs.get("prefix") or kwargs.get("url_prefix") or kwargs.get("path"),
                self.auth.dependency_auth(path, scope, kwargs.get("dependencies")),
                replaces=method == "register_blueprint",
            )
        elif method in ("mount", "add_subapp") and len(args) >= 2:
            self.mount(parent, path, scope, args[1], args[0], [], replaces=False)
        elif method == "add_routes" and args:
            aiohttp_routes(self, parent, path, scope, args[0])
        elif method in (
            "add_api_route",
            "add_route",
            "add_api_websocket_route",
            "add_websocket_route",
            "add_url_rule",
            "add_view",
        ) or (method.startswith("add_") and method[4:] in HTTP_VERBS):
            self._registered_route(parent, framework, path, scope, method, args, kwargs, call[4])
        elif method == "add_resource" and len(args) >= 2:
            self.class_route(parent, framework, path, scope, args[0], args[1:], call[4])
        elif method in ("add_middleware", "before_request") and args:
            self._app_guard(path, scope, target, show(args[0]).rsplit(".", 1)[-1])

    def _app_guard(self, path: str, scope: str, target: Expr, name: str) -> None:
        """Middleware or a before-request hook on a whole app/blueprint. A guard-like name
        (``require_login``) means ``required``; an auth middleware whose effect per route
        cannot be read (``AuthenticationMiddleware``) makes that router's auth ``unknown``,
        unless a route's own dependencies say it is required."""
        obj = self.object_of(path, scope, target)
        state = by_name(name)
        if obj is None or state is None:
            return
        hook = not name.endswith("Middleware")
        self.own_auth.setdefault(obj, []).append(state if hook else "unknown")

    def mount(
        self,
        parent: ObjId,
        path: str,
        scope: str,
        child_expr: Expr,
        prefix_expr: Expr | None,
        auth: list[Auth],
        replaces: bool,
    ) -> None:
        child = self.object_of(path, scope, child_expr)
        if child is None or child == parent:
            return
        prefix = self.names.string(path, scope, prefix_expr) if prefix_expr is not None else ""
        fragment = show(prefix_expr) if prefix_expr is not None else ""
        self.mounts.append(
            Mount(parent, child, prefix, fragment, auth, replaces and prefix_expr is not None)
        )

    def _registered_route(
        self,
        obj: ObjId,
        framework: str,
        path: str,
        scope: str,
        method: str,
        args: list[Expr],
        kwargs: dict[str, Expr],
        line: int,
    ) -> None:
        if method == "add_route" and framework == "aiohttp" and len(args) >= 3:
            verb = self.names.string(path, scope, args[0]) or "*"
            methods: tuple[str, ...] = ("ANY",) if verb == "*" else (verb.upper(),)
            self.handler_route(obj, framework, path, scope, args[1], args[2], methods, [], line)
            return
        if method.startswith("add_") and method[4:] in HTTP_VERBS and len(args) >= 2:
            self.handler_route(
                obj, framework, path, scope, args[0], args[1], (method[4:].upper(),), [], line
            )
            return
        if method == "add_view" and len(args) >= 2:
            self.class_route(obj, framework, path, scope, args[1], [args[0]], line)
            return
        path_expr = args[0] if args else kwargs.get("path", kwargs.get("rule", ("s", "")))
        view = (
            kwargs.get("endpoint")
            or kwargs.get("view_func")
            or (args[1] if len(args) > 1 else None)
        )
        if method == "add_url_rule":
            view = kwargs.get("view_func") or (args[2] if len(args) > 2 else None)
        if view is None:
            return
        if view[0] == "c" and view[1][0] == "a" and view[1][2] == "as_view":
            explicit = kwargs.get("methods")
            self.class_route(
                obj,
                framework,
                path,
                scope,
                view[1][1],
                [path_expr],
                line,
                self.methods_of(path, scope, explicit, ()) if explicit else None,
            )
            return
        websocket = "websocket" in method
        methods = (
            ("WS",) if websocket else self.methods_of(path, scope, kwargs.get("methods"), ("GET",))
        )
        deps = self.auth.dependency_auth(path, scope, kwargs.get("dependencies"))
        self.handler_route(obj, framework, path, scope, path_expr, view, methods, deps, line)

    def handler_route(
        self,
        obj: ObjId,
        framework: str,
        path: str,
        scope: str,
        path_expr: Expr,
        view: Expr,
        methods: tuple[str, ...],
        auth: list[Auth],
        line: int,
    ) -> None:
        found = self.names.target(path, scope, view)
        handler = show(view)
        if found is not None and found.kind == "func":
            func = self.names.facts[found.path]["functions"][found.name]
            auth = [*auth, *self.auth.function_auth(found.path, found.name, func)]
            handler = self._handler(found.path, found.name)
        self._add_route(obj, path, scope, path_expr, methods, handler, line, framework, auth)

    def class_route(
        self,
        obj: ObjId,
        framework: str,
        path: str,
        scope: str,
        view: Expr,
        paths: list[Expr],
        line: int,
        methods: tuple[str, ...] | None = None,
    ) -> None:
        found = self.names.target(path, scope, view)
        if found is None or found.kind != "class":
            return
        cls = self.names.facts[found.path]["classes"][found.name]
        class_auth = [
            a for d in cls["decorators"] if (a := self.auth.decorator_auth(found.path, d))
        ]
        decorators = cls["attrs"].get("decorators") or cls["attrs"].get("method_decorators")
        if decorators is not None and decorators[0][0] == "l":
            class_auth += [
                a for d in decorators[0][1] if (a := self.auth.decorator_auth(found.path, d))
            ]
        for verb in methods or tuple(m.upper() for m in HTTP_VERBS if m in cls["methods"]):
            method = cls["methods"].get(verb.lower())
            auth = [*class_auth]
            if method is not None:
                auth += [
                    a
                    for d in method["decorators"]
                    if (a := self.auth.decorator_auth(found.path, d))
                ]
            for path_expr in paths:
                self._add_route(
                    obj,
                    path,
                    scope,
                    path_expr,
                    (verb,),
                    self._handler(found.path, found.name),
                    line,
                    framework,
                    auth,
                )

    def _add_route(
        self,
        obj: ObjId,
        path: str,
        scope: str,
        path_expr: Expr,
        methods: tuple[str, ...],
        handler: str,
        line: int,
        framework: str,
        auth: list[Auth],
    ) -> None:
        kind: EndpointKind = "websocket" if methods == ("WS",) else "rest"
        self.routes.setdefault(obj, []).append(
            Route(
                methods,
                self.names.string(path, scope, path_expr),
                show(path_expr),
                handler,
                path,
                line,
                framework,
                kind,
                auth,
            )
        )

    def methods_of(
        self, path: str, scope: str, value: Expr | None, default: tuple[str, ...]
    ) -> tuple[str, ...]:
        if value is None:
            return default
        found = self.names.target(path, scope, value)
        if found is not None and found.kind == "bind":
            value = self.names.value_of(found)
        if value[0] != "l":
            return default
        methods = [self.names.string(path, scope, item) for item in value[1]]
        return tuple(m.upper() for m in methods if m) or default

    def _handler(self, path: str, name: str) -> str:
        module = self.names.module_name(path)
        return f"{module}.{name}" if module else name


def _assignments(facts: Facts) -> Iterator[tuple[tuple[str, str], Expr]]:
    for scope, names in facts["assigns"].items():
        for name, value in names.items():
            yield (scope, name), value


def _imports_web_framework(facts: Facts) -> bool:
    return any(root in FRAMEWORK_ROOTS for root in facts["roots"])
