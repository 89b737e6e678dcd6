"""Phase two for Express, Koa and Fastify: a graph of routers, mounts and plugins across files.

Every app, router or router-receiving function parameter is a node. ``use``/``register``
calls and calls passing a router to a function are edges carrying a prefix and the
middleware that was in place. A node's full prefixes are those of all paths from an app.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from backend_agent.analysis.endpoints.javascript.facts import FileFacts, RouteCall, Value
from backend_agent.analysis.endpoints.javascript.scan import describe
from backend_agent.analysis.endpoints.javascript.values import (
    APP_KINDS,
    FRAMEWORK_OF,
    Evaluator,
    RouterNode,
    Thing,
)
from backend_agent.analysis.endpoints.model import Auth, Endpoint, Unresolved, normalise_path

_TRUE: Value = ("unknown", "true")
_FALSE: Value = ("unknown", "false")
_AUTOLOAD = ("@fastify/autoload", "fastify-autoload")
_KOA_MOUNT = ("koa-mount",)
_AUTH = re.compile(
    r"auth|jwt|passport\.authenticate|bearer|token|protect|logged|signed.?in|"
    r"require.?(?:user|login|admin|session)|ensure.?(?:user|login|logged)|role|permission|"
    r"admin|acl\b|optional.?(?:user|login)"
)
_OPTIONAL = re.compile(
    r"optional|maybe|soft|try.?auth|if.?auth|lenient|loose|anonymous|"
    r"\(\s*false\s*\)|required\s*:\s*false"  # verifyAuth(false), auth({required: false})
)
_NOT_AUTH = re.compile(r"csrf|throttl|ratelimit|rate.?limit")


def middleware_auth(text: str) -> Auth | None:
    """What one middleware or guard name says about auth, or None when it says nothing."""
    lowered = text.lower()
    if _NOT_AUTH.search(lowered) or not _AUTH.search(lowered):
        return None
    return "optional" if _OPTIONAL.search(lowered) else "required"


@dataclass(frozen=True)
class Guard:
    """One middleware's meaning for auth, with the requests an ``.unless(...)`` exempts."""

    level: Auth | None
    exempt: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (kind, pattern, methods)
    opaque: bool = False  # the exemptions include something we cannot read

    def level_for(self, method: str, path: str) -> Auth | None:
        if self.level is None or not (self.exempt or self.opaque):
            return self.level
        sample = re.sub(r"\{[^}]*\}", "p1", path)
        for kind, pattern, methods in self.exempt:
            if methods and method not in methods:
                continue
            if kind == "any" or (kind == "path" and normalise_path(pattern) in (path, sample)):
                return None
            if kind == "regex" and _regex_matches(pattern, sample):
                return None
        return "unknown" if self.opaque else self.level


def combine_auth(levels: list[Auth | None]) -> Auth:
    """A route's auth from the levels of all middleware in front of it."""
    if "required" in levels:
        return "required"
    if "unknown" in levels:  # an exemption we could not read may or may not apply
        return "unknown"
    return "optional" if "optional" in levels else "none"


@dataclass(frozen=True)
class _Edge:
    parent: RouterNode
    prefix: str | None  # None: the prefix could not be resolved
    middleware: tuple[Guard, ...]
    file: str
    order: int


@dataclass(frozen=True)
class _Use:
    """Middleware installed on a node, for routes declared after it in the same file."""

    file: str
    order: int
    prefix: str
    middleware: Guard


@dataclass(frozen=True)
class _Mounted:
    prefix: str | None
    middleware: tuple[Guard, ...]
    framework: str


