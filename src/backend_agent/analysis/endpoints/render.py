"""Output forms of the inventory: JSON and a generated OpenAPI 3 document."""

from __future__ import annotations

import json
import re
from typing import Any

from backend_agent.analysis.endpoints.model import ContractChange, Inventory

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
