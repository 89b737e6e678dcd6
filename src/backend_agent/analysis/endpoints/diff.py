"""The contract diff: endpoints, auth, OpenAPI, GraphQL and proto changes between two
revisions, each classified under a stable rule id.

Rules (REST/WebSocket inventory): ``endpoint-added`` (non-breaking), ``endpoint-removed``,
``method-changed``, ``path-param-added`` (breaking), ``path-param-renamed``
(possibly-breaking: clients see the same URL shape), ``auth-added`` (breaking: anonymous
clients are now refused), ``auth-removed`` (non-breaking for clients, reported as a security
risk). OpenAPI rules are ``openapi.*`` (see openapi.py); GraphQL and proto rules come from the
graphql and grpc modules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import import_module

from backend_agent.analysis.endpoints.inventory import build_inventory
from backend_agent.analysis.endpoints.model import (
    Compatibility,
    ContractChange,
    Endpoint,
    Inventory,
)
from backend_agent.analysis.endpoints.openapi import is_spec_candidate, parse_spec, spec_changes
from backend_agent.analysis.project import Project

_STRICT = {"required": 2, "optional": 1, "none": 0}
SchemaDiff = Callable[[str, str, str], list[ContractChange]]


def diff_contracts(base: Project, head: Project) -> list[ContractChange]:
    """Every contract change from ``base`` to ``head`` (inventories come from the caches)."""
    return contract_changes(base, head, build_inventory(base), build_inventory(head))


def contract_changes(
    base: Project, head: Project, before: Inventory, after: Inventory
) -> list[ContractChange]:
    """Inventory changes plus schema-file changes. For a changed GraphQL SDL or proto file,
    the schema rules replace the inventory's added/removed operations of that file (they say
    the same thing, more precisely)."""
    schema = schema_file_changes(base, head)
    covered = {c.file for c in schema if c.kind in ("graphql", "grpc")}
    endpoints = diff_inventories(before, after)
    kept = [c for c in endpoints if not (c.kind in ("graphql", "grpc") and c.file in covered)]
    return kept + schema


def diff_inventories(before: Inventory, after: Inventory) -> list[ContractChange]:
    """Endpoint and auth changes between two inventories (REST, WebSocket, GraphQL, gRPC)."""
    old = {e.key: e for e in before.endpoints}
    new = {e.key: e for e in after.endpoints}
    removed = [e for k, e in old.items() if k not in new]
    added = [e for k, e in new.items() if k not in old]
    changes: list[ContractChange] = []
    matched: set[tuple[str, str, str]] = set()
    for gone in removed:
        change = _explain_removal(gone, added, matched)
        changes.append(change)
    for endpoint in added:
        if endpoint.key not in matched:
            changes.append(
                _change("endpoint-added", "non-breaking", f"new {_label(endpoint)}", endpoint)
            )
    for key, endpoint in new.items():
        previous = old.get(key)
        if previous is not None:
            changes.extend(_auth_change(previous, endpoint))
    return sorted(changes, key=lambda c: (c.file, c.line, c.rule, c.message))


def schema_file_changes(base: Project, head: Project) -> list[ContractChange]:
    """Changes in OpenAPI, GraphQL SDL and proto files that differ between the revisions."""
    changes: list[ContractChange] = []
    for path in _changed_files(base, head):
        old = _read(base, path)
        new = _read(head, path)
        lower = path.lower()
        if lower.endswith((".graphql", ".gql", ".graphqls")):
            changes.extend(_schema_diff("graphql", "schema_changes")(old or "", new or "", path))
        elif lower.endswith(".proto"):
            changes.extend(_schema_diff("grpc", "proto_changes")(old or "", new or "", path))
        elif is_spec_candidate(path):
            old_spec = parse_spec(path, old.encode()) if old is not None else None
            new_spec = parse_spec(path, new.encode()) if new is not None else None
            if old_spec is not None or new_spec is not None:
                changes.extend(spec_changes(old_spec, new_spec, path))
    return changes


def _explain_removal(
    gone: Endpoint, added: list[Endpoint], matched: set[tuple[str, str, str]]
) -> ContractChange:
    """A removed endpoint is a method change, a path-parameter change, or a removal."""
    same_path = [
        e for e in added if e.kind == gone.kind and e.path == gone.path and e.key not in matched
    ]
    if same_path:
        replacement = same_path[0]
        matched.add(replacement.key)
        return _change(
            "method-changed",
            "breaking",
            f"{gone.method} {gone.path} is now {replacement.method}",
            replacement,
        )
    for candidate in added:
        if (
            candidate.kind != gone.kind
            or candidate.method != gone.method
            or candidate.key in matched
        ):
            continue
        if _shape(candidate.path) == _shape(gone.path):
            matched.add(candidate.key)
            return _change(
                "path-param-renamed",
                "possibly-breaking",
                f"{gone.method} {gone.path} -> {candidate.path}",
                candidate,
            )
        if _adds_params(gone.path, candidate.path):
            matched.add(candidate.key)
            return _change(
                "path-param-added",
                "breaking",
                f"{gone.method} {gone.path} now needs {candidate.path}",
                candidate,
            )
    return _change("endpoint-removed", "breaking", f"{_label(gone)} removed", gone)


def _auth_change(before: Endpoint, after: Endpoint) -> list[ContractChange]:
    if before.auth == after.auth or "unknown" in (before.auth, after.auth):
        return []
    label = _label(after)
    if _STRICT[after.auth] > _STRICT[before.auth] and after.auth == "required":
        return [
            _change(
                "auth-added",
                "breaking",
                f"{label} now requires authentication (was {before.auth})",
                after,
            )
        ]
    if before.auth == "required":
        message = f"security risk: {label} no longer requires authentication (now {after.auth})"
        return [_change("auth-removed", "non-breaking", message, after)]
    return [
        _change(
            "auth-changed", "non-breaking", f"{label} auth {before.auth} -> {after.auth}", after
        )
    ]


def _schema_diff(module: str, function: str) -> SchemaDiff:
    found: SchemaDiff = getattr(
        import_module(f"backend_agent.analysis.endpoints.{module}"), function
    )
    return found


def _changed_files(base: Project, head: Project) -> list[str]:
    wanted = (".graphql", ".gql", ".graphqls", ".proto")
    paths = {
        p for p in base.files() + head.files() if p.lower().endswith(wanted) or is_spec_candidate(p)
    }
    before, after = set(base.files()), set(head.files())
    changed = []
    for path in sorted(paths):
        if path not in before or path not in after or base.blob(path) != head.blob(path):
            changed.append(path)
    return changed


def _read(project: Project, path: str) -> str | None:
    return project.read_text(path) if path in set(project.files()) else None


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def _adds_params(old: str, new: str) -> bool:
    """Whether ``new`` is ``old`` with extra ``{param}`` segments inserted."""
    old_parts, new_parts = old.split("/"), new.split("/")
    if len(new_parts) <= len(old_parts):
        return False
    extra = iter(new_parts)
    for part in old_parts:
        for candidate in extra:
            if candidate == part:
                break
            if not candidate.startswith("{"):
                return False
        else:
            return False
    return all(p.startswith("{") for p in extra)


def _label(endpoint: Endpoint) -> str:
    return f"{endpoint.kind} {endpoint.method} {endpoint.path}"


def _change(
    rule: str, compatibility: Compatibility, message: str, endpoint: Endpoint
) -> ContractChange:
    return ContractChange(rule, compatibility, message, endpoint.file, endpoint.line, endpoint.kind)
