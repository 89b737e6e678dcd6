"""Endpoints that hand out credentials: public by design, and the first target of brute force.

Recognised by route and verb (``POST /api/login``, ``POST /users/sign_in``,
``PUT /password-resets/{token}``, ``POST /auth/token/refresh``; any separator or case), or by
the handler's name when the route is a plain collection (RealWorld's ``POST /api/users``
handled by ``register``).
"""

from __future__ import annotations

import re
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
_LOGOUT_SEGMENTS = frozenset({"logout", "signout", "logoff", "session", "sessions"})
_HANDLER = re.compile(
    r"(?i)(^|[^a-z])(log_?in|sign_?in|sign_?up|register|registration|authenticate|"
    r"create_?session|obtain_?token|refresh_?token|forgot_?password|reset_?password)[a-z]*$"
)
_PARAMETER = re.compile(r"^[{:<*]")


def segments(path: str) -> list[str]:
    """The literal segments of a route, lower-case, separators removed (``sign_in``,
    ``sign-in``, ``signIn`` are all ``signin``); parameters are left out."""
    parts = [p for p in re.split(r"[/.]", path) if p and not _PARAMETER.match(p)]
    return [re.sub(r"[^a-z0-9]", "", p.lower()) for p in parts]


def obtains_credentials(endpoint: Endpoint) -> bool:
    """Login, sign-up, token, password reset and one-time-code endpoints (state-changing)."""
    if endpoint.kind != "rest" or endpoint.method not in ("POST", "PUT", "PATCH"):
        return False
    parts = segments(endpoint.path)
    if any(p in _CREDENTIAL_SEGMENTS for p in parts):
        return True
    if any(pair in _CREDENTIAL_PAIRS for pair in pairwise(parts)):
        return True
    return bool(_HANDLER.search(endpoint.handler.rsplit("#", 1)[-1]))


def public_by_design(endpoint: Endpoint) -> bool:
    """Credential endpoints, logging out, OAuth callbacks and webhooks need no prior auth."""
    if obtains_credentials(endpoint):
        return True
    parts = segments(endpoint.path)
    if any(p in _CALLBACK_SEGMENTS for p in parts):
        return True
    return endpoint.method == "DELETE" and bool(parts) and parts[-1] in _LOGOUT_SEGMENTS
