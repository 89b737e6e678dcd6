"""Message schemas of JavaScript/TypeScript payloads: TypeScript interfaces, type aliases and
classes (DTOs) named on a queue's type arguments, a typed variable or a handler parameter, and
zod schemas (``z.object({...})``), as JSON Schema."""

from __future__ import annotations

import re
from collections.abc import Mapping

from backend_agent.analysis.endpoints.javascript.facts import Value
from backend_agent.analysis.queues.javascript.facts import JsQueueFacts
from backend_agent.analysis.queues.javascript.values import JsValues
from backend_agent.analysis.queues.model import Payload
from backend_agent.analysis.queues.schemas import Schema, object_schema, payload, scalar

_WRAPPERS = re.compile(r"^(?:Job|Promise|Readonly|Partial|Required|Array|Message)<(.*)>$")
_ZOD_INFER = re.compile(r"^z\.(?:infer|input|output)<\s*typeof\s+([\w$]+)\s*>$")
_SERIALISERS = ("stringify", "from", "encode", "serialize")
_MAX_DEPTH = 4


class JsPayloads:
    """Finds and converts declared payload types across files."""

    def __init__(self, facts: Mapping[str, JsQueueFacts], values: JsValues) -> None:
        self.facts = facts
        self.values = values

    def of_type(self, file: str, text: str) -> Payload | None:
        """The payload of a type as written (``OrderCreated``, ``Job<Order>``)."""
        name = _unwrap(text)
        schema = self.type_schema(file, name, 0)
        return payload(name, schema) if schema is not None and "properties" in schema else None

    def of_value(self, file: str, value: Value) -> Payload | None:
        """The payload of a sent value: a typed variable, possibly serialised."""
        while value[0] == "call" and value[1][0] == "member" and value[1][2] in _SERIALISERS:
            if not value[2]:
                return None
            value = value[2][0]
        if (
            value[0] == "call"
            and value[1][0] == "member"
            and value[1][2] in ("parse", "parseAsync")
        ):
            schema = self._zod(file, value[1][1], 0)
            name = _name(value[1][1])
            return payload(name, schema) if schema is not None else None
        if value[0] == "ref":
            name = str(value[1]).rsplit("/", 1)[-1]
            typed = self.facts[file].typed.get(name) if file in self.facts else None
            return self.of_type(file, typed) if typed else None
        return None

    def type_schema(self, file: str, text: str, depth: int) -> Schema | None:
        """JSON Schema of a type expression, looking named types up through imports."""
        text = text.strip()
        if depth > _MAX_DEPTH:
            return {}
        zod = _ZOD_INFER.match(text)
        if zod is not None:
            return self._zod(file, ("ref", zod.group(1)), depth)
        parts = [p.strip() for p in _split(text, "|")]
        if len(parts) > 1:
            kept = [p for p in parts if p not in ("undefined", "null")]
            if kept and all(p[:1] in "'\"" for p in kept):
                return {"enum": [p.strip("'\"") for p in kept]}
            return self.type_schema(file, kept[0], depth) if len(kept) == 1 else {}
        if text.endswith("[]"):
            return {"type": "array", "items": self.type_schema(file, text[:-2], depth) or {}}
        array = re.match(r"^Array<(.*)>$", text)
        if array is not None:
            return {"type": "array", "items": self.type_schema(file, array.group(1), depth) or {}}
        if text.startswith("Record<"):
            return {"type": "object"}
        found = scalar(text)
        if found is not None:
            return found
        declared = self._declared(file, text, depth)
        if declared is None:
            return None if depth == 0 else {}
        where, fields = declared
        schema = object_schema(
            (name, self.type_schema(where, kind, depth + 1) or {}, required)
            for name, kind, required in fields
        )
        schema["title"] = text
        return schema

    def _declared(
        self, file: str, name: str, depth: int
    ) -> tuple[str, tuple[tuple[str, str, bool], ...]] | None:
        facts = self.facts.get(file)
        if facts is None or depth > _MAX_DEPTH * 2:
            return None
        if name in facts.types:
            return file, facts.types[name]
        bound = facts.values.bindings.get(name)
        if bound is not None and bound[0] == "import":
            target = self.values.module(file, bound[1])
            if target is not None:
                return self._declared(target, bound[2], depth + 1)
        star = facts.values.exports.get("*")
        if star is not None and star[0] == "import":
            target = self.values.module(file, star[1])
            if target is not None:
                return self._declared(target, name, depth + 1)
        return None

    def _zod(self, file: str, value: Value, depth: int) -> Schema | None:
        """A zod schema value (``z.object({...})``) as JSON Schema."""
        if depth > _MAX_DEPTH * 3:
            return None
        if value[0] in ("ref", "import"):
            bound = self._raw(file, value, depth)
            return self._zod(bound[0], bound[1], depth + 1) if bound is not None else None
        if value[0] != "call" or value[1][0] != "member":
            return None
        method, inner, args = value[1][2], value[1][1], value[2]
        if method in (
            "optional",
            "nullable",
            "default",
            "describe",
            "min",
            "max",
            "email",
            "uuid",
            "url",
            "int",
            "positive",
            "nonempty",
            "trim",
            "regex",
            "length",
        ):
            schema = self._zod(file, inner, depth + 1)
            if schema is not None and method == "email":
                schema["format"] = "email"
            if schema is not None and method == "int":
                schema["type"] = "integer"
            if schema is not None and method in ("optional", "nullable", "default"):
                schema["x-optional"] = True
            return schema
        if method == "object" and args and args[0][0] == "obj":
            fields = []
            for key, item in args[0][1]:
                schema = self._zod(file, item, depth + 1) or {}
                optional = bool(schema.pop("x-optional", False))
                fields.append((key, schema, not optional))
            return object_schema(fields)
        if method == "array" and args:
            return {"type": "array", "items": self._zod(file, args[0], depth + 1) or {}}
        if method == "enum" and args and args[0][0] == "arr":
            return {"enum": [v[1] for v in args[0][1] if v[0] == "str"]}
        simple = {
            "string": "string",
            "number": "number",
            "boolean": "boolean",
            "bigint": "integer",
            "date": "string",
        }
        if method in simple:
            found: Schema = {"type": simple[method]}
            if method == "date":
                found["format"] = "date-time"
            return found
        return None

    def _raw(self, file: str, value: Value, depth: int) -> tuple[str, Value] | None:
        """The value a name is bound to, through imports and exports: (its file, value)."""
        if depth > _MAX_DEPTH * 3 or file not in self.facts:
            return None
        facts = self.facts[file].values
        if value[0] == "ref":
            bound = facts.bindings.get(str(value[1]))
            return self._raw(file, bound, depth + 1) if bound is not None else None
        if value[0] == "import":
            target = self.values.module(file, value[1])
            exported = self.facts[target].values.exports.get(value[2]) if target else None
            return self._raw(target, exported, depth + 1) if target and exported else None
        return file, value


def _unwrap(text: str) -> str:
    text = text.strip()
    match = _WRAPPERS.match(text)
    while match is not None:
        text = match.group(1).split(",", 1)[0].strip()
        match = _WRAPPERS.match(text)
    return text


def _name(value: Value) -> str:
    return str(value[1]).rsplit("/", 1)[-1] if value[0] == "ref" else "payload"


def _split(text: str, separator: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        depth += 1 if char in "<([{" else -1 if char in ">)]}" else 0
        if char == separator and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p for p in parts if p.strip()]
