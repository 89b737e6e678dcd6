"""What a call on a router means in each Go framework: groups, mounts and middleware
(Gin, Echo, Chi, Fiber, gorilla/mux, net/http), routes, and gorilla's route builders."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from backend_agent.analysis.endpoints.go.scan import Expr
from backend_agent.analysis.endpoints.go.values import (
    Fn,
    RouteDecl,
    Router,
    RouterCall,
    Unknown,
    Value,
    fragment_of,
    literal_strings,
    mount,
    text_of,
)

if TYPE_CHECKING:
    from backend_agent.analysis.endpoints.go.routers import GoResolver as Interpreter

CONSTRUCTORS = {
    ("gin", "Default"): "gin", ("gin", "New"): "gin", ("echo", "New"): "echo",
    ("chi", "NewRouter"): "chi", ("chi", "NewMux"): "chi", ("mux", "NewRouter"): "gorilla",
    ("http", "NewServeMux"): "net/http", ("fiber", "New"): "fiber",
    ("httprouter", "New"): "httprouter",
}  # fmt: skip
ROUTER_TYPES = {
    "gin.": "gin", "echo.": "echo", "chi.": "chi", "fiber.": "fiber", "mux.Router": "gorilla",
    "http.ServeMux": "net/http", "httprouter.Router": "httprouter",
}  # fmt: skip
# Parameters of these types are the application itself: their prefix is "".
ROOT_TYPES = ("gin.Engine", "echo.Echo", "fiber.App")
VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE")


def router_call(interpreter: Interpreter, router: Router, call: RouterCall) -> Value:
    """A method called on a router: structure (groups, mounts, middleware) or a route."""
    for handle in (_structure_call, _mux_call, _verb_call):
        result = handle(interpreter, router, call)
        if result is not None:
            return result
    return Unknown(call.method)


def _structure_call(interpreter: Interpreter, router: Router, call: RouterCall) -> Value | None:
    """Group, Route, With, Use, Mount and gorilla's PathPrefix."""
    method, args = call.method, call.args
    # a closure written in the call configures the group: `r.Route("/x", func(r chi.Router) {`
    closures = [
        a for a, e in zip(args, call.exprs, strict=True) if isinstance(a, Fn) and e[0] == "fn"
    ]
    if method in ("Group", "Route") and args and isinstance(args[0], str | Unknown):
        fn = closures[0] if closures else None
        child = router.child(
            text_of(args[0]), fragment_of(args[0]), [] if fn is not None else call.names[1:]
        )
        if fn is not None:
            interpreter.interpret_fn(fn, child, call.depth + 1)
        return child
    if method == "Group" and closures and args[0] is closures[0]:
        child = router.child("", "", [])
        interpreter.interpret_fn(closures[0], child, call.depth + 1)
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
        mount(router, args[-1], args[0], strip_slash=False)
        return router
    if method == "PathPrefix" and args:
        return RouteDecl(
            router, [], text_of(args[0]), fragment_of(args[0]), [], None, call.file, call.line
        )
    return None


def _mux_call(interpreter: Interpreter, router: Router, call: RouterCall) -> Value | None:
    """``Handle``/``HandleFunc`` of net/http, chi and gorilla: a route, or a mounted router."""
    args = call.args
    if call.method not in ("Handle", "HandleFunc") or len(args) < 2:
        return None
    if router.framework not in ("net/http", "chi", "gorilla"):
        return None
    if isinstance(args[1], Router) and router.framework != "gorilla":
        mount(router, args[1], args[0], strip_slash=True)
        return router
    if router.framework == "net/http":
        methods, route_path = pattern(args[0])
    else:
        methods, route_path = [], text_of(args[0])
    return interpreter.add_route(
        router, methods, route_path, fragment_of(args[0]), [], call.exprs[1], call.file, call.line
    )


def _verb_call(interpreter: Interpreter, router: Router, call: RouterCall) -> Value | None:
    """GET/Get/..., Any/All, Handle/Add/Method/Handler(verb, path, ...), Echo's Match."""
    method, args, exprs, names = call.method, call.args, call.exprs, call.names
    if method == "Match" and len(args) >= 3:
        verbs = [v.upper() for v in literal_strings(exprs[0])]
        return interpreter.add_route(
            router, verbs, text_of(args[1]), fragment_of(args[1]), names[3:], exprs[2],
            call.file, call.line,
        )  # fmt: skip
    verb = {"Any": "ANY", "All": "ANY"}.get(method)
    if verb is None and method.upper() in VERBS:
        verb = method.upper()
    verb_first = ("Handle", "Add", "Method", "MethodFunc", "Handler", "HandlerFunc")
    if method in verb_first and len(args) >= 3:
        verb = (text_of(args[0]) or "ANY").upper()
        args, exprs, names = args[1:], exprs[1:], names[1:]
    if verb is None or len(args) < 2:
        return None
    if router.framework == "echo":  # echo: handler first, then route middleware
        handler, middleware = exprs[1], names[2:]
    else:
        handler, middleware = exprs[-1], names[1:-1]
    return interpreter.add_route(
        router, [verb], text_of(args[0]), fragment_of(args[0]), middleware, handler,
        call.file, call.line,
    )  # fmt: skip


def builder_call(
    decl: RouteDecl,
    method: str,
    args: list[Value],
    arg_exprs: list[Expr],
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
        decl.path, decl.fragment = text_of(args[0]), fragment_of(args[0])
    return decl


def router_type(type_text: str) -> str | None:
    """The framework of a parameter's type (``*gin.RouterGroup`` -> gin), None if not a router."""
    if "Context" in type_text or "Ctx" in type_text:
        return None
    return next((fw for marker, fw in ROUTER_TYPES.items() if marker in type_text), None)


def constructor(import_path: str, name: str) -> str | None:
    """The framework ``pkg.Name(...)`` builds a router of (``gin.New``, ``chi.NewRouter``,
    ``echo.New``; ``/vN`` import suffixes skipped), None for anything else."""
    parts = import_path.split("/")
    package = parts[-2] if len(parts) > 1 and re.fullmatch(r"v\d+", parts[-1]) else parts[-1]
    return CONSTRUCTORS.get((package, name))


def pattern(value: Value) -> tuple[list[str], str | None]:
    """Go 1.22 ServeMux patterns: ``"GET /items/{id}"`` -> (["GET"], "/items/{id}")."""
    if not isinstance(value, str):
        return [], None
    method, _, rest = value.partition(" ")
    if rest and method.upper() in VERBS:
        return [method.upper()], rest.strip()
    return [], value
