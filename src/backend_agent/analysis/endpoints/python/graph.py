"""The data of the Python router graph: router objects, the routes declared on them and the
mounts between them."""

from __future__ import annotations

from dataclasses import dataclass

from backend_agent.analysis.endpoints.model import Auth, EndpointKind

ObjId = tuple[str, str, str]  # (file, scope, name) of the object a router is bound to


@dataclass
class Route:
    """A route declared directly on a router object, with its own path and auth signals."""

    methods: tuple[str, ...]
    path: str | None
    fragment: str
    handler: str
    file: str
    line: int
    framework: str
    kind: EndpointKind
    auth: list[Auth]


@dataclass
class Mount:
    """``parent`` serves ``child`` under ``prefix`` (None: not a constant)."""

    parent: ObjId
    child: ObjId
    prefix: str | None
    fragment: str
    auth: list[Auth]
    replaces_prefix: bool = False
