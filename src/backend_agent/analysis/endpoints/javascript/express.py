"""Express and Koa (koa-router) in one file: verb routes, ``route()`` chains, ``use`` mounts
and middleware, koa-router prefixes and named routes (phase one; ``routers`` joins them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from backend_agent.analysis.endpoints.javascript.facts import RouteCall, UseCall, Value, describe

if TYPE_CHECKING:
    from backend_agent.analysis.endpoints.javascript.scan import Scanner

HTTP_VERBS = ("get", "post", "put", "patch", "delete", "options", "head", "all", "del")
# Fastify route options whose functions run before the handler (where auth lives).
FASTIFY_HOOKS = ("onRequest", "preHandler", "preValidation", "preParsing")


def member_call(
    scanner: Scanner, callee: Value, args: tuple[Value, ...], line: int, order: int
) -> bool:
    """``receiver.verb(path, ...)``, ``receiver.use(...)``, koa-router's ``prefix``."""
    receiver, prop = callee[1], callee[2]
    if prop in HTTP_VERBS:
        route(scanner, receiver, prop, args, line, order)
    elif prop == "use":
        scanner.facts.uses.append(UseCall(receiver, "use", args, line, order))
    elif prop == "prefix" and len(args) == 1:  # koa-router's router.prefix('/x')
        scanner.facts.uses.append(UseCall(receiver, "prefix", args, line, order))
    else:
        return False
    return True


def verb_method(verb: str) -> str:
    return {"del": "DELETE", "all": "ANY"}.get(verb, verb.upper())


def route(
    scanner: Scanner, receiver: Value, verb: str, args: tuple[Value, ...], line: int, order: int
) -> None:
    """A verb call: ``(path, ...middleware, handler)``, also chained after ``route(path)``
    and with fastify's ``(path, options, handler)``."""
    chained = _chained_route(receiver)
    config: Value | None = None
    if chained is not None:  # router.route('/x').get(h).post(h)
        receiver, path = chained
        middleware, handler = args[:-1], args[-1:] if args else ()
    else:
        if len(args) < 2 or not pathlike(args[0]):
            return
        path, rest = args[0], args[1:]
        if len(rest) >= 2 and rest[0][0] == "str":  # koa-router named route
            path, rest = rest[0], rest[1:]
        if verb == "all" and path[0] == "str" and path[1].endswith("*"):
            # router.all('/admin/*', requireAdmin): middleware for what follows, not a route
            prefix: Value = ("str", path[1].rstrip("*").rstrip("/"))
            scanner.facts.uses.append(UseCall(receiver, "use", (prefix, *rest), line, order))
            return
        middleware, handler = rest[:-1], rest[-1:]
        config = next((dict(m[1]).get("config") for m in middleware if m[0] == "obj"), None)
    flat: list[Value] = []
    for item in middleware:
        flat.extend(middleware_values(item))
    scanner.facts.routes.append(
        RouteCall(
            receiver,
            (verb_method(verb),),
            path,
            tuple(flat),
            describe(handler[0]) if handler else "",
            line,
            order,
            config,
        )
    )


def _chained_route(receiver: Value) -> tuple[Value, Value] | None:
    """For ``router.route(path).get(...)`` chains: the router and the path."""
    while receiver[0] == "call" and receiver[1][0] == "member":
        prop = receiver[1][2]
        if prop == "route" and len(receiver[2]) == 1 and pathlike(receiver[2][0]):
            return receiver[1][1], receiver[2][0]
        if prop not in HTTP_VERBS:
            return None
        receiver = receiver[1][1]
    return None


def pathlike(value: Value) -> bool:
    if value[0] == "arr":
        return bool(value[1]) and all(pathlike(v) for v in value[1])
    return value[0] in ("str", "tpl", "ref", "member", "import", "regex", "default")


def middleware_values(value: Value) -> list[Value]:
    """Middleware in an argument: arrays are flattened, fastify options give their hooks."""
    if value[0] == "arr":
        return [m for item in value[1] for m in middleware_values(item)]
    if value[0] == "obj":
        fields = dict(value[1])
        return [
            m for hook in FASTIFY_HOOKS if hook in fields for m in middleware_values(fields[hook])
        ]
    return [value]
