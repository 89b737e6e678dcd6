"""Go routers by abstract interpretation: routers as values flowing through functions and
packages (Gin, Echo, Chi, Fiber, gorilla/mux, net/http), with middleware in order."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from backend_agent.analysis.endpoints.go.scan import Expr
from backend_agent.analysis.endpoints.model import Auth, Endpoint, Unresolved, normalise_path

CONSTRUCTORS = {
    ("gin", "Default"): "gin", ("gin", "New"): "gin", ("echo", "New"): "echo",
    ("chi", "NewRouter"): "chi", ("chi", "NewMux"): "chi", ("mux", "NewRouter"): "gorilla",
    ("http", "NewServeMux"): "net/http", ("fiber", "New"): "fiber",
}  # fmt: skip
ROUTER_TYPES = {
    "gin.": "gin", "echo.": "echo", "chi.": "chi", "fiber.": "fiber", "mux.Router": "gorilla",
    "http.ServeMux": "net/http",
}  # fmt: skip
# Parameters of these types are the application itself: their prefix is "".
ROOT_TYPES = ("gin.Engine", "echo.Echo", "fiber.App")
# Config fields that make an auth middleware conditional (echo Skipper, fiber Filter/Next).
SKIP_FIELDS = ("Skipper", "Filter", "Next")
VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE")
AUTH_NAME = re.compile(
    r"auth|jwt|token|login|session|bearer|apikey|api_key|protect|guard|"
    r"require_?user|current_?user|verify",
    re.IGNORECASE,
)
_MAX_DEPTH = 10


class PackageDirectories:
    """Maps Go import paths to the repository directories that hold those packages."""

    def __init__(self, modules: Mapping[str, str], directories: set[str]) -> None:
        self.modules = modules  # go.mod directory -> module path
        self.directories = directories
        self._suffixes: dict[str, list[str]] = {}
        for directory in directories:
            pieces = directory.split("/") if directory else []
            for start in range(len(pieces)):
                self._suffixes.setdefault("/".join(pieces[start:]), []).append(directory)

    def find(self, import_path: str) -> str | None:
        """The directory of an imported package: through the go.mod that declares its module,
        else the longest unique directory suffix of the import path."""
        for directory, module in self.modules.items():
            if module and (import_path == module or import_path.startswith(module + "/")):
                rest = import_path[len(module) :].strip("/")
                candidate = "/".join(part for part in (directory, rest) if part)
                if candidate in self.directories:
                    return candidate
        parts = import_path.split("/")
        for start in range(len(parts)):
            found = self._suffixes.get("/".join(parts[start:]), [])
            if len(found) == 1:
                return found[0]
        return None


@dataclass(eq=False)
class Router:
    """A router or group; its full prefix is its parent's plus ``segment`` (None: unknown)."""

    framework: str
    segment: str | None = ""
    fragment: str = ""
    middleware: list[str] = field(default_factory=list)
    parent: Router | None = None
    everywhere: list[str] = field(default_factory=list)  # echo's e.Use: every route, any order

    def child(self, segment: str | None, fragment: str, middleware: list[str]) -> Router:
        return Router(self.framework, segment, fragment, [*self.middleware, *middleware], self)

    def prefix(self, seen: int = 0) -> tuple[str | None, str, list[str]]:
        """(full prefix, what is known of it, middleware inherited through mounts)."""
        if self.parent is None or seen > _MAX_DEPTH:
            return self.segment, self.fragment, []
        prefix, fragment, inherited = self.parent.prefix(seen + 1)
        joined = None if prefix is None or self.segment is None else prefix + self.segment
        return joined, fragment + self.fragment, inherited


@dataclass(eq=False)
class RouteDecl:
    """A route registered on a router (gorilla's builders fill methods and handler later)."""

    router: Router
    methods: list[str]
    path: str | None
    fragment: str
    middleware: list[str]
    handler: Expr | None
    file: str
    line: int
    receiver: tuple[str, str] | None = None  # (name, type) of the method registering it


