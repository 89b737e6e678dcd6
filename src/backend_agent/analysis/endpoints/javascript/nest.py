"""NestJS: controllers and route decorators, the global prefix, guards and auth middleware."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping

from backend_agent.analysis.endpoints.javascript.facts import (
    FileFacts,
    NestController,
    NestMiddleware,
    NestRoute,
    Value,
)
from backend_agent.analysis.endpoints.javascript.routers import middleware_auth
from backend_agent.analysis.endpoints.javascript.values import Evaluator
from backend_agent.analysis.endpoints.model import Auth, Endpoint, Unresolved, normalise_path

# Decorators that exempt a route from a global or class-level guard.
_PUBLIC = re.compile(r"@(?:Public|IsPublic|SkipAuth|NoAuth|AllowAnonymous|Anonymous)\b")
_GUARDS = re.compile(r"@UseGuards\((.*)\)", re.DOTALL)


def nest_endpoints(
    facts: Mapping[str, FileFacts], values: Evaluator
) -> tuple[list[Endpoint], list[Unresolved]]:
    endpoints: list[Endpoint] = []
    unresolved: list[Unresolved] = []
    controllers = [(f, c) for f, fa in facts.items() for c in fa.controllers]
    if not controllers:
        return endpoints, unresolved
    prefix, problem = _global_prefix(facts, values)
    global_guards = [g for fa in facts.values() for g in fa.global_guards]
    middleware = [(f, m) for f, fa in facts.items() for m in fa.nest_middleware]
    for file, controller in controllers:
        bases = values.strings(file, controller.prefix)
        for route in controller.routes:
            paths = values.strings(file, route.path)
            if bases is None or paths is None or problem:
                reason = problem or "controller or route path is not a literal string"
                unresolved.append(Unresolved(file, route.line, route.handler, reason))
                continue
            for base in bases:
                for path in paths:
                    local = normalise_path(f"{base}/{path}")
                    auth = _auth(controller, route, local, global_guards, middleware, values)
                    for method in route.methods:
                        endpoints.append(
                            Endpoint(
                                "rest",
                                method,
                                normalise_path(f"{prefix}/{local}"),
                                auth,
                                "nestjs",
                                route.handler,
                                file,
                                route.line,
                            )
                        )
    return endpoints, unresolved


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
    global_guards: list[str],
    middleware: list[tuple[str, NestMiddleware]],
    values: Evaluator,
) -> Auth:
    decorators = controller.decorators + route.decorators
    if any(_PUBLIC.search(d) for d in route.decorators):
        return "none"
    guards = [m.group(1) for d in decorators if (m := _GUARDS.search(d))]
    levels = {middleware_auth(g) for g in guards}
    if not any(_PUBLIC.search(d) for d in controller.decorators):
        levels |= {middleware_auth(g) for g in global_guards}
    for file, applied in middleware:
        if _applies(applied, controller, route, local_path, file, values):
            levels |= {middleware_auth(m) for m in applied.middleware}
    if "required" in levels:
        return "required"
    return "optional" if "optional" in levels else "none"


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
