"""Wire- and API-compatibility changes between two versions of one .proto file."""

from __future__ import annotations

from typing import Any

from backend_agent.analysis.endpoints.grpc.model import (
    Field,
    ProtoFile,
    ProtoSyntaxError,
    http_path,
)
from backend_agent.analysis.endpoints.grpc.reader import parse_proto
from backend_agent.analysis.endpoints.model import Compatibility, ContractChange

# Scalar types that read each other's wire data (changing between them is not always safe).
_WIRE_GROUPS = (
    {"int32", "uint32", "int64", "uint64", "bool"},
    {"sint32", "sint64"},
    {"fixed32", "sfixed32"},
    {"fixed64", "sfixed64"},
    {"string", "bytes"},
)


def proto_changes(old: str, new: str, file: str) -> list[ContractChange]:
    """Wire- and API-compatibility changes between two versions of one .proto file."""
    try:
        before = parse_proto(old)
    except ProtoSyntaxError:
        return []
    try:
        after = parse_proto(new)
    except ProtoSyntaxError as error:
        return [
            ContractChange(
                "grpc.proto-invalid",
                "possibly-breaking",
                f"the proto file no longer parses: {error}",
                file,
                1,
                "grpc",
            )
        ]
    changes: list[ContractChange] = []

    def add(rule: str, compatibility: Compatibility, message: str, line: int) -> None:
        changes.append(ContractChange(f"grpc.{rule}", compatibility, message, file, line, "grpc"))

    if before.package != after.package:
        add(
            "package-changed",
            "breaking",
            f"package changed from {before.package or '(none)'} to {after.package or '(none)'}",
            1,
        )
    _services(before, after, add)
    _messages(before, after, add)
    _enums(before, after, add)
    return changes


def _services(before: ProtoFile, after: ProtoFile, add: Any) -> None:
    for name, old_service in before.services.items():
        new_service = after.services.get(name)
        if new_service is None:
            add("service-removed", "breaking", f"service {name} was removed", 1)
            continue
        for rpc_name, old_rpc in old_service.rpcs.items():
            new_rpc = new_service.rpcs.get(rpc_name)
            label = f"{name}.{rpc_name}"
            if new_rpc is None:
                add("rpc-removed", "breaking", f"rpc {label} was removed", new_service.line)
                continue
            if (old_rpc.request, old_rpc.response) != (new_rpc.request, new_rpc.response):
                add(
                    "rpc-signature-changed",
                    "breaking",
                    f"rpc {label} changed from ({old_rpc.request}) -> {old_rpc.response}"
                    f" to ({new_rpc.request}) -> {new_rpc.response}",
                    new_rpc.line,
                )
            if (old_rpc.client_streaming, old_rpc.server_streaming) != (
                new_rpc.client_streaming,
                new_rpc.server_streaming,
            ):
                add(
                    "rpc-streaming-changed",
                    "breaking",
                    f"rpc {label} changed streaming",
                    new_rpc.line,
                )
            old_http = {(r.method, http_path(r.path)) for r in old_rpc.http}
            new_http = {(r.method, http_path(r.path)) for r in new_rpc.http}
            for method, path in sorted(old_http - new_http):
                add(
                    "http-binding-removed",
                    "breaking",
                    f"rpc {label} no longer serves {method} {path}",
                    new_rpc.line,
                )
            for method, path in sorted(new_http - old_http):
                add(
                    "http-binding-added",
                    "non-breaking",
                    f"rpc {label} now serves {method} {path}",
                    new_rpc.line,
                )
        for rpc_name, new_rpc in new_service.rpcs.items():
            if rpc_name not in old_service.rpcs:
                add("rpc-added", "non-breaking", f"rpc {name}.{rpc_name} was added", new_rpc.line)
    for name, new_service in after.services.items():
        if name not in before.services:
            add("service-added", "non-breaking", f"service {name} was added", new_service.line)


