"""File-system routes: Next.js route handlers and API routes, Nitro/h3 server routes. The path
is the file's; auth comes from the event-handler wrapper, the checks the handler calls, and
Nitro server middleware."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from tree_sitter import Node

from backend_agent.analysis.endpoints.javascript.auth import middleware_auth
from backend_agent.analysis.endpoints.javascript.express import HTTP_VERBS
from backend_agent.analysis.endpoints.javascript.facts import FileFacts, Value, describe
from backend_agent.analysis.endpoints.javascript.syntax import string_of
from backend_agent.analysis.endpoints.model import Auth, Endpoint, normalise_path
from backend_agent.analysis.parsing import node_text

if TYPE_CHECKING:
    from backend_agent.analysis.endpoints.javascript.scan import Scanner

_NEXT_APP = re.compile(r"(?:^|/)app/((?:.*/)?)route\.[cm]?[jt]sx?$")
_NEXT_PAGES = re.compile(r"(?:^|/)pages/(api/.*?)(?:/index)?\.[cm]?[jt]sx?$")
_NITRO = re.compile(r"(?:^|/)server/(api|routes)/(.*?)\.[cm]?[jt]s$")
_NITRO_MIDDLEWARE = re.compile(r"(?:^|/)server/middleware/[^/]+\.[cm]?[jt]s$")
_NEXT_MIDDLEWARE = re.compile(r"^(?:src/)?middleware\.[cm]?[jt]s$")
FILE_ROUTE = re.compile(
    r"(?:^|/)(?:app/(?:.*/)?route|pages/api/|server/(?:api|routes|middleware)/|middleware\.)"
)
_VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# h3's plain wrappers: the handler inside says what auth is.
_PLAIN_WRAPPERS = ("defineEventHandler", "eventHandler", "defineCachedEventHandler")
# Session and user getters that Next.js and Nitro handlers call and check themselves (a
# handler that then throws or answers 401 requires a user; one that does not, reads it).
_SESSION_CALL = re.compile(
    r"getServerSession|getSession|getUserSession|currentUser|getToken|^auth$|\.auth$",
    re.IGNORECASE,
)


def method_comparison(scanner: Scanner, node: Node) -> None:
    """``req.method === 'POST'`` in a pages/api handler: the methods it serves."""
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    for a, b in ((left, right), (right, left)):
        if a is None or b is None or not node_text(a).endswith(".method"):
            continue
        if b.type == "string" and string_of(b).lower() in HTTP_VERBS:
            _request_method(scanner, string_of(b))


def switch(scanner: Scanner, node: Node) -> None:
    """``switch (req.method) { case 'GET': ... }``; the cases are walked as usual."""
    value = node.child_by_field_name("value")
    body = node.child_by_field_name("body")
    if value is not None and body is not None and node_text(value).strip("()").endswith(".method"):
        for case in body.named_children:
            label = case.child_by_field_name("value")
            if label is not None and label.type == "string":
                _request_method(scanner, string_of(label))
    for child in node.named_children:
        scanner.visit(child)


def _request_method(scanner: Scanner, verb: str) -> None:
    methods = set(scanner.facts.request_methods) | {verb.upper()}
    scanner.facts.request_methods = tuple(sorted(methods))


def file_routes(facts: Mapping[str, FileFacts]) -> list[Endpoint]:
    """Next.js route handlers and API routes, Nitro/h3 server routes."""
    found: list[Endpoint] = []
    nitro = _global_middleware(facts, _NITRO_MIDDLEWARE)
    nextjs = _global_middleware(facts, _NEXT_MIDDLEWARE)
    for file, file_facts in facts.items():
        exports = file_facts.exports
        if match := _NEXT_APP.search(file):
            path = segments(match.group(1).rstrip("/"))
            for verb in _VERBS:
                if verb in exports:
                    auth = _handler_auth(file_facts, exports[verb]) or nextjs or "none"
                    found.append(Endpoint("rest", verb, path, auth, "nextjs", verb, file, 1))
        elif (match := _NEXT_PAGES.search(file)) and "default" in exports:
            path = segments(match.group(1))
            auth = _handler_auth(file_facts, exports["default"]) or nextjs or "none"
            for verb in file_facts.request_methods or ("ANY",):
                found.append(Endpoint("rest", verb, path, auth, "nextjs", "default", file, 1))
        elif (match := _NITRO.search(file)) and "default" in exports:
            name = match.group(2)
            method = "ANY"
            stem, dot, suffix = name.rpartition(".")
            if dot and suffix.upper() in _VERBS:
                name, method = stem, suffix.upper()
            if name == "index" or name.endswith("/index"):
                name = name[: -len("index")]
            path = segments(("api/" if match.group(1) == "api" else "") + name)
            auth = _handler_auth(file_facts, exports["default"]) or nitro or "none"
            found.append(Endpoint("rest", method, path, auth, "nitro", "default", file, 1))
    return found


def segments(route: str) -> str:
    """File-system route segments as a normalised path: ``[id]`` -> ``{id}``, groups dropped."""
    parts = []
    for part in route.split("/"):
        if not part or (part.startswith("(") and part.endswith(")")) or part.startswith("@"):
            continue
        name = part.strip("[]").removeprefix("...")
        parts.append("{" + name + "}" if part.startswith("[") else part)
    return normalise_path("/".join(parts))


def _handler_auth(facts: FileFacts, exported: Value) -> Auth | None:
    """What an exported handler says about auth: an auth-named wrapper
    (``defineAuthenticatedEventHandler(...)``, ``withAuth(...)``), or a check it calls
    (``requireUserSession(event)``, ``getServerSession()``); None when it says nothing."""
    levels, function = _handler(facts, exported)
    rejects = function in facts.rejecting
    for name in facts.auth_calls.get(function or "", ()):
        if _SESSION_CALL.search(name):  # a getter: required only if the handler turns away
            levels.append("required" if rejects else "optional")
        else:
            levels.append(middleware_auth(name))
    if "required" in levels:
        return "required"
    return "optional" if "optional" in levels else None


def _handler(facts: FileFacts, exported: Value) -> tuple[list[Auth | None], str | None]:
    """The levels the wrappers of an exported handler say, and the handler function's key."""
    value = exported
    levels: list[Auth | None] = []
    for _ in range(8):
        while value[0] == "ref" and value[1] in facts.bindings:
            value = facts.bindings[value[1]]
        if value[0] != "call":
            break
        wrapper = describe(value[1])
        if wrapper not in _PLAIN_WRAPPERS:
            levels.append(middleware_auth(wrapper))
        value = next((a for a in value[2] if a[0] in ("fn", "ref", "call")), ("unknown", ""))
    if value[0] == "import":
        levels.append(middleware_auth(describe(value)))  # export { default } from 'next-auth/...'
    return levels, str(value[1]) if value[0] == "fn" else None


def _global_middleware(facts: Mapping[str, FileFacts], pattern: re.Pattern[str]) -> Auth | None:
    """Server middleware (Nitro ``server/middleware/*``, Next.js ``middleware.ts``) runs
    before routes; one that checks credentials may or may not apply to a given route (its
    path checks are code), so routes that say nothing themselves are ``unknown``."""
    for file, file_facts in facts.items():
        exported = file_facts.exports.get("default") or file_facts.exports.get("middleware")
        if not pattern.search(file) or exported is None:
            continue
        _, function = _handler(file_facts, exported)
        if _handler_auth(file_facts, exported) or function in file_facts.credential_functions:
            return "unknown"
    return None