class RouterGraph:
    """Routers and their mounts over all files; yields endpoints with full paths and auth."""

    def __init__(self, facts: Mapping[str, FileFacts], evaluator: Evaluator) -> None:
        self.facts = facts
        self.values = evaluator
        self.edges: dict[RouterNode, list[_Edge]] = defaultdict(list)
        self.uses: dict[RouterNode, list[_Use]] = defaultdict(list)
        self.own_prefix: dict[RouterNode, Value] = {}
        self.param_strings: dict[tuple[str, str], set[str]] = defaultdict(set)
        # (file, "fn#i") -> values passed at call sites: (file, value, each element of it)
        self.param_values: dict[tuple[str, str], list[tuple[str, Value, bool]]] = defaultdict(list)
        self._cache: dict[RouterNode, list[_Mounted]] = {}
        self.autoload_dirs: list[tuple[RouterNode, str, str, bool, int]] = []

    def build(self) -> None:
        for file, facts in self.facts.items():
            for call in facts.calls:
                self._call_site(file, call.callee, call.args, call.order)
            for value, _line in facts.constructions:  # new C(args) calls C's constructor
                self._call_site(file, ("member", value[1], "constructor"), value[2], value[3])
        for file, facts in self.facts.items():
            for use in facts.uses:
                receiver = self.values.eval(file, use.receiver)
                if receiver.kind != "node" or receiver.node is None:
                    continue
                if use.verb == "register":
                    self._register(file, receiver.node, use.args, use.order)
                elif use.verb == "prefix":
                    self.own_prefix[receiver.node] = use.args[0]
                else:
                    self._use(file, receiver.node, use.args, use.order, use.verb == "hook")
        self._autoload()

    # ---- edges ---------------------------------------------------------------------------

    def _call_site(
        self, file: str, callee_value: Value, args: tuple[Value, ...], order: int
    ) -> None:
        if callee_value[0] == "member" and callee_value[2] in ("forEach", "map") and args:
            callback = self.values.eval(file, args[0])
            if callback.kind == "fn":  # the callback's first parameter takes each element
                key = (callback.file, f"{callback.name}#0")
                self.param_values[key].append((file, callee_value[1], True))
            return
        callee = self.values.eval(file, callee_value)
        if callee.kind != "fn":
            return
        for index, arg in enumerate(args):
            self.param_values[(callee.file, f"{callee.name}#{index}")].append((file, arg, False))
            thing = self.values.eval(file, arg)
            param = RouterNode(callee.file, f"{callee.name}#{index}", "param")
            if thing.kind == "node" and thing.node is not None:
                self.edges[param].append(_Edge(thing.node, "", (), file, order))
            elif thing.kind == "str":
                self.param_strings[(callee.file, f"{callee.name}#{index}")].add(thing.name)

    def _use(
        self, file: str, node: RouterNode, args: tuple[Value, ...], order: int, hook: bool
    ) -> None:
        prefix: str | None = ""
        if args and not hook:
            first = self.values.eval(file, args[0])
            # a parameter is a prefix when more arguments follow and no router flows into it
            routed = first.node is not None and bool(self.edges.get(first.node))
            if first.kind in ("str", "arr") or (_is_param(first) and len(args) > 1 and not routed):
                prefixes = self.prefix_strings(file, args[0])
                prefix = prefixes[0] if prefixes and len(prefixes) == 1 else None
                args = args[1:]
        middleware: list[Guard] = []
        for arg in args:
            mounted = self._mountable(file, arg)
            for child, extra in mounted:
                self.edges[child].append(
                    _Edge(node, _join(prefix, extra), tuple(middleware), file, order)
                )
            if not mounted:
                level = self.auth_level(file, arg)
                middleware.append(level)
                self.uses[node].append(_Use(file, order, prefix or "", level))

    def _mountable(self, file: str, arg: Value) -> list[tuple[RouterNode, str | None]]:
        """The routers a ``use`` argument mounts (with koa-mount's prefix); none for a
        middleware. A parameter mounts the routers its call sites pass."""
        thing = self.values.eval(file, arg)
        if _is_param(thing):
            passed = [self.values.eval(f, v) for f, v in self.possible(file, arg)]
            routers = [p.node for p in passed if p.node is not None and p.kind == "node"]
            if routers and not any(_is_param(p) for p in passed):
                return [(router, "") for router in routers]
        if thing.kind == "node" and thing.node is not None:
            return [(thing.node, "")]
        if thing.kind == "external" and thing.name in _KOA_MOUNT and len(thing.value) == 2:
            inner = self.values.eval(file, thing.value[1])
            prefixes = self.prefix_strings(file, thing.value[0])
            if inner.kind == "node" and inner.node is not None:
                return [(inner.node, prefixes[0] if prefixes and len(prefixes) == 1 else None)]
        return [(router, "") for router in self._through_parameter(file, arg)]

    def _through_parameter(self, file: str, value: Value) -> list[RouterNode]:
        """``controller.router`` where ``controller`` is a parameter: the routers of the values
        its call sites pass (class-based controllers registered in a loop)."""
        if value[0] != "member":
            return []
        found = []
        for origin, base in self.possible(file, value[1]):
            thing = self.values.eval(origin, ("member", base, value[2]))
            if thing.kind == "node" and thing.node is not None:
                found.append(thing.node)
        return found

    def possible(self, file: str, value: Value, depth: int = 0) -> list[tuple[str, Value]]:
        """The values a parameter can take, following call sites (and array elements for
        ``forEach``/``map`` callbacks); any other value stands for itself."""
        thing = self.values.eval(file, value)
        if not _is_param(thing) or thing.node is None:
            return [(file, value)]
        found: list[tuple[str, Value]] = []
        for origin, passed, each in self.param_values.get((thing.node.file, thing.node.key), []):
            for where, item in self.possible(origin, passed, depth + 1) if depth < 8 else []:
                items = self.values.eval(where, item)
                if not each:
                    found.append((where, item))
                elif items.kind == "arr":
                    found += [(items.file, element) for element in items.value]
        return found

    def _register(self, file: str, node: RouterNode, args: tuple[Value, ...], order: int) -> None:
        if not args:
            return
        plugin = self.values.eval(file, args[0])
        options = self.values.eval(file, args[1]) if len(args) > 1 else Thing("obj")
        fields = dict(options.value) if options.kind == "obj" else {}
        prefix: str | None = ""
        if "prefix" in fields:
            prefixes = self.prefix_strings(options.file, fields["prefix"])
            prefix = prefixes[0] if prefixes and len(prefixes) == 1 else None
        if plugin.kind == "fn":
            child = RouterNode(plugin.file, f"{plugin.name}#0", "param")
            self.edges[child].append(_Edge(node, prefix, (), file, order))
        elif plugin.kind == "external" and plugin.name in _AUTOLOAD:
            self._autoload_options(file, node, fields, order)

    def _autoload_options(
        self, file: str, node: RouterNode, fields: dict[str, Value], order: int
    ) -> None:
        directory = _directory(fields.get("dir"), file)
        if directory is None:
            return
        prefix = ""
        options = self.values.eval(file, fields["options"]) if "options" in fields else None
        if options is not None and options.kind == "obj":
            inner = dict(options.value)
            if "prefix" in inner:
                prefixes = self.prefix_strings(options.file, inner["prefix"])
                if not prefixes or len(prefixes) != 1:
                    return
                prefix = prefixes[0]
        params = fields.get("routeParams") == ("unknown", "true")
        self.autoload_dirs.append((node, directory, prefix, params, order))

    def _autoload(self) -> None:
        """@fastify/autoload: each plugin file under the directory, prefixed by its folders."""
        for node, directory, prefix, params, order in self.autoload_dirs:
            for file in self.facts:
                if not file.startswith(directory + "/"):
                    continue
                plugin = self.values.export(file, "default", 0)
                if plugin.kind != "fn":
                    continue
                folders = posixpath.dirname(file[len(directory) + 1 :])
                if params:  # routeParams: `_id` folders are `:id` parameters
                    folders = re.sub(r"(^|/)_(\w+)", r"\1:\2", folders)
                auto_prefix = self.facts[file].exports.get("autoPrefix")
                extra = self.values.strings(file, auto_prefix) if auto_prefix else None
                path = _join(_join(prefix, folders), extra[0] if extra else "")
                child = RouterNode(plugin.file, f"{plugin.name}#0", "param")
                self.edges[child].append(_Edge(node, path, (), node.file, order))

    def auth_level(self, file: str, value: Value) -> Guard:
        """What a middleware means for auth: by its name, made optional by the options of
        token libraries that let requests without a token through, with the requests its
        ``.unless({path, method})`` (express-unless, koa-unless) exempts."""
        if value[0] == "call" and value[1][0] == "member" and value[1][2] == "unless":
            inner = self.auth_level(file, value[1][1])
            return self._unless(file, inner, value[2][0]) if value[2] else inner
        level = middleware_auth(describe(value))
        if level != "required":
            return Guard(level)
        thing = self.values.eval(file, value)
        for arg in thing.value if thing.kind == "external" else ():
            options = self.values.eval(thing.file, arg)
            fields = dict(options.value) if options.kind == "obj" else {}
            if fields.get("passthrough") == _TRUE or fields.get("credentialsRequired") == _FALSE:
                return Guard("optional")
        return Guard(level)

    def _unless(self, file: str, guard: Guard, options_value: Value) -> Guard:
        options = self.values.eval(file, options_value)
        if guard.level is None or options.kind != "obj":
            return Guard(guard.level, opaque=guard.level is not None)
        fields = dict(options.value)
        exempt: list[tuple[str, str, tuple[str, ...]]] = []
        opaque = False
        for method in self.values.strings(options.file, fields.get("method", ("arr", ()))) or []:
            exempt.append(("any", "", (method.upper(),)))
        paths = fields.get("path", ("arr", ()))
        for item in paths[1] if paths[0] == "arr" else (paths,):
            entry = self._exemption(options.file, item)
            if entry is None:
                opaque = True
            else:
                exempt.append(entry)
        return Guard(guard.level, tuple(exempt), opaque)

    def _exemption(self, file: str, item: Value) -> tuple[str, str, tuple[str, ...]] | None:
        """One ``path`` entry of ``unless``: a string, a regex or ``{url, methods}``."""
        methods: tuple[str, ...] = ()
        if item[0] == "obj":
            fields = dict(item[1])
            item = fields.get("url", ("unknown", ""))
            found = self.values.strings(file, fields.get("methods", ("arr", ())))
            if found is None:
                return None
            methods = tuple(m.upper() for m in found)
        if item[0] == "regex":
            return ("regex", str(item[1]), methods)
        strings = self.values.strings(file, item)
        return ("path", strings[0], methods) if strings and len(strings) == 1 else None

    def prefix_strings(self, file: str, value: Value) -> list[str] | None:
        """Literal prefixes a value stands for, including function parameters' call sites."""
        thing = self.values.eval(file, value)
        if _is_param(thing) and thing.node is not None:
            found = self.param_strings.get((thing.node.file, thing.node.key))
            return sorted(found) if found else None
        return self.values.strings(file, value)

    # ---- resolution ----------------------------------------------------------------------

    def mounted(
        self, node: RouterNode, seen: frozenset[RouterNode] = frozenset()
    ) -> list[_Mounted]:
        """Every full prefix of a node, with the middleware inherited along the way."""
        if node in self._cache:
            return self._cache[node]
        own = self._own_prefix(node)
        results: list[_Mounted] = []
        if node.kind in APP_KINDS:
            results.append(_Mounted(own, (), FRAMEWORK_OF[node.kind]))
        for edge in self.edges.get(node, []):
            if edge.parent in seen:
                continue
            for parent in self.mounted(edge.parent, seen | {node}):
                inherited = parent.middleware + tuple(
                    use.middleware
                    for use in self.uses.get(edge.parent, [])
                    if use.file == edge.file and use.order < edge.order and not use.prefix
                )
                framework = FRAMEWORK_OF.get(node.kind, parent.framework)
                prefix = _join(_join(parent.prefix, edge.prefix), own)
                results.append(_Mounted(prefix, inherited + edge.middleware, framework))
        if not seen:
            self._cache[node] = results
        return results

    def _own_prefix_value(self, node: RouterNode) -> Value | None:
        """A router's own prefix (koa-router ``prefix`` option or ``router.prefix()``)."""
        value = self.own_prefix.get(node)
        if value is None and node.kind == "koa-router":
            args = self.values.factory_args.get(node, ())
            options = self.values.eval(node.file, args[0]) if args else None
            if options is not None and options.kind == "obj":
                value = dict(options.value).get("prefix")
        return value

    def _own_prefix(self, node: RouterNode) -> str | None:
        value = self._own_prefix_value(node)
        if value is None:
            return ""
        prefixes = self.values.strings(node.file, value)
        return prefixes[0] if prefixes and len(prefixes) == 1 else None

    def _fragment(self, node: RouterNode, path: str) -> tuple[str, str]:
        """What is known of a route's path under an unknown prefix, and why it is unknown."""
        value = self._own_prefix_value(node)
        if value is None or self._own_prefix(node) is not None:
            return "{?}" + normalise_path(path), ""
        parts = value[1] if value[0] == "tpl" else (value,)
        known = "".join(str(part[1]) if part[0] == "str" else "{?}" for part in parts)
        reason = f"router prefix {describe(value)} is not a literal"
        return known + normalise_path(path).rstrip("/"), reason

    def endpoints(self) -> tuple[list[Endpoint], list[Unresolved]]:
        endpoints: list[Endpoint] = []
        unresolved: list[Unresolved] = []
        for file, facts in self.facts.items():
            for route in facts.routes:
                receiver = self.values.eval(file, route.receiver)
                if receiver.kind != "node" or receiver.node is None:
                    continue
                self._route(file, route, receiver.node, endpoints, unresolved)
        return endpoints, unresolved

    def _route(
        self,
        file: str,
        route: RouteCall,
        node: RouterNode,
        endpoints: list[Endpoint],
        unresolved: list[Unresolved],
    ) -> None:
        if node.kind in ("socket.io", "ws"):
            return
        paths = self.prefix_strings(file, route.path)
        mounts = self.mounted(node)
        route_like = paths is not None and all(p.startswith("/") for p in paths)
        if not mounts and node.kind == "param" and not route_like:
            return  # a parameter of a function nobody calls with a router: `m.get(k, d)`
        if paths is None:
            reason = "route path is not a literal string"
            unresolved.append(Unresolved(file, route.line, describe(route.path), reason))
            return
        if not mounts:
            for path in paths:
                fragment, why = self._fragment(node, path)
                reason = f"{describe(route.receiver)} is never mounted on an app we can see"
                unresolved.append(
                    Unresolved(file, route.line, fragment, f"{reason}; {why}" if why else reason)
                )
            return
        local = [
            use.middleware
            for use in self.uses.get(node, [])
            if use.file == file and use.order < route.order and not use.prefix
        ]
        for mount in mounts:
            for path in paths:
                if mount.prefix is None:
                    fragment, why = self._fragment(node, path)
                    reason = why or "mount prefix is not a literal"
                    unresolved.append(Unresolved(file, route.line, fragment, reason))
                    continue
                scoped = [
                    use.middleware
                    for use in self.uses.get(node, [])
                    if use.file == file
                    and use.order < route.order
                    and use.prefix
                    and path.startswith(use.prefix)
                ]
                guards = (
                    list(mount.middleware)
                    + local
                    + scoped
                    + [self.auth_level(file, m) for m in route.middleware]
                )
                full = normalise_path(_join(mount.prefix, path) or "/")
                for method in route.methods:
                    endpoints.append(
                        Endpoint(
                            "rest",
                            method,
                            full,
                            combine_auth([g.level_for(method, full) for g in guards]),
                            mount.framework,
                            route.handler,
                            file,
                            route.line,
                        )
                    )


