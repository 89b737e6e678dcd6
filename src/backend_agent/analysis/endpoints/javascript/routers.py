"""Phase two for Express, Koa and Fastify: a graph of routers, mounts and plugins across files.

Every app, router or router-receiving function parameter is a node. ``use``/``register``
calls and calls passing a router to a function are edges carrying a prefix and the
middleware that was in place. A node's full prefixes are those of all paths from an app.
Values cross one call boundary: what call sites pass to a parameter (a router, a prefix, a
plugin's options object) is what the function sees, or the parameter's default.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from backend_agent.analysis.endpoints.javascript import fastify
from backend_agent.analysis.endpoints.javascript.auth import Guard, GuardReader, combine_auth
from backend_agent.analysis.endpoints.javascript.facts import FileFacts, RouteCall, Value, describe
from backend_agent.analysis.endpoints.javascript.loaders import load_directories
from backend_agent.analysis.endpoints.javascript.values import (
    APP_KINDS,
    FRAMEWORK_OF,
    Evaluator,
    RouterNode,
    Thing,
    is_environment,
    join_paths,
)
from backend_agent.analysis.endpoints.model import Endpoint, Unresolved, normalise_path

_KOA_MOUNT = ("koa-mount",)
_MAX_STRINGS = 16  # combinations of a template's parts kept


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
        self.guards = GuardReader(evaluator)
        self.edges: dict[RouterNode, list[_Edge]] = defaultdict(list)
        self.uses: dict[RouterNode, list[_Use]] = defaultdict(list)
        self.own_prefix: dict[RouterNode, Value] = {}
        # (file, "fn#i") -> values passed at call sites: (file, value, each element of it)
        self.param_values: dict[tuple[str, str], list[tuple[str, Value, bool]]] = defaultdict(list)
        self._cache: dict[RouterNode, list[_Mounted]] = {}
        self._leaks: list[tuple[RouterNode, RouterNode, str, int]] = []

    def build(self) -> None:
        for file, facts in self.facts.items():
            for call in facts.calls:
                self._call_site(file, call.callee, call.args, call.order)
                load_directories(self, file, call)
            for value, _line in facts.constructions:  # new C(args) calls C's constructor
                self._call_site(file, ("member", value[1], "constructor"), value[2], value[3])
        for file, facts in self.facts.items():  # calls of functions passed as parameters
            for call in facts.calls:
                for origin, target in self._callees(file, call.callee):
                    self._call_site(file, target, call.args, call.order, origin)
        for file, facts in self.facts.items():
            for use in facts.uses:
                receiver = self.values.eval(file, use.receiver)
                if receiver.kind != "node" or receiver.node is None:
                    continue
                if use.verb == "register":
                    fastify.register_plugin(self, file, receiver.node, use.args, use.order)
                elif use.verb == "prefix":
                    self.own_prefix[receiver.node] = use.args[0]
                else:
                    self._use(file, receiver.node, use.args, use.order, use.verb == "hook")
        for child, parent, file, order in self._leaks:
            for installed in list(self.uses.get(child, [])):
                self.uses[parent].append(_Use(file, order, installed.prefix, installed.middleware))

    # ---- values across calls -------------------------------------------------------------

    def pass_value(
        self, target: str, key: str, origin: str, value: Value, each: bool = False
    ) -> None:
        """A call site in ``origin`` passes ``value`` to parameter ``key`` ("fn#i") of
        ``target``; with ``each``, the parameter takes each element of it."""
        self.param_values[(target, key)].append((origin, value, each))

    def _call_site(
        self,
        file: str,
        callee_value: Value,
        args: tuple[Value, ...],
        order: int,
        callee_file: str | None = None,
    ) -> None:
        if callee_value[0] == "member" and callee_value[2] in ("forEach", "map") and args:
            callback = self.values.eval(file, args[0])
            if callback.kind == "fn":  # the callback's first parameter takes each element
                self.pass_value(callback.file, f"{callback.name}#0", file, callee_value[1], True)
            return
        callee = self.values.eval(callee_file or file, callee_value)
        if callee.kind != "fn":
            return
        for index, arg in enumerate(args):
            self.pass_value(callee.file, f"{callee.name}#{index}", file, arg)
            thing = self.values.eval(file, arg)
            param = RouterNode(callee.file, f"{callee.name}#{index}", "param")
            if thing.kind == "node" and thing.node is not None:
                self.edges[param].append(_Edge(thing.node, "", (), file, order))
        defaults = self.facts[callee.file].param_defaults if callee.file in self.facts else {}
        for key, default in defaults.items():
            function, _, position = key.rpartition("#")
            if function == callee.name and int(position) >= len(args):  # not passed: default
                self.pass_value(callee.file, key, callee.file, default)

    def _callees(self, file: str, callee: Value) -> list[tuple[str, Value]]:
        """``fn(app)`` where ``fn`` is a parameter: the functions its call sites pass."""
        thing = self.values.eval(file, callee)
        if not _is_param(thing):
            return []
        return [(origin, value) for origin, value in self.possible(file, callee)]

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

    def strings(self, file: str, value: Value, depth: int = 0) -> list[str] | None:
        """The literal strings a value stands for, following parameters to what their call
        sites pass (``options.prefix + 'articles'``); None when any part is not literal."""
        direct = self.values.strings(file, value)
        if direct is not None or depth > 8 or file not in self.facts:
            return direct
        kind = value[0]
        if kind == "ref" and value[1] in self.facts[file].bindings:
            return self.strings(file, self.facts[file].bindings[value[1]], depth + 1)
        if kind == "tpl":
            combinations = [""]
            for part in value[1]:
                found = self.strings(file, part, depth + 1)
                if found is None:
                    return None
                combinations = [a + b for a in combinations for b in found][:_MAX_STRINGS]
            return combinations
        if kind == "default":
            left = self.strings(file, value[1], depth + 1)
            return left if left and all(left) else self.strings(file, value[2], depth + 1)
        target = value[1] if kind == "member" else value
        thing = self.values.eval(file, target)
        if not _is_param(thing):
            return None
        found_all: list[str] = []
        passed = self.possible(file, target)
        for origin, item in passed:
            inner = ("member", item, value[2]) if kind == "member" else item
            found = self.strings(origin, inner, depth + 1)
            if found is None:
                return None
            found_all += found
        return sorted(set(found_all)) or None

    def blocker(self, file: str, value: Value, depth: int = 0) -> Value:
        """The part of a value that keeps it from being literal, followed through bindings,
        template parts and what callers pass (``env.API_PREFIX`` behind ``options.prefix``)."""
        if depth > 8 or file not in self.facts or self.strings(file, value) is not None:
            return value
        kind = value[0]
        if kind == "ref" and value[1] in self.facts[file].bindings:
            return self.blocker(file, self.facts[file].bindings[value[1]], depth + 1)
        if kind in ("tpl", "default"):
            parts = value[1] if kind == "tpl" else value[1:]
            stuck = [p for p in parts if self.strings(file, p) is None]
            return self.blocker(file, stuck[-1], depth + 1) if stuck else value
        target = value[1] if kind == "member" else value
        base = self.values.eval(file, target)
        if kind == "member" and base.kind == "obj" and value[2] in dict(base.value):
            return self.blocker(base.file, dict(base.value)[value[2]], depth + 1)
        if _is_param(base):
            for origin, item in self.possible(file, target):
                inner = ("member", item, value[2]) if kind == "member" else item
                if self.strings(origin, inner) is None:
                    return self.blocker(origin, inner, depth + 1)
        return value

    # ---- edges ---------------------------------------------------------------------------

    def mount(
        self,
        child: RouterNode,
        parent: RouterNode,
        prefix: str | None,
        middleware: tuple[Guard, ...],
        file: str,
        order: int,
    ) -> None:
        self.edges[child].append(_Edge(parent, prefix, middleware, file, order))

    def unencapsulated(self, child: RouterNode, parent: RouterNode, file: str, order: int) -> None:
        """A plugin that shares its parent's instance: same routes, and its hooks act on the
        parent from the registration on."""
        self.mount(child, parent, "", (), file, order)
        self._leaks.append((child, parent, file, order))

    def _use(
        self, file: str, node: RouterNode, args: tuple[Value, ...], order: int, hook: bool
    ) -> None:
        prefixes: list[str | None] = [""]
        if args and not hook:
            first = self.values.eval(file, args[0])
            # a parameter is a prefix when more arguments follow and no router flows into it
            routed = first.node is not None and bool(self.edges.get(first.node))
            if first.kind in ("str", "arr") or (_is_param(first) and len(args) > 1 and not routed):
                found = self.strings(file, args[0])  # several when callers pass several
                prefixes = list(found) if found else [None]
                args = args[1:]
        for prefix in prefixes:
            middleware: list[Guard] = []
            for arg in args:
                mounted = self._mountable(file, arg)
                for child, extra in mounted:
                    where = join_paths(prefix, extra)
                    self.mount(child, node, where, tuple(middleware), file, order)
                if not mounted:
                    level = self.guards.guard(file, arg)
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
            prefixes = self.strings(file, thing.value[0])
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
                prefix = join_paths(join_paths(parent.prefix, edge.prefix), own)
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
        prefixes = self.strings(node.file, value)
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
        paths = self.strings(file, route.path)
        mounts = self.mounted(node)
        route_like = paths is not None and all(p.startswith("/") for p in paths)
        if not mounts and node.kind == "param" and not route_like:
            return  # a parameter of a function nobody calls with a router: `m.get(k, d)`
        if paths is None:
            stuck = self.blocker(file, route.path)
            reason = "route path is not a literal string"
            if stuck != route.path:
                reason += f": it depends on {describe(stuck)}, which is not a literal"
            if is_environment(stuck):
                reason += " (an environment variable the code gives no default)"
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
        uses = [u for u in self.uses.get(node, []) if u.file == file and u.order < route.order]
        local = [use.middleware for use in uses if not use.prefix]
        config = self.guards.config(file, route.config)
        for mount in mounts:
            for path in paths:
                if mount.prefix is None:
                    fragment, why = self._fragment(node, path)
                    reason = why or "mount prefix is not a literal"
                    unresolved.append(Unresolved(file, route.line, fragment, reason))
                    continue
                scoped = [u.middleware for u in uses if u.prefix and path.startswith(u.prefix)]
                guards = (
                    list(mount.middleware)
                    + local
                    + scoped
                    + [self.guards.guard(file, m) for m in route.middleware]
                )
                full = normalise_path(join_paths(mount.prefix, path) or "/")
                for method in route.methods:
                    auth = combine_auth([g.level_for(method, full, config) for g in guards])
                    endpoints.append(
                        Endpoint(
                            "rest",
                            method,
                            full,
                            auth,
                            mount.framework,
                            route.handler,
                            file,
                            route.line,
                        )
                    )


def _is_param(thing: Thing) -> bool:
    return thing.kind == "node" and thing.node is not None and thing.node.kind == "param"
