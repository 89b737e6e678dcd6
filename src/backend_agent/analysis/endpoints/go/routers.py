"""Go routers by abstract interpretation: routers as values flowing through functions,
methods, struct fields and packages (Gin, Echo, Chi, Fiber, gorilla/mux, net/http), with
middleware in order. What each router method does is in ``frameworks``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from backend_agent.analysis.endpoints.go import frameworks
from backend_agent.analysis.endpoints.go.auth import (
    PASSES_ALL,
    auth_of,
    evaluate_skipper,
    rejects,
    skipper,
)
from backend_agent.analysis.endpoints.go.frameworks import ROOT_TYPES, constructor, router_type
from backend_agent.analysis.endpoints.go.packages import PackageDirectories
from backend_agent.analysis.endpoints.go.scan import Expr
from backend_agent.analysis.endpoints.go.values import (
    MAX_DEPTH,
    Fn,
    RouteDecl,
    Router,
    RouterCall,
    Struct,
    Unknown,
    Value,
    dedupe,
    directory,
    render,
    root,
    walk_calls,
)
from backend_agent.analysis.endpoints.model import Endpoint, Unresolved, normalise_path

_Function = dict[str, Any]
# A call wrapping a route's handler in a guard: `app.requireAuthenticatedUser(app.updateUser)`.
_GUARD_WRAPPER = re.compile(
    r"(?:^|\.)(?:require|ensure|must|protect|only|with_?auth|authenticated)\w*$|"
    r"(?:Required|Guard|Middleware)$",
    re.IGNORECASE,
)


class GoResolver:
    """Interprets every entry function, following routers into callees across packages."""

    def __init__(self, facts: Mapping[str, dict[str, Any]]) -> None:
        self.modules = {directory(p): f["module"] for p, f in facts.items() if p.endswith("go.mod")}
        self.facts = {p: f for p, f in facts.items() if p.endswith(".go")}
        self.routes: list[RouteDecl] = []
        self.fields: dict[str, Value] = {}
        self.default_mux: Router | None = None
        self.by_dir: dict[str, dict[str, list[tuple[str, _Function]]]] = {}
        self.methods: dict[str, list[tuple[str, _Function]]] = {}
        self.by_name: dict[str, list[_Function]] = {}
        self.globals: dict[str, dict[str, tuple[str, Expr]]] = {}  # dir -> name -> (file, expr)
        self._receivers: dict[int, tuple[str, str]] = {}
        self._packages = PackageDirectories(self.modules, {directory(p) for p in self.facts})
        self._receiver: tuple[str, str] | None = None
        calls: set[tuple[str, str, str]] = set()
        for path, facts_of in self.facts.items():
            where = directory(path)
            for statement in facts_of["vars"]:
                for name, value in zip(statement[1], statement[2], strict=False):
                    self.globals.setdefault(where, {}).setdefault(name, (path, value))
            for fn in facts_of["functions"]:
                self.by_name.setdefault(fn["name"], []).append(fn)
                if fn["receiver"]:
                    self.methods.setdefault(fn["name"], []).append((path, fn))
                    self._receivers[id(fn)] = (fn.get("receiver_name", ""), fn["receiver"])
                else:
                    self.by_dir.setdefault(where, {}).setdefault(fn["name"], []).append((path, fn))
                walk_calls(fn["body"], facts_of["imports"], where, calls)
        self.called: set[tuple[str, str, str]] = set()
        for kind, where, name in calls:
            if kind == "pkg":
                where = self._package_dir(where) or ""
                kind = "dir"
            self.called.add((kind, where, name))
        self.builders = self._router_builders()
        self._active: set[int] = set()
        self._done: set[int] = set()
        self._global_values: dict[tuple[str, str], Value] = {}
        self.skippers: dict[str, Fn] = {}

    def run(self) -> None:
        """Interpret entry functions (never called, or main); then functions that build a
        router and that no interpreted caller reached (called from code the analysis does
        not follow, such as a struct literal in a var block); then any function taking a
        router that nothing reached (its group prefix is then unknown)."""
        for path, facts_of in self.facts.items():
            for fn in facts_of["functions"]:
                if fn["receiver"]:
                    called = ("method", "", fn["name"]) in self.called
                else:
                    called = ("dir", directory(path), fn["name"]) in self.called
                if not called or (fn["name"] == "main" and not fn["receiver"]):
                    self._interpret(path, fn["params"], fn["body"], {}, 0, id(fn))
        for path, facts_of in self.facts.items():
            for fn in facts_of["functions"]:
                if id(fn) in self.builders and id(fn) not in self._done:
                    self._interpret(path, fn["params"], fn["body"], {}, 0, id(fn))
        for path, facts_of in self.facts.items():
            for fn in facts_of["functions"]:
                takes_router = any(router_type(t) for _, t in fn["params"])
                if id(fn) not in self._done and takes_router:
                    self._interpret(path, fn["params"], fn["body"], {}, 0, id(fn))

    def endpoints(self) -> tuple[list[Endpoint], list[Unresolved]]:
        endpoints: list[Endpoint] = []
        unresolved: list[Unresolved] = []
        for route in self.routes:
            prefix, fragment, _ = route.router.prefix()
            full = route.router.join(prefix, route.path)
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
            top = root(route.router)
            fulls = [full, *(alias + full for alias in top.aliases)]
            websocket = self._upgrades(route)
            handler = render(route.handler) if route.handler is not None else ""
            package = self.facts[route.file]["package"]
            if handler.split(".", 1)[0] in self.facts[route.file]["imports"]:
                package, handler = handler.split(".", 1)
            elif route.receiver and handler.startswith(route.receiver[0] + "."):
                handler = route.receiver[1] + handler[len(route.receiver[0]) :]
            for method, served in ((m, f) for m in route.methods or ["ANY"] for f in fulls):
                middleware = [*route.middleware, *top.everywhere]
                auth = auth_of(middleware, self._skipped(middleware, method, served))
                endpoints.append(
                    Endpoint(
                        "websocket" if websocket else "rest",
                        "WS" if websocket else method,
                        normalise_path(served.replace("...}", "}")),
                        auth,
                        route.router.framework,
                        f"{package}.{handler}",
                        route.file,
                        route.line,
                    )
                )
        return dedupe(endpoints), unresolved

    # -- interpretation ------------------------------------------------------------------

    def interpret_fn(self, fn: Fn, router: Router, depth: int) -> None:
        """A closure given a router as its first argument (``r.Route("/x", func(r) {...})``)."""
        self._interpret(fn.file, fn.params, fn.body, {"0": router}, depth, id(fn))

    def _interpret(
        self,
        path: str,
        params: list[tuple[str, str]],
        body: list[Expr],
        bound: dict[str, Value],
        depth: int,
        key: int,
    ) -> Value | None:
        if depth > MAX_DEPTH or key in self._active:
            return None
        self._active.add(key)
        self._done.add(key)
        enclosing = self._receiver
        self._receiver = self._receivers.get(key, enclosing)
        env: dict[str, Value] = {}
        if self._receiver and self._receiver[0] in bound:  # the method's receiver value
            env[self._receiver[0]] = bound[self._receiver[0]]
        for index, (name, type_text) in enumerate(params):
            if name in bound:
                env[name] = bound[name]
            elif str(index) in bound:
                env[name] = bound[str(index)]
            else:
                framework = router_type(type_text)
                if framework is not None:
                    is_root = any(marker in type_text for marker in ROOT_TYPES)
                    env[name] = Router(framework, "" if is_root else None, "" if is_root else "{?}")
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
                for name, value, source in zip(statement[1], values, statement[2], strict=False):
                    if "." in name:
                        self.fields[name.rsplit(".", 1)[1]] = value
                    else:
                        env[name] = value
                        if source[0] == "call":  # `auth := JWTAuth(secret, true)`: for its name
                            env[f"{name}#source"] = self._middleware_name(path, value, source, env)
            elif statement[0] == "do":
                self._eval(path, env, statement[1], depth)
            elif statement[0] == "if":
                for branch in (statement[2], statement[3]):
                    returned = self._run(path, env, branch, depth)
                    result = result or returned
            elif statement[0] == "ret" and statement[1] and result is None:
                value = self._eval(path, env, statement[1][0], depth)
                if isinstance(value, Router | Struct | Fn):
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
            if isinstance(left, str) and isinstance(right, str):
                return left + right
            return Unknown(render(value))
        if tag == "id":
            if value[1] in env:
                return env[value[1]]
            return self._global(directory(path), value[1], depth) or Unknown(value[1])
        if tag == "sel":
            return self._select(path, env, value, depth)
        if tag == "fn":
            return Fn(value[1], value[2], path, bool(value[4]))
        if tag == "call":
            return self._call(path, env, value, depth)
        if tag == "lit":
            return self._struct(path, env, value, depth)
        return Unknown(render(value))

    def _select(self, path: str, env: dict[str, Value], value: Expr, depth: int) -> Value:
        """``pkg.Name`` (a package-level constant), ``s.field`` of a struct value or of a
        field assigned anywhere (``s.router = r`` in a constructor)."""
        base = value[1]
        imports = self.facts[path]["imports"]
        if base[0] == "id" and base[1] not in env and base[1] in imports:
            if imports[base[1]] == "net/http" and str(value[2]).startswith("Method"):
                return str(value[2])[len("Method") :].upper()  # http.MethodPost -> "POST"
            where = self._package_dir(imports[base[1]])
            found = self._global(where, value[2], depth) if where is not None else None
            return found or Unknown(render(value))
        if base[0] in ("id", "sel"):
            target = self._eval(path, env, base, depth)
            if isinstance(target, Struct) and value[2] in target.fields:
                return target.fields[value[2]]
        if value[2] in self.fields:
            return self.fields[value[2]]
        return Unknown(render(value))

    def _struct(self, path: str, env: dict[str, Value], value: Expr, depth: int) -> Struct:
        """A composite literal: its fields are evaluated (calls inside run); routers stored in
        fields are remembered by field name for the methods that read them."""
        fields = {name: self._eval(path, env, item, depth) for name, item in value[2].items()}
        for item in value[3]:
            self._eval(path, env, item, depth)
        for name, field_value in fields.items():
            if isinstance(field_value, Router):
                self.fields[name] = field_value
        return Struct(str(value[1]).lstrip("&*").rsplit(".", 1)[-1], fields)

    def _global(self, where: str | None, name: str, depth: int) -> Value | None:
        """A package-level ``const``/``var`` of the package in directory ``where``."""
        found = self.globals.get(where or "", {}).get(name) if where is not None else None
        if found is None or depth > MAX_DEPTH:
            return None
        key = (where or "", name)
        if key not in self._global_values:
            self._global_values[key] = Unknown(name)  # a constant defined through itself
            self._global_values[key] = self._eval(found[0], {}, found[1], depth + 1)
        return self._global_values[key]

    def _call(self, path: str, env: dict[str, Value], call: Expr, depth: int) -> Value:
        func, arg_exprs, line = call[1], call[2], int(call[3])
        for arg in arg_exprs:
            skip = skipper(arg)
            if skip is not None:
                self.skippers[render(call)] = Fn(skip[1], skip[2], path, False)
        args = [self._eval(path, env, a, depth) for a in arg_exprs]
        if func[0] == "sel":
            receiver, method = func[1], func[2]
            imports = self.facts[path]["imports"]
            if receiver[0] == "id" and receiver[1] not in env and receiver[1] in imports:
                return self._package_call(
                    path, imports[receiver[1]], method, args, call, env, depth
                )
            target = self._eval(path, env, receiver, depth)
            if isinstance(target, Router):
                names = self._middleware_names(path, args, arg_exprs, env)
                router_call = RouterCall(path, method, args, arg_exprs, names, line, depth)
                return frameworks.router_call(self, target, router_call)
            if isinstance(target, RouteDecl):
                return frameworks.builder_call(target, method, args, arg_exprs, self.routes)
            return self._call_methods(method, args, depth, target)
        if func[0] == "id" and func[1] not in env:
            candidates = self.by_dir.get(directory(path), {}).get(func[1], [])
            return self._call_functions(candidates, args, depth) or Unknown(render(call))
        return Unknown(render(call))

    def _package_call(
        self,
        path: str,
        import_path: str,
        name: str,
        args: list[Value],
        call: Expr,
        env: dict[str, Value],
        depth: int,
    ) -> Value:
        package = import_path.rsplit("/", 1)[-1]
        framework = constructor(import_path, name)
        if framework is not None:
            return Router(framework)
        if package == "http" and name in ("Handle", "HandleFunc"):
            if self.default_mux is None:
                self.default_mux = Router("net/http")
            names = self._middleware_names(path, args, call[2], env)
            router_call = RouterCall(path, name, args, call[2], names, int(call[3]), depth)
            return frameworks.router_call(self, self.default_mux, router_call)
        if package == "http" and name in ("StripPrefix", "HandlerFunc", "TimeoutHandler") and args:
            return args[-1] if name != "StripPrefix" else args[1] if len(args) > 1 else Unknown("")
        where = self._package_dir(import_path)
        if where is not None:
            found = self._call_functions(self.by_dir.get(where, {}).get(name, []), args, depth)
            if found is not None:
                return found
        return Unknown(render(call))

    def _call_functions(
        self,
        candidates: list[tuple[str, _Function]],
        args: list[Value],
        depth: int,
        receiver: Value | None = None,
    ) -> Value | None:
        result: Value | None = None
        for path, fn in candidates:
            bound = {str(i): a for i, a in enumerate(args)}
            if receiver is not None and fn.get("receiver_name"):
                bound[fn["receiver_name"]] = receiver
            value = self._interpret(path, fn["params"], fn["body"], bound, depth + 1, id(fn))
            result = result or value
        return result

    def _call_methods(self, name: str, args: list[Value], depth: int, target: Value) -> Value:
        """A method of something that is not a router: followed when a router is passed to
        it, when it is a method of a struct value we built (its receiver is bound), or when
        it builds a router itself (``c.initEcho()``)."""
        candidates = [
            (p, fn) for p, fn in self.methods.get(name, []) if len(fn["params"]) == len(args)
        ]
        if isinstance(target, Struct):
            typed = [(p, fn) for p, fn in candidates if fn["receiver"].lstrip("*") == target.type]
            if typed:
                return self._call_functions(typed, args, depth, target) or Unknown(name)
        if not any(isinstance(a, Router) for a in args):
            candidates = [(p, fn) for p, fn in candidates if id(fn) in self.builders]
        return self._call_functions(candidates, args, depth) or Unknown(name)

    def _middleware_names(
        self, path: str, args: list[Value], exprs: list[Expr], env: dict[str, Value]
    ) -> list[str]:
        return [self._middleware_name(path, a, e, env) for a, e in zip(args, exprs, strict=True)]

    def _middleware_name(self, path: str, value: Value, source: Expr, env: dict[str, Value]) -> str:
        """How a middleware argument reads: its source (for a variable, the call that made
        it), with boolean arguments named by the callee's parameters when the callee is in
        the repository (``JWTAuth(secret, optional=true)``)."""
        lenient = PASSES_ALL if isinstance(value, Fn) and not rejects(value) else ""
        described = env.get(f"{source[1]}#source") if source[0] == "id" else None
        if isinstance(described, str):
            return described + lenient if not described.endswith(PASSES_ALL) else described
        if source[0] == "call" and any(a[0] == "b" for a in source[2]):
            params = self._params_of(path, source[1])
            if params is not None and len(params) == len(source[2]):
                rendered = [
                    f"{name}={render(a)}" if a[0] == "b" else render(a)
                    for (name, _), a in zip(params, source[2], strict=True)
                ]
                return f"{render(source[1])}({', '.join(rendered)})" + lenient
        return value.text if isinstance(value, Unknown) else render(source) + lenient

    def _params_of(self, path: str, func: Expr) -> list[tuple[str, str]] | None:
        where: str | None = directory(path)
        name = func[1] if func[0] == "id" else func[2] if func[0] == "sel" else ""
        if func[0] == "sel" and func[1][0] == "id":
            where = self._package_dir(self.facts[path]["imports"].get(func[1][1], ""))
        candidates = self.by_dir.get(where or "", {}).get(name, []) if where is not None else []
        return list(candidates[0][1]["params"]) if len(candidates) == 1 else None

    def _package_dir(self, import_path: str) -> str | None:
        return self._packages.find(import_path)

    def add_route(
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
        wrappers: list[str] = []
        while handler[0] == "call" and handler[2] and _GUARD_WRAPPER.search(render(handler[1])):
            wrappers.append(render(handler[1]))  # `requireUser(app.updateUser)`
            handler = handler[2][-1]
        decl = RouteDecl(
            router, methods, route_path, fragment, [*router.middleware, *middleware, *wrappers],
            handler, path, line,
        )  # fmt: skip
        decl.receiver = self._receiver
        self.routes.append(decl)
        return decl

    def _skipped(self, middleware: list[str], method: str, path: str) -> dict[str, str]:
        """For middleware with a skipper: "skip" (it does not run for this method and path),
        "run", or "unknown" when the skipper is beyond the analysis."""
        outcome: dict[str, str] = {}
        for name in middleware:
            function = self.skippers.get(name)
            if function is not None:
                result = evaluate_skipper(function, method, path)
                outcome[name] = "unknown" if result is None else "skip" if result else "run"
        return outcome

    def _upgrades(self, route: RouteDecl) -> bool:
        handler = route.handler
        if handler is None or handler[0] == "call":
            return False
        if handler[0] == "fn":
            return bool(handler[4])
        name = handler[2] if handler[0] == "sel" else handler[1] if handler[0] == "id" else ""
        candidates = self.by_name.get(name, [])
        return bool(candidates) and all(fn["upgrades"] for fn in candidates)

    def _router_builders(self) -> set[int]:
        """Functions that build a router: they call a framework constructor, or call a
        function that builds one (followed by name, to a fixed point)."""
        calls_of: dict[int, tuple[_Function, set[tuple[str, str, str]]]] = {}
        for facts_of in self.facts.values():
            for fn in facts_of["functions"]:
                calls: set[tuple[str, str, str]] = set()
                walk_calls(fn["body"], facts_of["imports"], "", calls)
                calls_of[id(fn)] = (fn, calls)
        builders = {
            key
            for key, (_, calls) in calls_of.items()
            if any(kind == "pkg" and constructor(where, name) for kind, where, name in calls)
        }
        names = {calls_of[key][0]["name"] for key in builders}
        changed = True
        while changed:
            changed = False
            for key, (fn, calls) in calls_of.items():
                if key not in builders and any(name in names for _, _, name in calls):
                    builders.add(key)
                    names.add(fn["name"])
                    changed = True
        return builders
