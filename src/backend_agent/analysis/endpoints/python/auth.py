"""Auth of Python endpoints from names: decorators, FastAPI dependencies, DRF permissions.

The states combine as: any ``required`` wins; else any ``unknown``; else any ``optional``;
else ``none``. DRF's IsAuthenticatedOrReadOnly means ``optional`` for safe methods
(GET/HEAD/OPTIONS) and ``required`` for the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from backend_agent.analysis.endpoints.model import Auth

AUTH_NAME = re.compile(
    r"auth|login|jwt|token|current_user|current_active|require_user|requires_user|oauth|"
    r"bearer|api_?key|session_user|verify_user|superuser|admin|signed_in|logged_in",
    re.IGNORECASE,
)
# Names that mention auth but provide something else (an auth service, its settings).
NOT_A_GUARD = re.compile(
    r"service|repositor|repo$|settings|config|database|_db$|^db_|pagination|filter", re.IGNORECASE
)
OPTIONAL_NAME = re.compile(r"optional|maybe|if_present|or_none|allow_anonymous", re.IGNORECASE)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

DRF_REQUIRED = frozenset(
    {
        "IsAuthenticated", "IsAdminUser", "DjangoModelPermissions", "DjangoObjectPermissions",
        "TokenHasScope", "TokenHasReadWriteScope", "IsAuthenticatedOrTokenHasScope",
    }
)  # fmt: skip
DRF_READ_ONLY_ANONYMOUS = frozenset(
    {"IsAuthenticatedOrReadOnly", "DjangoModelPermissionsOrAnonReadOnly"}
)
DRF_NONE = frozenset({"AllowAny"})


def combine(states: Iterable[Auth]) -> Auth:
    """One state from several signals (see the module docstring for the order)."""
    found = set(states)
    order: tuple[Auth, ...] = ("required", "unknown", "optional")
    return next((state for state in order if state in found), "none")


def by_name(name: str, optional_flag: bool = False) -> Auth | None:
    """The state a decorator or dependency name implies, or None when it says nothing."""
    if not AUTH_NAME.search(name) or NOT_A_GUARD.search(name):
        return None
    return "optional" if optional_flag or OPTIONAL_NAME.search(name) else "required"


def drf_permissions(names: list[str], method: str) -> Auth:
    """The state DRF permission classes give one HTTP method (classes are AND-ed)."""
    states: list[Auth] = []
    for name in names:
        if name in DRF_REQUIRED:
            states.append("required")
        elif name in DRF_READ_ONLY_ANONYMOUS:
            states.append("optional" if method in SAFE_METHODS else "required")
        elif name not in DRF_NONE:
            states.append("unknown")
    if "required" in states:
        return "required"
    return combine(states)
