"""What one JavaScript/TypeScript file declares, as symbolic values that resolve across files.

A value is a small tuple tree (picklable, so scans can be cached):

- ``("str", text)``: a literal string; ``("tpl", parts)``: a concatenation of values;
- ``("ref", key)``: a binding of this file (``name``, ``function/name``, ``Class.field``);
- ``("import", specifier, name)``: an imported name (``default`` or ``*`` for whole modules);
- ``("member", value, prop)``, ``("call", value, args, offset)``, ``("new", value, args,
  offset)``: the offset identifies the call site (two ``Router()`` calls are two routers);
- ``("fn", key)`` and ``("class", name)``: a function or class defined in this file;
- ``("param", fn_key, index)``: a function parameter;
- ``("obj", ((key, value), ...))``, ``("arr", (value, ...))``;
- ``("regex", source_text)``: a regular expression literal (a route pattern);
- ``("default", value, fallback)``: ``value || fallback`` or ``value ?? fallback`` (an
  environment variable with a default);
- ``("unknown", source_text)``: anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Value = tuple[Any, ...]
UNKNOWN: Value = ("unknown", "")


@dataclass(frozen=True)
class RouteCall:
    """``receiver.verb(path, ...middleware, handler)`` or an equivalent route declaration."""

    receiver: Value
    methods: tuple[str, ...]
    path: Value
    middleware: tuple[Value, ...]
    handler: str
    line: int
    order: int
    config: Value | None = None  # fastify's route ``config`` option (read by hooks)


@dataclass(frozen=True)
class UseCall:
    """``receiver.use([prefix,] ...args)``, ``receiver.register(plugin, options)`` or a hook.

    Whether an argument is a prefix, a mounted router or a middleware is only known after
    resolution, so all arguments are kept.
    """

    receiver: Value
    verb: str  # "use", "register" or "hook"
    args: tuple[Value, ...]
    line: int
    order: int


@dataclass(frozen=True)
class CallSite:
    """A call passing values to a function, so that its parameters can be resolved."""

    callee: Value
    args: tuple[Value, ...]
    line: int
    order: int


@dataclass(frozen=True)
class NestRoute:
    methods: tuple[str, ...]
    path: Value
    decorators: tuple[str, ...]  # source text of the method's decorators
    handler: str
    line: int
    version: Value | None = None  # @Version(...)


@dataclass(frozen=True)
class NestController:
    name: str
    prefix: Value
    decorators: tuple[str, ...]
    routes: tuple[NestRoute, ...]
    line: int
    version: Value | None = None  # @Controller({version})
    graphql: bool = False  # a code-first @Resolver(): routes are QUERY/MUTATION/SUBSCRIPTION


@dataclass(frozen=True)
class NestMiddleware:
    """``consumer.apply(...middleware).exclude(...).forRoutes(...)`` in a Nest module."""

    middleware: tuple[str, ...]
    routes: tuple[Value, ...]  # strings, {path, method} objects or controller class refs
    excluded: tuple[Value, ...]
    line: int


@dataclass(frozen=True)
class SocketEvent:
    """``socket.on(event, ...)`` inside ``server.on("connection", ...)``; ``server`` is kept."""

    server: Value
    event: str
    line: int


@dataclass(frozen=True)
class ClassInfo:
    """A class: its superclass (inherited guards, Passport strategies) and its methods."""

    base: Value | None
    decorators: tuple[str, ...]
    methods: tuple[str, ...]


@dataclass
class FileFacts:
    """Everything a file contributes to the JavaScript/TypeScript inventory."""

    bindings: dict[str, Value] = field(default_factory=dict)
    exports: dict[str, Value] = field(default_factory=dict)
    returns: dict[str, Value] = field(default_factory=dict)  # function key -> returned value
    routes: list[RouteCall] = field(default_factory=list)
    uses: list[UseCall] = field(default_factory=list)
    calls: list[CallSite] = field(default_factory=list)
    controllers: list[NestController] = field(default_factory=list)
    nest_middleware: list[NestMiddleware] = field(default_factory=list)
    global_prefixes: list[tuple[Value, int]] = field(default_factory=list)
    versioning: list[Value] = field(default_factory=list)  # app.enableVersioning(options)
    nest_modules: list[tuple[str, Value]] = field(default_factory=list)  # (@Module, controllers)
    router_modules: list[Value] = field(default_factory=list)  # RouterModule.register(routes)
    global_guards: list[str] = field(default_factory=list)
    sockets: list[SocketEvent] = field(default_factory=list)
    constructions: list[tuple[Value, int]] = field(default_factory=list)  # `new X(...)`
    graphql_sdl: list[tuple[str, int]] = field(default_factory=list)
    request_methods: tuple[str, ...] = ()  # methods compared with req.method (pages/api)
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    param_defaults: dict[str, Value] = field(default_factory=dict)  # "fn#i" -> default value
    # Functions whose body can turn a request away: throws, or answers 401/403.
    rejecting: set[str] = field(default_factory=set)
    # Functions whose body reads the Authorization header or verifies a token.
    credential_functions: set[str] = field(default_factory=set)
    # Function -> names it calls that may check a user (``requireUserSession``, ``auth``).
    auth_calls: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Function -> keys of the route's ``config`` it reads (fastify hooks switched per route).
    config_reads: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class TsConfig:
    """Module resolution settings of a tsconfig.json/jsconfig.json: ``baseUrl`` and ``paths``."""

    base_url: str | None
    paths: tuple[tuple[str, tuple[str, ...]], ...]  # ("@app/*", ("src/app/*",))


def describe(value: Value) -> str:
    """A short readable name for a value (middleware, handler, guard)."""
    kind = value[0]
    if kind == "ref":
        return str(value[1]).rsplit("/", 1)[-1]
    if kind == "import":
        return str(value[2]) if value[2] not in ("default", "*") else str(value[1])
    if kind == "member":
        return f"{describe(value[1])}.{value[2]}"
    if kind in ("call", "new"):
        return f"{describe(value[1])}({', '.join(describe(a) for a in value[2])})"
    if kind == "str":
        return repr(value[1])
    if kind == "tpl":
        return (
            "`" + "".join(p[1] if p[0] == "str" else f"${{{describe(p)}}}" for p in value[1]) + "`"
        )
    if kind == "fn":
        return "<anonymous>" if str(value[1]).startswith("<") else str(value[1])
    if kind in ("class", "unknown"):
        return str(value[1])
    if kind == "obj":
        return "{" + ", ".join(f"{k}: {describe(v)}" for k, v in value[1]) + "}"
    if kind == "arr":
        return "[" + ", ".join(describe(v) for v in value[1]) + "]"
    if kind == "default":
        return f"{describe(value[1])} || {describe(value[2])}"
    if kind == "param":
        return f"<parameter {value[2]} of {value[1]}>"
    return str(kind)
