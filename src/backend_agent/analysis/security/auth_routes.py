"""Endpoints that hand out credentials: public by design, and the first target of brute force.

Recognised by route and verb (``POST /api/login``, ``POST /users/sign_in``,
``PUT /password-resets/{token}``, ``POST /auth/token/refresh``; any separator or case), or by
the handler's name when the route is a plain collection (RealWorld's ``POST /api/users``
handled by ``register``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import pairwise

from backend_agent.analysis.endpoints.model import Endpoint

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Single path segments (separators and case removed) that obtain or renew credentials.
_CREDENTIAL_SEGMENTS = frozenset(
    {
        "login", "logon", "signin", "signup", "register", "registration", "registrations",
        "authenticate", "authentication", "session", "sessions", "token", "accesstoken",
        "refresh", "refreshtoken", "tokenrefresh", "forgotpassword", "forgotpw", "forgot",
        "resetpassword", "resetpw", "passwordreset", "passwordresets", "recoverpassword",
        "passwordrecovery", "otp", "verifyotp", "magiclink",
    }
)  # fmt: skip
# Two adjacent segments that read as one: /password/reset, /token/refresh, /users/password.
_CREDENTIAL_PAIRS = frozenset(
    {
        ("password", "reset"), ("password", "forgot"), ("token", "refresh"),
        ("auth", "refresh"), ("auth", "token"), ("users", "password"), ("user", "password"),
        ("password", "recover"), ("password", "email"), ("auth", "login"), ("jwt", "refresh"),
    }
)  # fmt: skip
# Public by design but not credentials: callbacks from other services.
_CALLBACK_SEGMENTS = frozenset({"oauth", "callback", "callbacks", "webhook", "webhooks"})
# Logging out (ending a session) needs no credentials either.
_LOGOUT_SEGMENTS = frozenset({"logout", "signout", "logoff"})
_SESSION_SEGMENTS = frozenset({"session", "sessions"})
_HANDLER = re.compile(
    r"(?i)(^|[^a-z])(log_?in|sign_?in|sign_?up|register|registration|authenticate|"
    r"create_?session|obtain_?token|refresh_?token|forgot_?password|reset_?password)[a-z]*$"
)
_RESET = re.compile(r"reset|forgot|recover|password")
_PARAMETER = re.compile(r"^[{:<*]")


def segments(path: str) -> list[str]:
    """The segments of a route, lower-case, separators removed (``sign_in``, ``sign-in``,
    ``signIn`` are all ``signin``); a parameter is ``{}``."""
    path = re.sub(r"\.(json|xml|html)$", "", path)
    parts = [p for p in path.split("/") if p]
    return ["{}" if _PARAMETER.match(p) else re.sub(r"[^a-z0-9]", "", p.lower()) for p in parts]


def form_controllers(endpoints: Iterable[Endpoint]) -> frozenset[str]:
    """Rails controllers whose page is a login or sign-up form (``get "signup" =>
    "users#new"``): their ``create`` action receives it (``POST /users``)."""
    return frozenset(
        e.handler.split("#", 1)[0]
        for e in endpoints
        if e.method == "GET" and "#" in e.handler
        and any(p in _CREDENTIAL_SEGMENTS for p in segments(e.path))
    )  # fmt: skip


def obtains_credentials(endpoint: Endpoint, forms: frozenset[str] = frozenset()) -> bool:
    """Login, sign-up, token, password reset and one-time-code endpoints: a POST to them, or
    a PUT/PATCH that resets a password (``PUT /password_resets/{token}``)."""
    if endpoint.kind != "rest" or endpoint.method not in ("POST", "PUT", "PATCH"):
        return False
    if endpoint.method == "POST" and endpoint.handler in {f"{c}#create" for c in forms}:
        return True
    parts = segments(endpoint.path)
    named = [p for p in parts if p in _CREDENTIAL_SEGMENTS]
    named += ["".join(pair) for pair in pairwise(parts) if pair in _CREDENTIAL_PAIRS]
    if endpoint.method != "POST":
        return any(_RESET.search(p) for p in named)
    return bool(named) or bool(_HANDLER.search(endpoint.handler.rsplit("#", 1)[-1]))


def public_by_design(endpoint: Endpoint, forms: frozenset[str] = frozenset()) -> bool:
    """Credential endpoints, logging out, OAuth callbacks and webhooks need no prior auth."""
    if obtains_credentials(endpoint, forms):
        return True
    parts = segments(endpoint.path)
    if any(p in _CALLBACK_SEGMENTS for p in parts):
        return True
    literal = [p for p in parts if p != "{}"]
    last = literal[-1] if literal else ""
    return last in _LOGOUT_SEGMENTS or (endpoint.method == "DELETE" and last in _SESSION_SEGMENTS)
