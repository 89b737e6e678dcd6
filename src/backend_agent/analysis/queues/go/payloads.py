"""Message schemas of Go payloads: the struct a producer marshals (``json.Marshal(evt)`` with
``evt := OrderCreated{...}``, a typed variable or parameter) as JSON Schema, field names from
``json`` tags."""

from __future__ import annotations

import re

from backend_agent.analysis.endpoints.go.scan import Expr
from backend_agent.analysis.queues.go.values import GoValues
from backend_agent.analysis.queues.model import Payload
from backend_agent.analysis.queues.schemas import Schema, object_schema, payload, scalar

_WRAPPERS = frozenset(
    {"Marshal", "ByteEncoder", "StringEncoder", "byte", "[]byte", "string", "Sprint", "Encode"}
)
_JSON_TAG = re.compile(r'json:"([^"]*)"')
_MAX_DEPTH = 5


def payload_of(values: GoValues, path: str, symbol: str, value: Expr) -> Payload | None:
    """The struct a payload expression marshals, or None when it shows none."""
    found = _struct(values, path, symbol, value, 0)
    if found is None:
        return None
    where, name = found
    schema = struct_schema(values, where, name, 0)
    return payload(name.rsplit(".", 1)[-1], schema) if schema is not None else None


def struct_schema(values: GoValues, path: str, name: str, depth: int) -> Schema | None:
    """A struct type's JSON Schema (``name`` may be ``pkg.Type`` as seen from ``path``)."""
    located = _locate(values, path, name)
    if located is None or depth > _MAX_DEPTH:
        return None
    where, fields = located
    properties: list[tuple[str, Schema, bool]] = []
    for field, kind, tag in fields:
        match = _JSON_TAG.search(tag)
        options = match.group(1).split(",") if match else [field]
        if options[0] == "-":
            continue
        json_name = options[0] or field
        optional = "omitempty" in options[1:] or kind.startswith("*")
        properties.append((json_name, _type_schema(values, where, kind, depth), not optional))
    schema = object_schema(properties)
    schema["title"] = name.rsplit(".", 1)[-1]
    return schema


def struct_fields(values: GoValues, path: str, name: str) -> tuple[str, ...] | None:
    """A struct's fields as JSON names with their types (a job's visible signature)."""
    located = _locate(values, path, name)
    if located is None:
        return None
    found = []
    for field, kind, tag in located[1]:
        match = _JSON_TAG.search(tag)
        json_name = (match.group(1).split(",")[0] if match else "") or field
        if json_name != "-":
            found.append(f"{json_name} {kind}")
    return tuple(found)


def _locate(
    values: GoValues, path: str, name: str
) -> tuple[str, tuple[tuple[str, str, str], ...]] | None:
    name = name.lstrip("*&")
    alias, _, type_name = name.rpartition(".")
    files = values.package_files(path, alias) if alias else values.package_files(path)
    for file in files:
        fields = values.sources[file].structs.get(type_name)
        if fields is not None:
            return file, fields
    return None


def _struct(
    values: GoValues, path: str, symbol: str, value: Expr, depth: int
) -> tuple[str, str] | None:
    if depth > _MAX_DEPTH:
        return None
    tag = value[0]
    if tag == "call" and value[2]:
        func = value[1]
        name = func[2] if func[0] == "sel" else str(func[1]) if func[0] == "id" else ""
        if name in _WRAPPERS:
            return _struct(values, path, symbol, value[2][0], depth + 1)
        return None
    if tag == "lit" and value[1] and not value[1].startswith(("[]", "map[")):
        return (path, str(value[1])) if _locate(values, path, str(value[1])) else None
    if tag == "type":
        kind = str(value[1]).lstrip("*")
        return (path, kind) if _locate(values, path, kind) else None
    if tag in ("id", "sel"):
        found = values.bound(path, symbol, value)
        if found is not None:
            return _struct(values, found[0], found[1], found[2], depth + 1)
    return None


def _type_schema(values: GoValues, path: str, kind: str, depth: int) -> Schema:
    kind = kind.lstrip("*")
    if kind.startswith("[]") and kind != "[]byte":
        return {"type": "array", "items": _type_schema(values, path, kind[2:], depth)}
    if kind.startswith("map["):
        return {"type": "object"}
    found = scalar(kind)
    if found is not None:
        return found
    nested = struct_schema(values, path, kind, depth + 1)
    return nested if nested is not None else {}
