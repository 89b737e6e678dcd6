"""OpenAPI 3 and Swagger 2 documents in a repository, read as declared contracts: their
operations, compared with the code's inventory and with another revision's document."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from backend_agent.analysis.endpoints.model import ContractChange, Endpoint, normalise_path
from backend_agent.analysis.project import Project

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SPEC_SUFFIXES = (".yaml", ".yml", ".json")
_MARKER = re.compile(rb"^\s*[\"']?(openapi|swagger)[\"']?\s*:", re.MULTILINE)


@dataclass
class Operation:
    """One declared operation: its request requirements and success responses."""

    method: str
    path: str
    line: int
    required_params: set[str] = field(default_factory=set)
    params: set[str] = field(default_factory=set)
    required_body: set[str] = field(default_factory=set)
    success: dict[str, set[str]] = field(default_factory=dict)  # status -> response properties
    enums: dict[str, set[str]] = field(default_factory=dict)  # response property -> values

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)


@dataclass
class Spec:
    file: str
    operations: dict[tuple[str, str], Operation]


def is_spec_candidate(path: str) -> bool:
    return path.lower().endswith(SPEC_SUFFIXES) and "/node_modules/" not in path


def read_specs(project: Project) -> list[Spec]:
    """Every OpenAPI/Swagger document in the project, parsed."""
    specs = []
    for path in project.files():
        if not is_spec_candidate(path):
            continue
        data = project.read_bytes(path)
        if not _MARKER.search(data[:4096]):
            continue
        spec = parse_spec(path, data)
        if spec is not None:
            specs.append(spec)
    return specs


def parse_spec(path: str, data: bytes) -> Spec | None:
    """A parsed document, or None when the file is not an OpenAPI/Swagger document."""
    document = _load(path, data)
    if not isinstance(document, dict) or not ("openapi" in document or "swagger" in document):
        return None
    base = _base_path(document)
    text = data.decode("utf-8", "replace")
    operations: dict[tuple[str, str], Operation] = {}
    for raw_path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        shared = item.get("parameters") or []
        for method in HTTP_METHODS:
            spec_op = item.get(method)
            if not isinstance(spec_op, dict):
                continue
            full = normalise_path(base + str(raw_path))
            operation = Operation(method.upper(), full, _line_of(text, str(raw_path)))
            _read_operation(
                document, operation, [*shared, *(spec_op.get("parameters") or [])], spec_op
            )
            operations[operation.key] = operation
    return Spec(path, operations)


def compare_with_code(
    endpoints: list[Endpoint], specs: list[Spec]
) -> dict[str, list[dict[str, Any]]]:
    """Operations in code but in no spec, and declared in a spec but absent from the code."""
    code = {(e.method, _shape(e.path)): e for e in endpoints if e.kind == "rest"}
    declared = {
        (op.method, _shape(op.path)): (spec.file, op)
        for spec in specs
        for op in spec.operations.values()
    }
    in_code_only = [
        {"method": e.method, "path": e.path, "file": e.file, "line": e.line}
        for key, e in sorted(code.items())
        if key not in declared and e.method != "ANY"
    ]
    in_spec_only = [
        {"method": op.method, "path": op.path, "file": file, "line": op.line}
        for key, (file, op) in sorted(declared.items())
        if key not in code and ("ANY", key[1]) not in code
    ]
    return {"in_code_not_in_spec": in_code_only, "in_spec_not_in_code": in_spec_only}


def spec_changes(old: Spec | None, new: Spec | None, file: str) -> list[ContractChange]:
    """Classified differences between two versions of one document."""
    before = old.operations if old is not None else {}
    after = new.operations if new is not None else {}
    changes: list[ContractChange] = []
    for key, operation in sorted(before.items()):
        label = f"{key[0]} {key[1]}"
        current = after.get(key)
        if current is None:
            changes.append(
                _change(
                    "openapi.operation-removed",
                    "breaking",
                    f"{label} removed from the spec",
                    file,
                    operation.line,
                )
            )
            continue
        for param in sorted(current.required_params - operation.required_params):
            changes.append(
                _change(
                    "openapi.required-parameter-added",
                    "breaking",
                    f"{label}: new required parameter {param!r}",
                    file,
                    current.line,
                )
            )
        for prop in sorted(current.required_body - operation.required_body):
            changes.append(
                _change(
                    "openapi.required-property-added",
                    "breaking",
                    f"{label}: request body property {prop!r} is now required",
                    file,
                    current.line,
                )
            )
        for param in sorted(operation.params - current.params):
            changes.append(
                _change(
                    "openapi.parameter-removed",
                    "possibly-breaking",
                    f"{label}: parameter {param!r} removed",
                    file,
                    current.line,
                )
            )
        if (
            operation.success
            and current.success
            and not set(operation.success) & set(current.success)
        ):
            old_codes, new_codes = (
                ",".join(sorted(operation.success)),
                ",".join(sorted(current.success)),
            )
            changes.append(
                _change(
                    "openapi.success-status-changed",
                    "breaking",
                    f"{label}: success status {old_codes} -> {new_codes}",
                    file,
                    current.line,
                )
            )
        for status, props in sorted(operation.success.items()):
            for prop in sorted(props - current.success.get(status, props)):
                changes.append(
                    _change(
                        "openapi.response-property-removed",
                        "breaking",
                        f"{label}: response {status} no longer has {prop!r}",
                        file,
                        current.line,
                    )
                )
        for prop, values in sorted(operation.enums.items()):
            for value in sorted(values - current.enums.get(prop, values)):
                changes.append(
                    _change(
                        "openapi.enum-value-removed",
                        "breaking",
                        f"{label}: {prop!r} no longer returns {value!r}",
                        file,
                        current.line,
                    )
                )
    for key, operation in sorted(after.items()):
        if key not in before:
            changes.append(
                _change(
                    "openapi.operation-added",
                    "non-breaking",
                    f"{key[0]} {key[1]} added to the spec",
                    file,
                    operation.line,
                )
            )
    return changes


def _read_operation(
    document: dict[str, Any], operation: Operation, params: list[Any], spec_op: dict[str, Any]
) -> None:
    for param in params:
        param = _deref(document, param)
        if not isinstance(param, dict) or "name" not in param:
            continue
        name = f"{param.get('in', '')}:{param['name']}"
        if param.get("in") == "body":  # Swagger 2 body parameter
            operation.required_body |= _required(document, param.get("schema"))
            continue
        operation.params.add(name)
        if param.get("required"):
            operation.required_params.add(name)
    body = _deref(document, spec_op.get("requestBody"))
    if isinstance(body, dict):
        for media in (body.get("content") or {}).values():
            if isinstance(media, dict):
                operation.required_body |= _required(document, media.get("schema"))
    for status, response in (spec_op.get("responses") or {}).items():
        if not str(status).startswith("2"):
            continue
        response = _deref(document, response)
        schema = None
        if isinstance(response, dict):
            schema = response.get("schema")
            for media in (response.get("content") or {}).values():
                if isinstance(media, dict) and media.get("schema") is not None:
                    schema = media["schema"]
                    break
        props, enums = _properties(document, schema, "", 0)
        operation.success[str(status)] = props
        for prop, values in enums.items():
            operation.enums.setdefault(prop, set()).update(values)


def _properties(
    document: dict[str, Any], schema: Any, prefix: str, depth: int
) -> tuple[set[str], dict[str, set[str]]]:
    """Dotted property names of a response schema (nested objects and array items) and enums."""
    schema = _deref(document, schema)
    props: set[str] = set()
    enums: dict[str, set[str]] = {}
    if not isinstance(schema, dict) or depth > 6:
        return props, enums
    if schema.get("type") == "array" or "items" in schema:
        return _properties(document, schema.get("items"), prefix + "[]", depth + 1)
    for part in schema.get("allOf") or []:
        sub_props, sub_enums = _properties(document, part, prefix, depth + 1)
        props |= sub_props
        enums.update(sub_enums)
    for name, sub in (schema.get("properties") or {}).items():
        dotted = f"{prefix}.{name}" if prefix else str(name)
        props.add(dotted)
        resolved = _deref(document, sub)
        if isinstance(resolved, dict) and isinstance(resolved.get("enum"), list):
            enums[dotted] = {str(v) for v in resolved["enum"]}
        sub_props, sub_enums = _properties(document, sub, dotted, depth + 1)
        props |= sub_props
        enums.update(sub_enums)
    return props, enums


def _required(document: dict[str, Any], schema: Any) -> set[str]:
    schema = _deref(document, schema)
    if not isinstance(schema, dict):
        return set()
    found = {str(name) for name in schema.get("required") or []}
    for part in schema.get("allOf") or []:
        found |= _required(document, part)
    return found


def _deref(document: dict[str, Any], value: Any, depth: int = 0) -> Any:
    """Follow local ``$ref``s (``#/components/...``, ``#/definitions/...``)."""
    while isinstance(value, dict) and isinstance(value.get("$ref"), str) and depth < 20:
        ref = value["$ref"]
        if not ref.startswith("#/"):
            return None
        target: Any = document
        for part in ref[2:].split("/"):
            target = (
                target.get(part.replace("~1", "/").replace("~0", "~"))
                if isinstance(target, dict)
                else None
            )
        value, depth = target, depth + 1
    return value


def _base_path(document: dict[str, Any]) -> str:
    if "swagger" in document:
        return str(document.get("basePath") or "")
    servers = document.get("servers") or []
    if servers and isinstance(servers[0], dict):
        url = str(servers[0].get("url") or "")
        path = re.sub(r"^[a-z]+://[^/]*", "", url)
        return "" if "{" in path else path
    return ""


def _load(path: str, data: bytes) -> Any:
    import yaml

    try:
        if path.lower().endswith(".json"):
            return json.loads(data)
        return yaml.safe_load(data)
    except (ValueError, yaml.YAMLError):
        return None


def _line_of(text: str, needle: str) -> int:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def _change(rule: str, compatibility: Any, message: str, file: str, line: int) -> ContractChange:
    return ContractChange(rule, compatibility, message, file, line, "openapi")
