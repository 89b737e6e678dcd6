"""What Go middleware in front of a route means for auth: names, arguments that make it
optional, and skip functions (echo ``Skipper``, fiber ``Filter``/``Next``) run per route."""

from __future__ import annotations

import re

from backend_agent.analysis.endpoints.go.scan import Expr
from backend_agent.analysis.endpoints.go.values import Fn, render
from backend_agent.analysis.endpoints.model import Auth

# Config fields that make an auth middleware conditional (echo Skipper, fiber Filter/Next).
SKIP_FIELDS = ("Skipper", "Filter", "Next")
AUTH_NAME = re.compile(
    r"auth|jwt|token|login|session|bearer|apikey|api_key|protect|guard|"
    r"require_?\w*(?:user|login|admin|role)|current_?user|verify|admin|role|permission",
    re.IGNORECASE,
)
# Names that say the middleware keeps authenticated users out or lets anyone in.
NOT_AUTH = re.compile(r"not_?auth|guest|anonymous|unauth|public", re.IGNORECASE)
_OPTIONAL_NAME = re.compile(r"(?:^|\.)(?:opt|maybe|soft)_?[A-Z]|(?:^|\.)(?:opt|maybe|soft)_")
# A boolean argument, named by its parameter (``JWTAuth(secret, optional=true)``), that makes
# the middleware let requests without credentials through.
_LENIENT = re.compile(
    r"(?:optional|allow\w*|anonymous|skip\w*|lenient|soft)\w*=true|"
    r"(?:required|auto_?401|must\w*|strict|enforce\w*|abort\w*)\w*=false|\(false\)$",
    re.IGNORECASE,
)


# Marks a middleware whose code we read and that never turns a request away.
PASSES_ALL = " [never rejects a request]"
# Calls and values by which middleware turns a request away.
_REJECTS = re.compile(
    r"Abort|\.Error$|http\.Error|WriteHeader|SendStatus|NewHTTPError|Unauthorized|Forbidden"
)
_REJECT_ARGS = re.compile(r"StatusUnauthorized|StatusForbidden|\b40[13]\b")


def rejects(function: Fn) -> bool:
    """Whether a middleware function can turn a request away: it aborts, writes a 401/403,
    or (echo, fiber) returns an error instead of calling the next handler."""
    stack: list[object] = list(function.body)
    while stack:
        item = stack.pop()
        if not isinstance(item, tuple) or not item:
            if isinstance(item, list | dict):
                stack.extend(item.values() if isinstance(item, dict) else item)
            continue
        if item[0] == "call":
            name = render(item[1])
            if _REJECTS.search(name) or any(_REJECT_ARGS.search(render(a)) for a in item[2]):
                return True
        if item[0] == "ret" and item[1] and _returns_error(item[1][0]):
            return True
        stack.extend(item[1:])
    return False


def _returns_error(value: Expr) -> bool:
    if value[0] == "id":
        return str(value[1]) not in ("nil", "true", "false")
    if value[0] == "call":  # `return next(c)` / `return c.Next()` pass the request on
        name = render(value[1])
        return not (name in ("next", "h", "handler") or name.endswith((".Next", "ServeHTTP")))
    return bool(value[0] == "sel")


def auth_of(middleware: list[str], skips: dict[str, str] | None = None) -> Auth:
    """Auth from middleware names: auth-like names are ``required``; a ``false`` argument,
    a lenient named argument or an "optional" name makes them ``optional``; a skipper that
    says the middleware does not run for this route removes it, one the analysis cannot
    evaluate makes it ``unknown``."""
    skips = skips or {}
    states: list[Auth] = []
    for name in middleware:
        head = name.split("(", 1)[0]
        if not AUTH_NAME.search(head) and not AUTH_NAME.search(name.split("{", 1)[0]):
            continue
        if NOT_AUTH.search(head):
            continue
        status = skips.get(name)
        if status == "skip":
            continue
        if status == "unknown" or (status is None and any(f in name for f in SKIP_FIELDS)):
            states.append("unknown")
        elif (
            "optional" in head.lower()
            or _LENIENT.search(name)
            or _OPTIONAL_NAME.search(head)
            or name.endswith(PASSES_ALL)
        ):
            states.append("optional")
        else:
            states.append("required")
    order: tuple[Auth, ...] = ("required", "unknown", "optional")
    return next((state for state in order if state in states), "none")


def skipper(value: Expr) -> Expr | None:
    """The skip function literal of a middleware config (``Skipper``, ``Filter``, ``Next``)."""
    if value[0] != "lit":
        return None
    for field_name in SKIP_FIELDS:
        found = value[2].get(field_name)
        if found is not None and found[0] == "fn":
            return tuple(found)
    return None


def evaluate_skipper(function: Fn, method: str, path: str) -> bool | None:
    """Run a skip function for one route: ``if c.Method() == "GET" && c.Path() != "/x" {
    return true }; return false``. None when it uses anything else."""
    return _run(function.body, method, path)


def _run(body: list[Expr], method: str, path: str) -> bool | None:
    for statement in body:
        if statement[0] == "if":
            condition = _condition(statement[1], method, path)
            if condition is None:
                return None
            outcome = _run(statement[2] if condition else statement[3], method, path)
            if outcome is not None or condition:
                return outcome
        elif statement[0] == "ret":
            value = _condition(statement[1][0], method, path) if statement[1] else None
            return value if isinstance(value, bool) else None
        else:
            return None
    return None


def _condition(value: Expr, method: str, path: str) -> bool | str | None:
    """Evaluate a skipper expression: booleans, comparisons, the request method and path."""
    tag = value[0]
    if tag == "b":
        return bool(value[1])
    if tag == "s":
        return str(value[1])
    text = render(value)
    if text.endswith((".Method()", ".Request().Method", ".Request.Method")):
        return method
    if text.endswith((".Path()", ".Route().Path", ".Request().URL.Path")):
        return path
    if tag == "op":
        left, right = _condition(value[2], method, path), _condition(value[3], method, path)
        if left is None or right is None:
            return None
        if value[1] == "==":
            return left == right
        if value[1] == "!=":
            return left != right
        if value[1] == "&&":
            return bool(left) and bool(right)
        return bool(left) or bool(right)
    return None
