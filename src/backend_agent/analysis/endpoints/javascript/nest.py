"""NestJS: controllers and route decorators, the global prefix, guards and auth middleware."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass

from backend_agent.analysis.endpoints.javascript.auth import LOGIN, middleware_auth
from backend_agent.analysis.endpoints.javascript.facts import (
    FileFacts,
    NestController,
    NestMiddleware,
    NestRoute,
    Value,
    describe,
)
from backend_agent.analysis.endpoints.javascript.values import Evaluator
from backend_agent.analysis.endpoints.model import Auth, Endpoint, Unresolved, normalise_path

# Decorators that exempt a route from a global or class-level guard.
_PUBLIC = re.compile(r"@(?:Public|IsPublic|SkipAuth|NoAuth|AllowAnonymous|Anonymous)\b")
_GUARDS = re.compile(r"@Use(?:Guards|Interceptors)\((.*)\)", re.DOTALL)


def nest_endpoints(
    facts: Mapping[str, FileFacts], values: Evaluator
) -> tuple[list[Endpoint], list[Unresolved]]:
    endpoints: list[Endpoint] = []
    unresolved: list[Unresolved] = []
    controllers = [(f, c) for f, fa in facts.items() for c in fa.controllers]
    if not controllers:
        return endpoints, unresolved
    prefix, problem = _global_prefix(facts, values)
    versioning = _Versioning.of(facts, values)
    module_paths = _router_module_paths(facts, values)
    guards = _Guards(facts)
    middleware = [(f, m) for f, fa in facts.items() for m in fa.nest_middleware]
    for file, controller in controllers:
        if controller.graphql:
            endpoints += _resolver_fields(file, controller, guards, values)
            continue
        bases = values.strings(file, controller.prefix)
        module_path = module_paths.get(controller.name, "")
        for route in controller.routes:
            paths = values.strings(file, route.path)
            versions = versioning.segments(file, route.version or controller.version, values)
            reason = problem or versioning.problem
            if bases is None or paths is None:
                reason = "controller or route path is not a literal string"
            elif versions is None:
                reason = "API version is not a literal string"
            if reason or bases is None or paths is None or versions is None:
                unresolved.append(Unresolved(file, route.line, route.handler, reason))
                continue
            for base in bases:
                for path in paths:
                    local = normalise_path(f"{module_path}/{base}/{path}")
                    auth = _auth(controller, route, local, guards, middleware, values)
                    for version, method in ((v, m) for v in versions for m in route.methods):
                        endpoints.append(
                            Endpoint(
                                "rest",
                                method,
                                normalise_path(f"{prefix}/{version}/{local}"),
                                auth,
                                "nestjs",
                                route.handler,
                                file,
                                route.line,
                            )
                        )
    return endpoints, unresolved


def _resolver_fields(
    file: str, resolver: NestController, guards: _Guards, values: Evaluator
) -> list[Endpoint]:
    """A code-first GraphQL resolver's operations, with its guards' auth."""
    found = []
    for field in resolver.routes:
        names = values.strings(file, field.path) or [field.handler.rsplit(".", 1)[-1]]
        auth = _auth(resolver, field, "", guards, [], values)
        for name in names:
            found.append(
                Endpoint(
                    "graphql",
                    field.methods[0],
                    name,
                    auth,
                    "nestjs",
                    field.handler,
                    file,
                    field.line,
                )
            )
    return found


@dataclass(frozen=True)
class _Versioning:
    """``app.enableVersioning({type: VersioningType.URI, prefix, defaultVersion})``."""

    uri: bool = False
    prefix: str = "v"
    default: Value | None = None
    problem: str = ""

    @classmethod
    def of(cls, facts: Mapping[str, FileFacts], values: Evaluator) -> _Versioning:
        for file, file_facts in facts.items():
            for options in file_facts.versioning:
                thing = values.eval(file, options)
                fields = dict(thing.value) if thing.kind == "obj" else {}
                kind = fields.get("type")
                if kind is None or kind[0] != "member":
                    return cls(problem="versioning type is not a literal")
                if kind[2] != "URI":
                    return cls()
                prefix = fields.get("prefix", ("str", "v"))
                strings = values.strings(thing.file, prefix)
                return cls(True, strings[0] if strings else "", fields.get("defaultVersion"))
        return cls()

    def segments(self, file: str, version: Value | None, values: Evaluator) -> list[str] | None:
        """Path segments for a route's version(s): "" without URI versioning or a version."""
        chosen = version if version is not None else self.default
        if not self.uri or chosen is None:
            return [""]
        found = []
        for item in chosen[1] if chosen[0] == "arr" else (chosen,):
            if describe(item) == "VERSION_NEUTRAL":  # served with and without a version
                found.append("")
                continue
            strings = values.strings(file, item)
            if strings is None:
                return None
            found += [f"{self.prefix}{s}" for s in strings]
        return found


def _router_module_paths(facts: Mapping[str, FileFacts], values: Evaluator) -> dict[str, str]:
    """Controller class -> path from ``RouterModule.register([{path, module, children}])``."""
    module_paths: dict[str, str] = {}

    def walk(file: str, routes: Value, base: str) -> None:
        thing = values.eval(file, routes)
        for item in thing.value if thing.kind == "arr" else ():
            entry = values.eval(thing.file, item)
            fields = dict(entry.value) if entry.kind == "obj" else {}
            paths = values.strings(entry.file, fields.get("path", ("str", "")))
            path = normalise_path(f"{base}/{paths[0]}") if paths else base
            module = values.eval(entry.file, fields["module"]) if "module" in fields else None
            if module is not None and module.kind == "class":
                module_paths[module.name] = path
            if "children" in fields:
                walk(entry.file, fields["children"], path)

    for file, file_facts in facts.items():
        for routes in file_facts.router_modules:
            walk(file, routes, "")
    controller_paths: dict[str, str] = {}
    for file, file_facts in facts.items():
        for module, controllers in file_facts.nest_modules:
            if module not in module_paths:
                continue
            listed = values.eval(file, controllers)
            for item in listed.value if listed.kind == "arr" else ():
                controller = values.eval(listed.file, item)
                if controller.kind == "class":
                    controller_paths[controller.name] = module_paths[module]
    return controller_paths


