"""What the endpoint inventory and the contract diff produce."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

EndpointKind = Literal["rest", "graphql", "grpc", "websocket"]
Auth = Literal["required", "optional", "none", "unknown"]
Compatibility = Literal["breaking", "possibly-breaking", "non-breaking"]


@dataclass(frozen=True)
class Endpoint:
    """One operation a service exposes.

    ``method`` is the HTTP verb for REST (upper case), ``QUERY|MUTATION|SUBSCRIPTION`` for
    GraphQL, ``RPC`` for gRPC (``path`` = ``/package.Service/Method``) and ``WS`` for
    WebSockets (``path`` = the route or socket.io event namespace).
    """

    kind: EndpointKind
    method: str
    path: str
    auth: Auth
    framework: str
    handler: str
    file: str
    line: int

    @property
    def key(self) -> tuple[str, str, str]:
        """Identity across revisions: the same key means the same operation."""
        return (self.kind, self.method, self.path)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Unresolved:
    """A route whose full path could not be determined; reported, never guessed."""

    file: str
    line: int
    fragment: str  # what we do know, e.g. "{?}/users/{id}"
    reason: str  # why, e.g. "prefix comes from a function argument with no literal value"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Inventory:
    """Every endpoint found in one revision of a repository."""

    endpoints: list[Endpoint] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)

    def sorted(self) -> Inventory:
        return Inventory(
            sorted(set(self.endpoints), key=lambda e: (e.kind, e.path, e.method, e.file, e.line)),
            sorted(self.unresolved, key=lambda u: (u.file, u.line)),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "endpoints": [e.as_dict() for e in self.endpoints],
            "unresolved": [u.as_dict() for u in self.unresolved],
        }


@dataclass(frozen=True)
class ContractChange:
    """One difference between two revisions' contracts, classified under a stable rule id."""

    rule: str  # e.g. "endpoint-removed", "auth-removed", "graphql.field-removed"
    compatibility: Compatibility
    message: str
    file: str
    line: int
    kind: EndpointKind | Literal["openapi"]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_PARAM_STYLES = (
    re.compile(r"<(?:[^:<>]+:)?(\w+)>"),  # Flask <int:id>, Django <slug:slug>
    re.compile(r"\{(\w+)(?::[^}]*)?\}"),  # FastAPI/Chi/mux {id} and {id:[0-9]+}
    re.compile(r"(?:(?<=/)|^):(\w+)\??"),  # Express/Rails/Gin :id
    re.compile(r"\*(\w+)"),  # Gin/Rails splat *path
)


def normalise_path(path: str) -> str:
    """Leading slash, parameters as ``{name}``, no trailing slash, no doubled slashes."""
    for style in _PARAM_STYLES:
        path = style.sub(lambda m: "{" + m.group(1) + "}", path)
    path = re.sub(r"/{2,}", "/", "/" + path.strip())
    return path.rstrip("/") or "/"