def _regex_matches(literal: str, path: str) -> bool:
    """A JavaScript regex literal (``/^\\/api\\/.*/i``) tested on a path; False when Python
    cannot read it."""
    source, _, flags = literal[1:].rpartition("/")
    try:
        return re.search(source, path, re.IGNORECASE if "i" in flags else 0) is not None
    except re.error:
        return False


def _is_param(thing: Thing) -> bool:
    return thing.kind == "node" and thing.node is not None and thing.node.kind == "param"


def _join(prefix: str | None, path: str | None) -> str | None:
    if prefix is None or path is None:
        return None
    if not path or path == "/":
        return prefix or path
    return prefix.rstrip("/") + "/" + path.lstrip("/")


def _directory(value: Value | None, file: str) -> str | None:
    """``path.join(__dirname, 'routes')`` (or a plain string) as a repository path."""
    if value is None:
        return None
    parts: list[str] = []
    if value[0] == "call":
        for arg in value[2]:
            if arg == ("ref", "__dirname") or "import.meta" in describe(arg):
                parts.append(posixpath.dirname(file))
            elif arg[0] == "str":
                parts.append(arg[1])
            else:
                return None
    elif value[0] == "str":
        parts = [posixpath.dirname(file), value[1]]
    else:
        return None
    joined = posixpath.normpath(posixpath.join(*parts)) if parts else None
    return None if joined is None or joined.startswith("..") else joined.lstrip("./") or None