@dataclass(frozen=True)
class Unknown:
    text: str


@dataclass(frozen=True)
class Fn:
    params: list[tuple[str, str]]
    body: list[Expr]
    file: str
    upgrades: bool


Value = Router | RouteDecl | Unknown | Fn | str


@dataclass(frozen=True)
class RouterCall:
    """A call on a router value: method, evaluated arguments, their source, middleware names."""

    file: str
    method: str
    args: list[Value]
    exprs: list[Expr]
    names: list[str]
    line: int
    depth: int


class GoResolver:
    """Interprets every entry function, following routers into callees across packages."""

    def __init__(self, facts: Mapping[str, dict[str, Any]]) -> None:
        self.modules = {
            _directory(p): f["module"] for p, f in facts.items() if p.endswith("go.mod")
        }
        self.facts = {p: f for p, f in facts.items() if p.endswith(".go")}
        self.routes: list[RouteDecl] = []
        self.fields: dict[str, Value] = {}
        self.default_mux: Router | None = None
        self.by_dir: dict[str, dict[str, list[tuple[str, dict[str, Any]]]]] = {}
        self.methods: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self.by_name: dict[str, list[dict[str, Any]]] = {}
        self._receivers: dict[int, tuple[str, str]] = {}
        self._packages = PackageDirectories(self.modules, {_directory(p) for p in self.facts})
        self._receiver: tuple[str, str] | None = None
        calls: set[tuple[str, str, str]] = set()
        for path, facts_of in self.facts.items():
            directory = _directory(path)
            for fn in facts_of["functions"]:
                self.by_name.setdefault(fn["name"], []).append(fn)
                if fn["receiver"]:
                    self.methods.setdefault(fn["name"], []).append((path, fn))
                    self._receivers[id(fn)] = (fn.get("receiver_name", ""), fn["receiver"])
                else:
                    self.by_dir.setdefault(directory, {}).setdefault(fn["name"], []).append(
                        (path, fn)
                    )
                _calls(fn["body"], facts_of["imports"], directory, calls)
        self.called: set[tuple[str, str, str]] = set()
        for kind, where, name in calls:
            if kind == "pkg":
                where = self._package_dir(where) or ""
                kind = "dir"
            self.called.add((kind, where, name))
        self._active: set[int] = set()
        self._done: set[int] = set()
        self.skippers: dict[str, Fn] = {}

    def run(self) -> None:
        """Interpret entry functions (never called, or main), then any function taking a
        router that no interpreted caller reached (its group prefix is then unknown)."""
        for path, facts_of in self.facts.items():
            for fn in facts_of["functions"]:
                if fn["receiver"]:
                    called = ("method", "", fn["name"]) in self.called
                else:
                    called = ("dir", _directory(path), fn["name"]) in self.called
                if not called or (fn["name"] == "main" and not fn["receiver"]):
                    self._interpret(path, fn["params"], fn["body"], {}, 0, id(fn))
        for path, facts_of in self.facts.items():
            for fn in facts_of["functions"]:
                takes_router = any(_router_type(t) for _, t in fn["params"])
                if id(fn) not in self._done and takes_router:
                    self._interpret(path, fn["params"], fn["body"], {}, 0, id(fn))

    def endpoints(self) -> tuple[list[Endpoint], list[Unresolved]]:
        endpoints: list[Endpoint] = []
        unresolved: list[Unresolved] = []
        for route in self.routes:
            prefix, fragment, _ = route.router.prefix()
            full = None if prefix is None or route.path is None else prefix + route.path
            if full is None:
                unresolved.append(
                    Unresolved(
                        route.file,
                        route.line,
                        (fragment + route.fragment) or "/",
                        "router prefix comes from a value the analysis cannot follow",
                    )
                )
                continue
            websocket = self._upgrades(route)
            handler = _render(route.handler) if route.handler is not None else ""
            package = self.facts[route.file]["package"]
            if handler.split(".", 1)[0] in self.facts[route.file]["imports"]:
                package, handler = handler.split(".", 1)
            elif route.receiver and handler.startswith(route.receiver[0] + "."):
                handler = route.receiver[1] + handler[len(route.receiver[0]) :]
            for method in route.methods or ["ANY"]:
                middleware = [*route.middleware, *_root(route.router).everywhere]
                auth = auth_of(middleware, self._skipped(middleware, method, full))
                endpoints.append(
                    Endpoint(
                        "websocket" if websocket else "rest",
                        "WS" if websocket else method,
                        normalise_path(full.replace("...}", "}")),
                        auth,
                        route.router.framework,
                        f"{package}.{handler}",
                        route.file,
                        route.line,
                    )
                )
        return _dedupe(endpoints), unresolved

    # -- interpretation ------------------------------------------------------------------

    def _interpret(
        self,
        path: str,
        params: list[tuple[str, str]],
        body: list[Expr],
        bound: dict[str, Value],
        depth: int,
        key: int,
    ) -> Value | None:
        if depth > _MAX_DEPTH or key in self._active:
            return None
        self._active.add(key)
        self._done.add(key)
        enclosing = self._receiver
        self._receiver = self._receivers.get(key, enclosing)
        env: dict[str, Value] = {}
        for index, (name, type_text) in enumerate(params):
            if name in bound:
                env[name] = bound[name]
            elif str(index) in bound:
                env[name] = bound[str(index)]
            else:
                framework = _router_type(type_text)
                if framework is not None:
                    root = any(marker in type_text for marker in ROOT_TYPES)
                    env[name] = Router(framework, "" if root else None, "" if root else "{?}")
        try:
            return self._run(path, env, body, depth)
        finally:
            self._active.discard(key)
            self._receiver = enclosing

    def _run(self, path: str, env: dict[str, Value], body: list[Expr], depth: int) -> Value | None:
        """Statements in order (both branches of an ``if``); the first router returned."""
        result: Value | None = None
        for statement in body:
            if statement[0] == "set":
                values = [self._eval(path, env, e, depth) for e in statement[2]]
                for name, value in zip(statement[1], values, strict=False):
                    if "." in name:
                        self.fields[name.rsplit(".", 1)[1]] = value
                    else:
                        env[name] = value
            elif statement[0] == "do":
                self._eval(path, env, statement[1], depth)
            elif statement[0] == "if":
                for branch in (statement[2], statement[3]):
                    returned = self._run(path, env, branch, depth)
                    result = result or returned
            elif statement[0] == "ret" and statement[1] and result is None:
                value = self._eval(path, env, statement[1][0], depth)
                if isinstance(value, Router):
                    result = value
        return result

    def _eval(self, path: str, env: dict[str, Value], value: Expr, depth: int) -> Value:
        tag = value[0]
        if tag == "s":
            return str(value[1])
        if tag == "+":
            left, right = (
                self._eval(path, env, value[1], depth),
                self._eval(path, env, value[2], depth),
            )
            return (
                left + right
                if isinstance(left, str) and isinstance(right, str)
                else Unknown(_render(value))
            )
        if tag == "id":
            return env.get(value[1], Unknown(value[1]))
        if tag == "sel":
            base = value[1]
            if base[0] == "id" and base[1] not in env and base[1] in self.facts[path]["imports"]:
                return Unknown(_render(value))
            if value[2] in self.fields:
                return self.fields[value[2]]
            return Unknown(_render(value))
        if tag == "fn":
            return Fn(value[1], value[2], path, bool(value[4]))
        if tag == "call":
            return self._call(path, env, value, depth)
        return Unknown(_render(value))

    def _call(self, path: str, env: dict[str, Value], call: Expr, depth: int) -> Value:
        func, arg_exprs, line = call[1], call[2], int(call[3])
        for arg in arg_exprs:
            skipper = _skipper(arg)
            if skipper is not None:
                self.skippers[_render(call)] = Fn(skipper[1], skipper[2], path, False)
        args = [self._eval(path, env, a, depth) for a in arg_exprs]
        if func[0] == "sel":
            receiver, method = func[1], func[2]
            imports = self.facts[path]["imports"]
            if receiver[0] == "id" and receiver[1] not in env and receiver[1] in imports:
                return self._package_call(
                    path, imports[receiver[1]], method, args, arg_exprs, call, depth, line
                )
            target = self._eval(path, env, receiver, depth)
            if isinstance(target, Router):
                return self._router_call(path, target, method, args, arg_exprs, line, depth)
            if isinstance(target, RouteDecl):
                return _builder_call(target, method, args, arg_exprs, path, line, self.routes)
            if any(isinstance(a, Router) for a in args):
                return self._call_methods(method, args, depth)
            return Unknown(_render(call))
        if func[0] == "id" and func[1] not in env:
            directory = path.rsplit("/", 1)[0] if "/" in path else ""
            return self._call_functions(
                self.by_dir.get(directory, {}).get(func[1], []), args, depth
            ) or Unknown(_render(call))
        return Unknown(_render(call))

    def _package_call(
        self,
        path: str,
        import_path: str,
        name: str,
        args: list[Value],
        arg_exprs: list[Expr],
        call: Expr,
        depth: int,
        line: int,
    ) -> Value:
        package = import_path.rsplit("/", 1)[-1]
        if package.startswith("v") and package[1:].isdigit() and "/" in import_path:
            package = import_path.rsplit("/", 2)[-2]
        framework = CONSTRUCTORS.get((_short_package(package), name))
        if framework is not None:
            return Router(framework)
        if package == "http" and name in ("Handle", "HandleFunc"):
            if self.default_mux is None:
                self.default_mux = Router("net/http")
            return self._router_call(path, self.default_mux, name, args, arg_exprs, line, depth)
        if package == "http" and name in ("StripPrefix", "HandlerFunc", "TimeoutHandler") and args:
            return args[-1] if name != "StripPrefix" else args[1] if len(args) > 1 else Unknown("")
        directory = self._package_dir(import_path)
        if directory is not None:
            found = self._call_functions(self.by_dir.get(directory, {}).get(name, []), args, depth)
            if found is not None:
                return found
        return Unknown(_render(call))

    def _call_functions(
        self, candidates: list[tuple[str, dict[str, Any]]], args: list[Value], depth: int
    ) -> Value | None:
        result: Value | None = None
        for path, fn in candidates:
            bound = {str(i): a for i, a in enumerate(args)}
            value = self._interpret(path, fn["params"], fn["body"], bound, depth + 1, id(fn))
            result = result or value
        return result

    def _call_methods(self, name: str, args: list[Value], depth: int) -> Value:
        candidates = [
            (p, fn) for p, fn in self.methods.get(name, []) if len(fn["params"]) == len(args)
        ]
        return self._call_functions(candidates, args, depth) or Unknown(name)

    def _package_dir(self, import_path: str) -> str | None:
        return self._packages.find(import_path)

    def _router_call(
        self,
        path: str,
        router: Router,
        method: str,
        args: list[Value],
        arg_exprs: list[Expr],
        line: int,
        depth: int,
    ) -> Value:
        """A method called on a router: structure (groups, mounts, middleware) or a route."""
        names = [_middleware_name(a, e) for a, e in zip(args, arg_exprs, strict=True)]
        call = RouterCall(path, method, args, arg_exprs, names, line, depth)
        for handle in (self._structure_call, self._mux_call, self._verb_call):
            result = handle(router, call)
            if result is not None:
                return result
        return Unknown(method)

    def _structure_call(self, router: Router, call: RouterCall) -> Value | None:
        """Group, Route, With, Use, Mount and gorilla's PathPrefix."""
        method, args = call.method, call.args
        if method in ("Group", "Route") and args and isinstance(args[0], str | Unknown):
            fn = next((a for a in args if isinstance(a, Fn)), None)
            child = router.child(
                _str(args[0]), _fragment(args[0]), [] if fn is not None else call.names[1:]
            )
            if fn is not None:
                self._interpret(fn.file, fn.params, fn.body, {"0": child}, call.depth + 1, id(fn))
            return child
        if method == "Group" and args and isinstance(args[0], Fn):
            child, fn = router.child("", "", []), args[0]
            self._interpret(fn.file, fn.params, fn.body, {"0": child}, call.depth + 1, id(fn))
            return child
        if method == "With":
            return router.child("", "", call.names)
        if method == "Use":
            added = [n for a, n in zip(args, call.names, strict=True) if not isinstance(a, str)]
            if router.framework == "echo" and router.parent is None:
                router.everywhere.extend(added)  # Echo#Use wraps the router: all routes
            else:
                router.middleware.extend(added)  # others: routes registered after it
            return router
        if method == "Mount" and len(args) >= 2 and isinstance(args[-1], Router):
            _mount(router, args[-1], args[0], strip_slash=False)
            return router
        if method == "PathPrefix" and args:
            return RouteDecl(
                router, [], _str(args[0]), _fragment(args[0]), [], None, call.file, call.line
            )
        return None

    def _mux_call(self, router: Router, call: RouterCall) -> Value | None:
        """``Handle``/``HandleFunc`` of net/http, chi and gorilla: a route, or a mounted router."""
        args = call.args
        if call.method not in ("Handle", "HandleFunc") or len(args) < 2:
            return None
        if router.framework not in ("net/http", "chi", "gorilla"):
            return None
        if isinstance(args[1], Router) and router.framework != "gorilla":
            _mount(router, args[1], args[0], strip_slash=True)
            return router
        if router.framework == "net/http":
            methods, route_path = _pattern(args[0])
        else:
            methods, route_path = [], _str(args[0])
        return self._add(
            router, methods, route_path, _fragment(args[0]), [], call.exprs[1], call.file, call.line
        )

    def _verb_call(self, router: Router, call: RouterCall) -> Value | None:
        """GET/Get/..., Any/All, Handle/Add/Method(verb, path, ...), Echo's Match."""
        method, args, exprs, names = call.method, call.args, call.exprs, call.names
        if method == "Match" and len(args) >= 3:
            verbs = [v.upper() for v in _strings(exprs[0])]
            return self._add(
                router, verbs, _str(args[1]), _fragment(args[1]), names[3:], exprs[2],
                call.file, call.line,
            )  # fmt: skip
        verb = {"Any": "ANY", "All": "ANY"}.get(method)
        if verb is None and method.upper() in VERBS:
            verb = method.upper()
        if method in ("Handle", "Add", "Method", "MethodFunc") and len(args) >= 3:
            verb = (_str(args[0]) or "ANY").upper()
            args, exprs, names = args[1:], exprs[1:], names[1:]
        if verb is None or len(args) < 2:
            return None
        if router.framework == "echo":  # echo: handler first, then route middleware
            handler, middleware = exprs[1], names[2:]
        else:
            handler, middleware = exprs[-1], names[1:-1]
        return self._add(
            router, [verb], _str(args[0]), _fragment(args[0]), middleware, handler,
            call.file, call.line,
        )  # fmt: skip

    def _add(
        self,
        router: Router,
        methods: list[str],
        route_path: str | None,
        fragment: str,
        middleware: list[str],
        handler: Expr,
        path: str,
        line: int,
    ) -> RouteDecl:
        decl = RouteDecl(
            router,
            methods,
            route_path,
            fragment,
            [*router.middleware, *middleware],
            handler,
            path,
            line,
        )
        decl.receiver = self._receiver
        self.routes.append(decl)
        return decl

    def _skipped(self, middleware: list[str], method: str, path: str) -> dict[str, str]:
        """For middleware with a skipper: "skip" (it does not run for this method and path),
        "run", or "unknown" when the skipper is beyond the analysis."""
        outcome: dict[str, str] = {}
        for name in middleware:
            skipper = self.skippers.get(name)
            if skipper is not None:
                result = _evaluate_skipper(skipper, method, path)
                outcome[name] = "unknown" if result is None else "skip" if result else "run"
        return outcome

    def _upgrades(self, route: RouteDecl) -> bool:
        handler = route.handler
        if handler is None:
            return False
        if handler[0] == "fn":
            return bool(handler[4])
        name = handler[2] if handler[0] == "sel" else handler[1] if handler[0] == "id" else ""
        if handler[0] == "call":
            return False
        candidates = self.by_name.get(name, [])
        return bool(candidates) and all(fn["upgrades"] for fn in candidates)


