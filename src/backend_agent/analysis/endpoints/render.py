"""Output forms of the inventory: JSON, a rich table, and a generated OpenAPI 3 document."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from backend_agent.analysis.endpoints.model import ContractChange, Inventory, Unresolved

if TYPE_CHECKING:
    from rich.table import Table


class Classified(Protocol):
    """A change classified under a rule (a ``ContractChange`` or a queue change)."""

    @property
    def rule(self) -> str: ...
    @property
    def compatibility(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def file(self) -> str: ...
    @property
    def line(self) -> int: ...


_PARAM = re.compile(r"\{(\w+)\}")


def as_json(
    inventory: Inventory,
    changes: list[ContractChange] | None = None,
    spec_comparison: dict[str, Any] | None = None,
) -> str:
    """``{"endpoints": [...], "unresolved": [...]}`` plus ``changes`` with --base and
    ``spec_comparison`` when the repository has OpenAPI documents."""
    document = inventory.as_dict()
    if changes is not None:
        document["changes"] = [c.as_dict() for c in changes]
    if spec_comparison is not None:
        document["spec_comparison"] = spec_comparison
    return json.dumps(document, indent=2)


def to_openapi(inventory: Inventory, title: str) -> dict[str, Any]:
    """An OpenAPI 3.0 document of the REST endpoints (auth as a bearer security scheme)."""
    paths: dict[str, dict[str, Any]] = {}
    any_method: list[str] = []
    for endpoint in inventory.endpoints:
        if endpoint.kind != "rest":
            continue
        if endpoint.method == "ANY":
            any_method.append(endpoint.path)
            continue
        operation: dict[str, Any] = {
            "operationId": f"{endpoint.handler}:{endpoint.method.lower()}",
            "responses": {"default": {"description": "not analysed"}},
            "x-handler": endpoint.handler,
            "x-framework": endpoint.framework,
            "x-source": f"{endpoint.file}:{endpoint.line}",
            "x-auth": endpoint.auth,
        }
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _PARAM.findall(endpoint.path)
        ]
        if parameters:
            operation["parameters"] = parameters
        if endpoint.auth == "required":
            operation["security"] = [{"bearerAuth": []}]
        elif endpoint.auth == "optional":
            operation["security"] = [{}, {"bearerAuth": []}]
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    document: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": title, "version": "generated"},
        "paths": dict(sorted(paths.items())),
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
    }
    if any_method:
        document["x-any-method-paths"] = sorted(set(any_method))
    return document


def print_table(inventory: Inventory, changes: list[ContractChange] | None = None) -> None:
    """The inventory (and changes) as rich tables on stdout."""
    from rich.console import Console
    from rich.table import Table

    # Piped output keeps one line per row (greppable) instead of wrapping at 80 columns.
    console = Console() if sys.stdout.isatty() else Console(width=100_000)
    table = Table(title=f"{len(inventory.endpoints)} endpoints", title_justify="left")
    for column in ("kind", "method", "path", "auth", "framework", "handler", "source"):
        table.add_column(column, overflow="fold")
    for e in inventory.endpoints:
        auth_style = {"required": "green", "none": "yellow", "unknown": "red"}.get(e.auth, "")
        table.add_row(
            e.kind,
            e.method,
            e.path,
            f"[{auth_style}]{e.auth}[/]" if auth_style else e.auth,
            e.framework,
            e.handler,
            f"{e.file}:{e.line}",
        )
    console.print(table)
    if inventory.unresolved:
        console.print(unresolved_table(inventory.unresolved))
    if changes is not None:
        console.print(changes_table(changes, "contract changes"))


def unresolved_table(unresolved: Sequence[Unresolved]) -> Table:
    """What could not be resolved, as a rich table (shared with the queue inventory)."""
    from rich.table import Table

    table = Table(title=f"{len(unresolved)} unresolved", title_justify="left")
    for column in ("fragment", "reason", "source"):
        table.add_column(column, overflow="fold")
    for u in unresolved:
        table.add_row(u.fragment, u.reason, f"{u.file}:{u.line}")
    return table


def changes_table(changes: Sequence[Classified], what: str) -> Table:
    """Classified changes (contract or queue changes) as a rich table, styled by
    compatibility."""
    from rich.table import Table

    table = Table(title=f"{len(changes)} {what}", title_justify="left")
    for column in ("compatibility", "rule", "message", "source"):
        table.add_column(column, overflow="fold")
    styles = {"breaking": "bold red", "possibly-breaking": "yellow", "non-breaking": "green"}
    for c in changes:
        table.add_row(
            f"[{styles[c.compatibility]}]{c.compatibility}[/]",
            c.rule,
            c.message,
            f"{c.file}:{c.line}" if c.file else "",
        )
    return table