def _messages(before: ProtoFile, after: ProtoFile, add: Any) -> None:
    for name, old_message in before.messages.items():
        new_message = after.messages.get(name)
        if new_message is None:
            add("message-removed", "breaking", f"message {name} was removed", 1)
            continue
        by_number = {f.number: f for f in new_message.fields.values()}
        for field_name, old_field in old_message.fields.items():
            label = f"{name}.{field_name}"
            new_field = new_message.fields.get(field_name)
            if new_field is None:
                renamed = by_number.get(old_field.number)
                if renamed is not None:
                    add(
                        "field-renamed",
                        "possibly-breaking",
                        f"field {label} (= {old_field.number}) was renamed to {renamed.name}:"
                        " JSON clients break",
                        renamed.line,
                    )
                    _field_shape(label, old_field, renamed, add)
                elif new_message.reserves(old_field.number):
                    add(
                        "field-removed",
                        "possibly-breaking",
                        f"field {label} (= {old_field.number}) was removed and its number reserved",
                        new_message.line,
                    )
                else:
                    add(
                        "field-removed-without-reserved",
                        "breaking",
                        f"field {label} (= {old_field.number}) was removed"
                        " without reserving its number",
                        new_message.line,
                    )
                continue
            if new_field.number != old_field.number:
                add(
                    "field-number-changed",
                    "breaking",
                    f"field {label} number changed from {old_field.number} to {new_field.number}",
                    new_field.line,
                )
            _field_shape(label, old_field, new_field, add)
        old_numbers = {f.number for f in old_message.fields.values()}
        for field_name, new_field in new_message.fields.items():
            if field_name in old_message.fields or new_field.number in old_numbers:
                continue
            label = f"{name}.{field_name}"
            if old_message.reserves(new_field.number) or field_name in old_message.reserved_names:
                add(
                    "reserved-field-reused",
                    "breaking",
                    f"field {label} reuses reserved number or name ({new_field.number})",
                    new_field.line,
                )
            elif new_field.label == "required":
                add(
                    "required-field-added",
                    "breaking",
                    f"required field {label} was added",
                    new_field.line,
                )
            else:
                add("field-added", "non-breaking", f"field {label} was added", new_field.line)
    for name, new_message in after.messages.items():
        if name not in before.messages:
            add("message-added", "non-breaking", f"message {name} was added", new_message.line)


def _field_shape(label: str, old: Field, new: Field, add: Any) -> None:
    if old.type != new.type:
        compatible = any(old.type in group and new.type in group for group in _WIRE_GROUPS)
        add(
            "field-type-changed",
            "possibly-breaking" if compatible else "breaking",
            f"field {label} type changed from {old.type} to {new.type}",
            new.line,
        )
    if (old.label == "repeated") != (new.label == "repeated"):
        add(
            "field-label-changed",
            "breaking",
            f"field {label} changed between repeated and singular",
            new.line,
        )
    elif old.label != new.label and "required" in (old.label, new.label):
        add(
            "field-label-changed",
            "breaking",
            f"field {label} changed from {old.label or 'singular'} to {new.label or 'singular'}",
            new.line,
        )


def _enums(before: ProtoFile, after: ProtoFile, add: Any) -> None:
    for name, old_enum in before.enums.items():
        new_enum = after.enums.get(name)
        if new_enum is None:
            add("enum-removed", "breaking", f"enum {name} was removed", 1)
            continue
        for value_name, number in old_enum.values.items():
            if value_name not in new_enum.values:
                add(
                    "enum-value-removed",
                    "breaking",
                    f"enum value {name}.{value_name} (= {number}) was removed",
                    new_enum.line,
                )
            elif new_enum.values[value_name] != number:
                add(
                    "enum-value-number-changed",
                    "breaking",
                    f"enum value {name}.{value_name} changed from {number}"
                    f" to {new_enum.values[value_name]}",
                    new_enum.line,
                )
        for value_name, number in new_enum.values.items():
            if value_name not in old_enum.values:
                add(
                    "enum-value-added",
                    "possibly-breaking",
                    f"enum value {name}.{value_name} (= {number}) was added:"
                    " old clients see an unknown value",
                    new_enum.line,
                )