def _root(router: Router) -> Router:
    seen = 0
    while router.parent is not None and seen < _MAX_DEPTH:
        router, seen = router.parent, seen + 1
    return router


def _mount(parent: Router, child: Router, pattern: Value, strip_slash: bool) -> None:
    """``child`` now lives under ``parent`` at ``pattern`` and inherits its middleware."""
    if child is parent:
        return
    segment = _str(pattern)
    if segment is not None and strip_slash:
        segment = segment.rstrip("/")
    child.parent, child.segment, child.fragment = parent, segment, _fragment(pattern)
    child.middleware[:0] = parent.middleware


def _builder_call(
    decl: RouteDecl,
    method: str,
    args: list[Value],
    arg_exprs: list[Expr],
    path: str,
    line: int,
    routes: list[RouteDecl],
) -> Value:
    """gorilla/mux builders: ``.Methods(...)``, ``.Subrouter()``, ``.HandlerFunc(h)``, ``.Path``."""
    if method == "Methods":
        decl.methods = [a.upper() for a in args if isinstance(a, str)]
    elif method == "Subrouter":
        return decl.router.child(decl.path, decl.fragment, [])
    elif method in ("HandlerFunc", "Handler") and arg_exprs:
        decl.handler = arg_exprs[0]
        if decl not in routes:
            routes.append(decl)
    elif method == "Path" and args:
        decl.path, decl.fragment = _str(args[0]), _fragment(args[0])
    return decl


