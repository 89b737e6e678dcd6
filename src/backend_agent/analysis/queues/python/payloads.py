"""Message schemas of Python payloads: the pydantic model, dataclass or TypedDict a producer
sends (``OrderCreated(...).model_dump_json()``, ``json.dumps(asdict(event))``, a parameter
annotated with the model) as JSON Schema."""

from __future__ import annotations

import re

from backend_agent.analysis.endpoints.python.scan import Expr
from backend_agent.analysis.queues.model import Payload
from backend_agent.analysis.queues.python.values import PyValues
from backend_agent.analysis.queues.schemas import Schema, object_schema, payload, scalar

# Calls that serialise their argument or receiver without changing its shape.
_SERIALISERS = frozenset(
    {
        "model_dump_json",
        "model_dump",
        "json",
        "dict",
        "dumps",
        "asdict",
        "encode",
        "to_json",
        "SerializeToString",
        "bytes",
        "str",
    }
)
_GENERIC = re.compile(r"^(?:typing\.)?(\w+)\[(.*)\]$")
_MAX_DEPTH = 4


def payload_of(values: PyValues, path: str, scope: str, value: Expr) -> Payload | None:
    """The declared model of a payload expression, or None when it shows none."""
    model = _model(values, path, scope, value, 0)
    if model is None:
        return None
    model_path, name = model
    schema = model_schema(values, model_path, name, 0)
    return payload(name, schema) if schema is not None else None


def model_schema(values: PyValues, path: str, name: str, depth: int) -> Schema | None:
    """The JSON Schema of a model class (fields of its repository bases included)."""
    facts = values.facts.get(path)
    if facts is None or name not in facts.models or depth > _MAX_DEPTH:
        return None
    fields: list[tuple[str, Schema, bool]] = []
    for base in facts.model_bases.get(name, ()):
        target = values.names.target(path, "", ("n", base) if "." not in base else _attr(base))
        if target is not None and target.kind == "class":
            inherited = model_schema(values, target.path, target.name, depth + 1)
            for field, schema in (inherited or {}).get("properties", {}).items():
                needed = field in (inherited or {}).get("required", [])
                fields.append((field, schema, needed))
    for field, annotation, required in facts.models[name]:
        schema, optional = _type_schema(values, path, annotation, depth)
        fields = [f for f in fields if f[0] != field]
        fields.append((field, schema, required and not optional))
    result = object_schema(fields)
    result["title"] = name
    return result


def _model(
    values: PyValues, path: str, scope: str, value: Expr, depth: int
) -> tuple[str, str] | None:
    if depth > _MAX_DEPTH:
        return None
    tag = value[0]
    if tag == "c":
        func = value[1]
        name = func[2] if func[0] == "a" else func[1] if func[0] == "n" else ""
        if name in _SERIALISERS:
            inner = value[2][0] if value[2] else func[1] if func[0] == "a" else None
            return _model(values, path, scope, inner, depth + 1) if inner else None
        return _class(values, path, scope, func)
    if tag == "n":
        facts = values.facts.get(path)
        for receiver in facts.receivers if facts is not None else []:
            if receiver.name == value[1] and receiver.scope == scope:
                if receiver.value[0] in ("n", "a"):
                    return _class(values, path, scope, receiver.value)
                return _model(values, path, scope, receiver.value, depth + 1)
        target = values.names.target(path, scope, value)
        if target is not None and target.kind == "bind":
            return _model(
                values, target.path, target.scope, values.names.value_of(target), depth + 1
            )
    return None


def _class(values: PyValues, path: str, scope: str, func: Expr) -> tuple[str, str] | None:
    target = values.names.target(path, scope, func)
    if target is None or target.kind != "class":
        return None
    facts = values.facts.get(target.path)
    return (target.path, target.name) if facts is not None and target.name in facts.models else None


def _type_schema(values: PyValues, path: str, text: str, depth: int) -> tuple[Schema, bool]:
    """(schema, optional) of an annotation as written: ``list[str] | None``, ``Optional[int]``."""
    text = text.strip().strip("'\"")
    parts = _split(text, "|")
    if len(parts) > 1:
        kept = [p for p in parts if p not in ("None", "NoneType")]
        schema, _ = _type_schema(values, path, kept[0], depth) if len(kept) == 1 else ({}, False)
        return schema, len(kept) < len(parts)
    match = _GENERIC.match(text)
    if match is not None:
        outer, inner = match.group(1), match.group(2)
        if outer == "Optional":
            return _type_schema(values, path, inner, depth)[0], True
        if outer in ("list", "List", "Sequence", "set", "Set", "tuple", "Tuple", "Iterable"):
            item, _ = _type_schema(values, path, _split(inner, ",")[0], depth)
            return {"type": "array", "items": item}, False
        if outer in ("dict", "Dict", "Mapping"):
            return {"type": "object"}, False
        if outer == "Literal":
            return {"enum": [v.strip().strip("'\"") for v in _split(inner, ",")]}, False
        if outer == "Annotated":
            return _type_schema(values, path, _split(inner, ",")[0], depth)
        return {}, False
    found = scalar(text)
    if found is not None:
        return found, False
    target = values.names.target(path, "", ("n", text) if "." not in text else _attr(text))
    if target is not None and target.kind == "class":
        nested = model_schema(values, target.path, target.name, depth + 1)
        if nested is not None:
            return nested, False
    return {}, False


def _split(text: str, separator: str) -> list[str]:
    """Split at top-level separators (not inside brackets)."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += 1 if char in "[(" else -1 if char in "])" else 0
        if char == separator and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return [p for p in parts if p]


def _attr(dotted: str) -> Expr:
    head, *rest = dotted.split(".")
    value: Expr = ("n", head)
    for part in rest:
        value = ("a", value, part)
    return value
