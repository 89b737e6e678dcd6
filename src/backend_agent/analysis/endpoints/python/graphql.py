"""Code-first GraphQL in Python: graphene ObjectTypes and strawberry types named Query,
Mutation or Subscription, their fields as operations (names camel-cased, as both libraries
do by default)."""

from __future__ import annotations

from backend_agent.analysis.endpoints.model import Auth, Endpoint
from backend_agent.analysis.endpoints.python.auth import by_name
from backend_agent.analysis.endpoints.python.names import Names
from backend_agent.analysis.endpoints.python.scan import Facts

ROOTS = {"Query": "QUERY", "Mutation": "MUTATION", "Subscription": "SUBSCRIPTION"}
FIELD_DECORATORS = frozenset({"field", "mutation", "subscription"})


def graphql_endpoints(names: Names) -> list[Endpoint]:
    """Operations from every graphene/strawberry root type in the repository."""
    endpoints: list[Endpoint] = []
    for path, facts in names.facts.items():
        library = next((r for r in ("graphene", "strawberry") if r in facts["roots"]), None)
        if library is None:
            continue
        for cls_name, cls in facts["classes"].items():
            operation = next((op for root, op in ROOTS.items() if cls_name.endswith(root)), None)
            if operation is None:
                continue
            module = names.module_name(path)
            for field, line, auth in _fields(names, path, cls, library):
                endpoints.append(
                    Endpoint(
                        "graphql",
                        operation,
                        _camel(field),
                        auth,
                        library,
                        f"{module}.{cls_name}.{field}",
                        path,
                        line,
                    )
                )
    return endpoints


def _fields(names: Names, path: str, cls: Facts, library: str) -> list[tuple[str, int, Auth]]:
    found: list[tuple[str, int, Auth]] = []
    for attr, (value, line) in cls["attrs"].items():
        if attr.startswith("_") or attr == "Meta":
            continue
        if library == "strawberry" or value[0] == "c":
            found.append((attr, line, "unknown"))
    for method_name, method in cls["methods"].items():
        decorators = method["decorators"]
        is_field = any(
            (d[1] if d[0] == "c" else d)[0] == "a"
            and (d[1] if d[0] == "c" else d)[2] in FIELD_DECORATORS
            for d in decorators
        )
        if library == "strawberry" and is_field:
            states = [
                s
                for d in decorators
                if (s := by_name(names.callee(path, "", d) if d[0] == "c" else str(d[-1])))
                is not None
            ]
            found.append((method_name, method["line"], states[0] if states else "unknown"))
    return found


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