def auth_of(middleware: list[str], skips: dict[str, str] | None = None) -> Auth:
    """Auth from middleware names: auth-like names are ``required``; a ``false`` argument or
    an "optional" name makes them ``optional``; a skipper that says the middleware does not
    run for this route removes it, one the analysis cannot evaluate makes it ``unknown``."""
    skips = skips or {}
    states: list[Auth] = []
    for name in middleware:
        head = name.split("(", 1)[0]
        if not AUTH_NAME.search(head) and not AUTH_NAME.search(name.split("{", 1)[0]):
            continue
        status = skips.get(name)
        if status == "skip":
            continue
        if status == "unknown" or (status is None and any(f in name for f in SKIP_FIELDS)):
            states.append("unknown")
        elif "optional" in name.lower() or name.endswith("(false)"):
            states.append("optional")
        else:
            states.append("required")
    order: tuple[Auth, ...] = ("required", "unknown", "optional")
    return next((state for state in order if state in states), "none")


def _calls(
    body: list[Expr], imports: dict[str, str], directory: str, calls: set[tuple[str, str, str]]
) -> None:
    """What a body calls: ("pkg", import path, name), ("dir", directory, name) for a function
    of its own package, ("method", "", name) for a method of something."""
    stack: list[Any] = list(body)
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            if item and item[0] == "call":
                func = item[1]
                if func[0] == "id":
                    calls.add(("dir", directory, func[1]))
                elif func[0] == "sel" and func[1][0] == "id" and func[1][1] in imports:
                    calls.add(("pkg", imports[func[1][1]], func[2]))
                elif func[0] == "sel":
                    calls.add(("method", "", func[2]))
            stack.extend(item)
        elif isinstance(item, list | dict):
            stack.extend(item.values() if isinstance(item, dict) else item)


