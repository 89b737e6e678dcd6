"""JSON Schemas of message payloads declared in code, built from (field, type) pairs that
each language reads from its models (pydantic, dataclasses, TS interfaces, zod, Go structs)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from backend_agent.analysis.queues.model import Payload

Schema = dict[str, Any]
# Scalar type names of all four languages -> JSON Schema.
_SCALAR_TABLE: tuple[tuple[Schema, tuple[str, ...]], ...] = (
    ({"type": "string"}, ("str", "string", "String", "EmailStr", "HttpUrl", "AnyUrl")),
    (
        {"type": "integer"},
        (
            "int",
            "integer",
            "Integer",
            "int8",
            "int16",
            "int32",
            "int64",
            "uint",
            "uint8",
            "uint16",
            "uint32",
            "uint64",
        ),
    ),
    (
        {"type": "number"},
        ("float", "float32", "float64", "number", "Float", "Decimal", "decimal.Decimal"),
    ),
    ({"type": "boolean"}, ("bool", "boolean", "Boolean")),
    (
        {"type": "string", "format": "date-time"},
        ("datetime", "datetime.datetime", "Date", "time.Time", "DateTime", "Time"),
    ),
    ({"type": "string", "format": "date"}, ("date", "datetime.date")),
    ({"type": "string", "format": "uuid"}, ("UUID", "uuid.UUID")),
    ({"type": "object"}, ("dict", "Dict", "object", "Record", "map", "Mapping", "Hash")),
    ({"type": "string", "contentEncoding": "base64"}, ("bytes", "[]byte")),
)
SCALARS: dict[str, Schema] = {name: schema for schema, names in _SCALAR_TABLE for name in names}


def object_schema(fields: Iterable[tuple[str, Schema, bool]]) -> Schema:
    """An object schema from (name, schema, required) fields, in declaration order."""
    listed = list(fields)
    schema: Schema = {
        "type": "object",
        "properties": {name: field for name, field, _ in listed},
    }
    required = [name for name, _, needed in listed if needed]
    if required:
        schema["required"] = required
    return schema


def payload(name: str, schema: Schema) -> Payload:
    return Payload(name, json.dumps(schema, sort_keys=True))


def scalar(name: str) -> Schema | None:
    found = SCALARS.get(name)
    return dict(found) if found is not None else None
