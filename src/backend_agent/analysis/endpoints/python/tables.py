"""Route tables: aiohttp ``add_routes([web.get(...), ...])`` and Starlette ``routes=[Route(...),
Mount(...)]`` lists, added to the router graph."""

from __future__ import annotations

from typing import TYPE_CHECKING

from backend_agent.analysis.endpoints.python.exprs import join_paths, show
from backend_agent.analysis.endpoints.python.graph import Mount, ObjId
from backend_agent.analysis.endpoints.python.scan import Expr

if TYPE_CHECKING:
    from backend_agent.analysis.endpoints.python.routers import RouterGraph

HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")


def aiohttp_routes(graph: RouterGraph, obj: ObjId, path: str, scope: str, value: Expr) -> None:
    table = graph.object_of(path, scope, value)
    if table is not None and value[0] in ("n", "a"):
        graph.mounts.append(Mount(obj, table, "", "", []))
        return
    found = graph.names.target(path, scope, value)
    if found is not None and found.kind == "bind":
        value = graph.names.value_of(found)
        path, scope = found.path, found.scope
    for item in value[1] if value[0] == "l" else []:
        if item[0] != "c":
            continue
        verb = graph.names.callee(path, scope, item)
        args = item[2]
        if verb in HTTP_VERBS and len(args) >= 2:
            graph.handler_route(
                obj, "aiohttp", path, scope, args[0], args[1], (verb.upper(),), [], item[4]
            )
        elif verb == "route" and len(args) >= 3:
            method = (graph.names.string(path, scope, args[0]) or "*").upper()
            graph.handler_route(
                obj,
                "aiohttp",
                path,
                scope,
                args[1],
                args[2],
                ("ANY",) if method == "*" else (method,),
                [],
                item[4],
            )
        elif verb == "view" and len(args) >= 2:
            graph.class_route(obj, "aiohttp", path, scope, args[1], [args[0]], item[4])


def starlette_routes(
    graph: RouterGraph,
    obj: ObjId,
    path: str,
    scope: str,
    value: Expr,
    prefix: str | None,
    fragment: str,
    depth: int,
) -> None:
    if depth > 6:
        return
    if value[0] in ("n", "a"):
        found = graph.names.target(path, scope, value)
        if found is None or found.kind != "bind":
            return
        path, scope, value = found.path, found.scope, graph.names.value_of(found)
    for item in value[1] if value[0] == "l" else []:
        if item[0] != "c":
            if item[0] in ("n", "a", "l"):
                starlette_routes(graph, obj, path, scope, item, prefix, fragment, depth + 1)
            continue
        kind = graph.names.callee(path, scope, item)
        args, kwargs = item[2], item[3]
        path_expr = args[0] if args else kwargs.get("path", ("s", ""))
        sub = join_paths(prefix, graph.names.string(path, scope, path_expr))
        if kind in ("Route", "WebSocketRoute") and (len(args) >= 2 or "endpoint" in kwargs):
            view = args[1] if len(args) >= 2 else kwargs["endpoint"]
            methods = (
                ("WS",)
                if kind == "WebSocketRoute"
                else graph.methods_of(path, scope, kwargs.get("methods"), ("GET",))
            )
            graph.handler_route(
                obj,
                "starlette",
                path,
                scope,
                ("s", sub) if sub is not None else path_expr,
                view,
                methods,
                [],
                item[4],
            )
        elif kind == "Mount":
            if "routes" in kwargs:
                starlette_routes(
                    graph,
                    obj,
                    path,
                    scope,
                    kwargs["routes"],
                    sub,
                    fragment + show(path_expr),
                    depth + 1,
                )
            elif "app" in kwargs or len(args) >= 2:
                graph.mount(
                    obj,
                    path,
                    scope,
                    kwargs.get("app") or args[1],
                    ("s", sub) if sub is not None else path_expr,
                    [],
                    False,
                )