def _directory(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _router_type(type_text: str) -> str | None:
    if "Context" in type_text or "Ctx" in type_text:
        return None
    return next((fw for marker, fw in ROUTER_TYPES.items() if marker in type_text), None)


def _short_package(package: str) -> str:
    return {"gorilla/mux": "mux"}.get(package, package)


def _pattern(value: Value) -> tuple[list[str], str | None]:
    """Go 1.22 ServeMux patterns: ``"GET /items/{id}"`` -> (["GET"], "/items/{id}")."""
    if not isinstance(value, str):
        return [], None
    method, _, rest = value.partition(" ")
    if rest and method.upper() in VERBS:
        return [method.upper()], rest.strip()
    return [], value


def _middleware_name(value: Value, source: Expr) -> str:
    if isinstance(value, Unknown):
        return value.text
    return _render(source)


def _str(value: Value) -> str | None:
    return value if isinstance(value, str) else None


def _fragment(value: Value) -> str:
    return value if isinstance(value, str) else "{?}"


def _strings(value: Expr) -> list[str]:
    if value[0] == "lit":
        return [str(item[1]) for item in value[3] if item[0] == "s"]
    return []


def _render(value: Expr) -> str:
    tag = value[0]
    if tag == "s":
        return f'"{value[1]}"'
    if tag == "id":
        return str(value[1])
    if tag == "sel":
        return f"{_render(value[1])}.{value[2]}"
    if tag == "call":
        return f"{_render(value[1])}({', '.join(_render(a) for a in value[2])})"
    if tag == "b":
        return "true" if value[1] else "false"
    if tag == "lit":
        fields = ", ".join(f"{key}: {_render(item)}" for key, item in value[2].items())
        return f"{value[1]}{{{fields}}}"
    if tag == "fn":
        return f"<closure:{value[3]}>"
    return str(value[1]) if len(value) > 1 else "?"


def _dedupe(endpoints: list[Endpoint]) -> list[Endpoint]:
    seen: dict[tuple[str, str, str, str, int], Endpoint] = {}
    for endpoint in endpoints:
        seen.setdefault(
            (endpoint.method, endpoint.path, endpoint.kind, endpoint.file, endpoint.line), endpoint
        )
    return list(seen.values())


def _skipper(value: Expr) -> Expr | None:
    """The skip function literal of a middleware config (``Skipper``, ``Filter``, ``Next``)."""
    if value[0] != "lit":
        return None
    for field_name in SKIP_FIELDS:
        found = value[2].get(field_name)
        if found is not None and found[0] == "fn":
            return tuple(found)
    return None


def _evaluate_skipper(skipper: Fn, method: str, path: str) -> bool | None:
    """Run a skip function for one route: ``if c.Method() == "GET" && c.Path() != "/x" {
    return true }; return false``. None when it uses anything else."""
    return _run_skipper(skipper.body, method, path)


def _run_skipper(body: list[Expr], method: str, path: str) -> bool | None:
    for statement in body:
        if statement[0] == "if":
            condition = _condition(statement[1], method, path)
            if condition is None:
                return None
            outcome = _run_skipper(statement[2] if condition else statement[3], method, path)
            if outcome is not None or condition:
                return outcome
        elif statement[0] == "ret":
            value = _condition(statement[1][0], method, path) if statement[1] else None
            return value if isinstance(value, bool) else None
        else:
            return None
    return None


def _condition(value: Expr, method: str, path: str) -> bool | str | None:
    """Evaluate a skipper expression: booleans, comparisons, the request method and path."""
    tag = value[0]
    if tag == "b":
        return bool(value[1])
    if tag == "s":
        return str(value[1])
    text = _render(value)
    if text.endswith((".Method()", ".Request().Method", ".Request.Method")):
        return method
    if text.endswith((".Path()", ".Route().Path", ".Request().URL.Path")):
        return path
    if tag == "op":
        left, right = _condition(value[2], method, path), _condition(value[3], method, path)
        if left is None or right is None:
            return None
        if value[1] == "==":
            return left == right
        if value[1] == "!=":
            return left != right
        if value[1] == "&&":
            return bool(left) and bool(right)
        return bool(left) or bool(right)
    return None