def _global_prefix(facts: Mapping[str, FileFacts], values: Evaluator) -> tuple[str, str]:
    """``app.setGlobalPrefix(...)``: the prefix, or a reason why it cannot be known."""
    found: set[str] = set()
    for file, file_facts in facts.items():
        for value, _line in file_facts.global_prefixes:
            strings = values.strings(file, value)
            if strings is None or len(strings) != 1:
                return "", "setGlobalPrefix argument is not a literal string"
            found.add(strings[0])
    if len(found) > 1:
        return "", f"several global prefixes: {', '.join(sorted(found))}"
    return (found.pop() if found else ""), ""


def _auth(
    controller: NestController,
    route: NestRoute,
    local_path: str,
    guards: _Guards,
    middleware: list[tuple[str, NestMiddleware]],
    values: Evaluator,
) -> Auth:
    decorators = guards.inherited(controller) + route.decorators
    if any(_PUBLIC.search(d) for d in route.decorators):
        return "none"
    levels = {guards.level(g) for d in decorators for g in _guard_names(d)}
    if not any(_PUBLIC.search(d) for d in controller.decorators):
        levels |= {guards.level(g) for g in guards.global_guards}
    for file, applied in middleware:
        if _applies(applied, controller, route, local_path, file, values):
            levels |= {guards.middleware_level(m) for m in applied.middleware}
    if "required" in levels:
        return "required"
    return "optional" if "optional" in levels else "none"


class _Guards:
    """Guard classes of the repository: what ``@UseGuards(X)`` means once X is read."""

    def __init__(self, facts: Mapping[str, FileFacts]) -> None:
        self.classes = {
            name: (f, info) for f, fa in facts.items() for name, info in fa.classes.items()
        }
        self.facts = facts
        self.global_guards = [g for fa in facts.values() for g in fa.global_guards]

    def level(self, guard: str) -> Auth | None:
        """``AuthGuard('jwt')`` and guards named for auth are required; Passport's ``local``
        strategy is the login itself (none); a guard overriding ``handleRequest`` without
        throwing lets anonymous requests through (optional)."""
        name = guard.split("(", 1)[0].strip()
        found = self.classes.get(name)
        base = describe(found[1].base) if found and found[1].base else ""
        if LOGIN.search(guard) or LOGIN.search(base):
            return None
        level = middleware_auth(guard) or middleware_auth(base)
        overrides = found is not None and "handleRequest" in found[1].methods
        if level == "required" and found is not None and overrides:
            lenient = f"{name}.handleRequest" not in self.facts[found[0]].rejecting
            return "optional" if lenient else level
        return level

    def middleware_level(self, name: str) -> Auth | None:
        """A middleware class named for auth whose ``use`` never turns a request away only
        reads a token when one is sent (optional)."""
        level = middleware_auth(name)
        found = self.classes.get(name)
        if level != "required" or found is None or "use" not in found[1].methods:
            return level
        facts = self.facts[found[0]]
        use = f"{name}.use"
        lenient = use in facts.credential_functions and use not in facts.rejecting
        return "optional" if lenient else level

    def inherited(self, controller: NestController) -> tuple[str, ...]:
        """A controller's decorators with those of the base classes it extends."""
        decorators = controller.decorators
        found = self.classes.get(controller.name)
        seen = {controller.name}
        while found is not None and found[1].base is not None:
            base = describe(found[1].base)
            if base in seen:
                break
            seen.add(base)
            found = self.classes.get(base)
            if found is not None:
                decorators = found[1].decorators + decorators
        return decorators


def _guard_names(decorator: str) -> list[str]:
    """``@UseGuards(JwtGuard, RolesGuard)`` -> the guards; interceptors that guard count too."""
    match = _GUARDS.search(decorator)
    if match is None:
        return []
    names, depth, current = [], 0, ""
    for char in match.group(1):
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            names.append(current.strip())
            current = ""
        else:
            current += char
    return [n for n in [*names, current.strip()] if n]


def _applies(
    applied: NestMiddleware,
    controller: NestController,
    route: NestRoute,
    local_path: str,
    file: str,
    values: Evaluator,
) -> bool:
    def matches(target: Value) -> bool:
        thing = values.eval(file, target)
        if thing.kind == "class":
            return thing.name == controller.name
        if thing.kind == "str":
            return _path_matches(thing.name, local_path)
        if thing.kind == "obj":
            fields = dict(thing.value)
            path = values.strings(thing.file, fields.get("path", ("str", "*")))
            method = fields.get("method")
            verb = str(method[2]) if method is not None and method[0] == "member" else "ALL"
            method_ok = verb == "ALL" or verb in route.methods
            return (
                method_ok and bool(path) and any(_path_matches(p, local_path) for p in path or [])
            )
        return False

    return any(matches(t) for t in applied.routes) and not any(matches(t) for t in applied.excluded)


def _path_matches(pattern: str, path: str) -> bool:
    pattern = normalise_path(pattern.replace("(.*)", "*"))
    return pattern in ("/*", "*") or fnmatch.fnmatchcase(path, pattern) or pattern == path
