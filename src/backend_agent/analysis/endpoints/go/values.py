"""The values the Go interpreter works with: routers and groups, routes, functions, struct
values, strings and unknowns, and how they render."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend_agent.analysis.endpoints.go.scan import Expr
from backend_agent.analysis.endpoints.model import Endpoint

MAX_DEPTH = 10
# Frameworks whose groups join their prefix and a relative path with a slash (gin's
# joinPaths, fiber's getGroupPath): ``Group("api").Group("users")`` is ``/api/users``.
SLASH_JOINED = ("gin", "fiber")


@dataclass(eq=False)
class Router:
    """A router or group; its full prefix is its parent's plus ``segment`` (None: unknown)."""

    framework: str
    segment: str | None = ""
    fragment: str = ""
    middleware: list[str] = field(default_factory=list)
    parent: Router | None = None
    everywhere: list[str] = field(default_factory=list)  # echo's e.Use: every route, any order
    aliases: list[str] = field(default_factory=list)  # prefixes it is also mounted at on itself

    def child(self, segment: str | None, fragment: str, middleware: list[str]) -> Router:
        return Router(self.framework, segment, fragment, [*self.middleware, *middleware], self)

    def prefix(self, seen: int = 0) -> tuple[str | None, str, list[str]]:
        """(full prefix, what is known of it, middleware inherited through mounts)."""
        if self.parent is None or seen > MAX_DEPTH:
            return self.segment, self.fragment, []
        prefix, fragment, inherited = self.parent.prefix(seen + 1)
        return self.join(prefix, self.segment), fragment + self.fragment, inherited

    def join(self, prefix: str | None, path: str | None) -> str | None:
        """A path under a prefix, as the framework joins them."""
        if prefix is None or path is None:
            return None
        if self.framework in SLASH_JOINED and path and not path.startswith("/"):
            return prefix.rstrip("/") + "/" + path
        return prefix + path


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


@dataclass(eq=False)
class Struct:
    """A composite literal (``&Server{router: r}``): its type and evaluated fields."""

    type: str
    fields: dict[str, Value]


Value = Router | RouteDecl | Unknown | Fn | Struct | str


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


def root(router: Router) -> Router:
    seen = 0
    while router.parent is not None and seen < MAX_DEPTH:
        router, seen = router.parent, seen + 1
    return router


def mount(parent: Router, child: Router, pattern: Value, strip_slash: bool) -> None:
    """``child`` now lives under ``parent`` at ``pattern`` and inherits its middleware."""
    if child is parent:  # chi's r.Mount("/api", r): every route is also served under /api
        segment = text_of(pattern)
        if segment:
            parent.aliases.append(segment.rstrip("/"))
        return
    segment = text_of(pattern)
    if segment is not None and strip_slash:
        segment = segment.rstrip("/")
    child.parent, child.segment, child.fragment = parent, segment, fragment_of(pattern)
    child.middleware[:0] = parent.middleware


def text_of(value: Value) -> str | None:
    return value if isinstance(value, str) else None


def fragment_of(value: Value) -> str:
    return value if isinstance(value, str) else "{?}"


def literal_strings(value: Expr) -> list[str]:
    if value[0] == "lit":
        return [str(item[1]) for item in value[3] if item[0] == "s"]
    return []


def render(value: Expr) -> str:
    tag = value[0]
    if tag == "s":
        return f'"{value[1]}"'
    if tag == "id":
        return str(value[1])
    if tag == "sel":
        return f"{render(value[1])}.{value[2]}"
    if tag == "call":
        return f"{render(value[1])}({', '.join(render(a) for a in value[2])})"
    if tag == "b":
        return "true" if value[1] else "false"
    if tag == "lit":
        fields = ", ".join(f"{key}: {render(item)}" for key, item in value[2].items())
        return f"{value[1]}{{{fields}}}"
    if tag == "fn":
        return f"<closure:{value[3]}>"
    return str(value[1]) if len(value) > 1 else "?"


def dedupe(endpoints: list[Endpoint]) -> list[Endpoint]:
    seen: dict[tuple[str, str, str, str, int], Endpoint] = {}
    for endpoint in endpoints:
        seen.setdefault(
            (endpoint.method, endpoint.path, endpoint.kind, endpoint.file, endpoint.line), endpoint
        )
    return list(seen.values())


def directory(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def walk_calls(
    body: list[Expr], imports: dict[str, str], where: str, calls: set[tuple[str, str, str]]
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
                    calls.add(("dir", where, func[1]))
                elif func[0] == "sel" and func[1][0] == "id" and func[1][1] in imports:
                    calls.add(("pkg", imports[func[1][1]], func[2]))
                elif func[0] == "sel":
                    calls.add(("method", "", func[2]))
            stack.extend(item)
        elif isinstance(item, list | dict):
            stack.extend(item.values() if isinstance(item, dict) else item)
