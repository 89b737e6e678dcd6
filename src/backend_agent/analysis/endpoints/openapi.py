"""OpenAPI 3 and Swagger 2 documents in a repository, read as declared contracts: their
operations, compared with the code's inventory and with another revision's document."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from backend_agent.analysis.endpoints.model import ContractChange, Endpoint, normalise_path
from backend_agent.analysis.inputs import load_json, load_yaml
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
        elif path.lower().endswith(".json"):
            load_json(project, path)  # a note naming the line when it does not parse
        else:
            load_yaml(project, path)
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
        current = after.get(key)
        if current is None:
            message = f"{key[0]} {key[1]} removed from the spec"
            changes.append(
                _change("openapi.operation-removed", "breaking", message, file, operation.line)
            )
        else:
            changes += [
                _change(rule, compatibility, message, file, current.line)
                for rule, compatibility, message in _operation_changes(operation, current)
            ]
    for key, operation in sorted(after.items()):
        if key not in before:
            message = f"{key[0]} {key[1]} added to the spec"
            changes.append(
                _change("openapi.operation-added", "non-breaking", message, file, operation.line)
            )
    return changes


def _operation_changes(old: Operation, new: Operation) -> list[tuple[str, str, str]]:
    """(rule, compatibility, message) for one operation present in both versions."""
    label = f"{new.method} {new.path}"
    found = [
        ("openapi.required-parameter-added", "breaking", f"{label}: new required parameter {p!r}")
        for p in sorted(new.required_params - old.required_params)
    ]
    found += [
        ("openapi.required-property-added", "breaking",
         f"{label}: request body property {p!r} is now required")
        for p in sorted(new.required_body - old.required_body)
    ]  # fmt: skip
    found += [
        ("openapi.parameter-removed", "possibly-breaking", f"{label}: parameter {p!r} removed")
        for p in sorted(old.params - new.params)
    ]
    if old.success and new.success and not set(old.success) & set(new.success):
        codes = f"{','.join(sorted(old.success))} -> {','.join(sorted(new.success))}"
        found.append(
            ("openapi.success-status-changed", "breaking", f"{label}: success status {codes}")
        )
    for status, props in sorted(old.success.items()):
        found += [
            ("openapi.response-property-removed", "breaking",
             f"{label}: response {status} no longer has {p!r}")
            for p in sorted(props - new.success.get(status, props))
        ]  # fmt: skip
    for prop, values in sorted(old.enums.items()):
        found += [
            ("openapi.enum-value-removed", "breaking", f"{label}: {prop!r} no longer returns {v!r}")
            for v in sorted(values - new.enums.get(prop, values))
        ]
    return found


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
