"""gRPC: services and RPCs of ``.proto`` files (with ``google.api.http`` REST mappings) and
wire-compatibility diffs between two versions of a proto file.

No protoc is needed: a tokenizer and a recursive-descent parser read the subset of the
language that defines the contract (package, messages with nested types, oneofs, maps,
reserved ranges, enums, services, rpcs and their option blocks).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from backend_agent.analysis.endpoints.model import (
    Compatibility,
    ContractChange,
    Endpoint,
    Inventory,
    Unresolved,
    normalise_path,
)
from backend_agent.analysis.project import Project

_TOKEN = re.compile(
    r"""(?P<space>\s+)|(?P<comment>//[^\n]*|/\*.*?\*/)|"""
    r"""(?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|"""
    r"""(?P<number>[-+]?(?:0[xX][0-9a-fA-F]+|\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+))|"""
    r"""(?P<ident>[A-Za-z_][\w.]*)|(?P<symbol>[{}()\[\];=<>,:/.\-+])""",
    re.DOTALL,
)
_HTTP_VERBS = ("get", "put", "post", "delete", "patch")
# Scalar types that read each other's wire data (changing between them is not always safe).
_WIRE_GROUPS = (
    {"int32", "uint32", "int64", "uint64", "bool"},
    {"sint32", "sint64"},
    {"fixed32", "sfixed32"},
    {"fixed64", "sfixed64"},
    {"string", "bytes"},
)
_MAX_FIELD = 536_870_911


class ProtoSyntaxError(ValueError):
    """The file is not valid protobuf in the subset we read."""


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    line: int


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    line = 1
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise ProtoSyntaxError(f"line {line}: unexpected character {source[position]!r}")
        kind = match.lastgroup or ""
        text = match.group()
        if kind not in ("space", "comment"):
            tokens.append(Token(kind, text, line))
        line += text.count("\n")
        position = match.end()
    return tokens


@dataclass
class Field:
    name: str
    number: int
    type: str
    label: str  # "", "optional", "required", "repeated" or "map"
    line: int


@dataclass
class Message:
    name: str  # full name within the package, e.g. "Book.Author"
    line: int
    fields: dict[str, Field] = field(default_factory=dict)
    reserved_numbers: set[int] = field(default_factory=set)
    reserved_ranges: list[tuple[int, int]] = field(default_factory=list)
    reserved_names: set[str] = field(default_factory=set)

    def reserves(self, number: int) -> bool:
        return number in self.reserved_numbers or any(
            a <= number <= b for a, b in self.reserved_ranges
        )


@dataclass
class Enum:
    name: str
    line: int
    values: dict[str, int] = field(default_factory=dict)
    reserved_numbers: set[int] = field(default_factory=set)
    reserved_names: set[str] = field(default_factory=set)


@dataclass
class HttpRule:
    method: str
    path: str
    body: str


@dataclass
class Rpc:
    name: str
    request: str
    response: str
    client_streaming: bool
    server_streaming: bool
    line: int
    http: list[HttpRule] = field(default_factory=list)


@dataclass
class Service:
    name: str
    line: int
    rpcs: dict[str, Rpc] = field(default_factory=dict)


@dataclass
class ProtoFile:
    package: str = ""
    syntax: str = "proto2"
    messages: dict[str, Message] = field(default_factory=dict)
    enums: dict[str, Enum] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)


def parse_proto(source: str) -> ProtoFile:
    """Parse a .proto file; raises ProtoSyntaxError with the line on malformed input."""
    return _Parser(tokenize(source)).file()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.proto = ProtoFile()

    # ---- token helpers -------------------------------------------------------------------

    def peek(self, offset: int = 0) -> Token | None:
        position = self.index + offset
        return self.tokens[position] if position < len(self.tokens) else None

    def text_at(self, offset: int) -> str:
        token = self.peek(offset)
        return token.text if token is not None else ""

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            last = self.tokens[-1].line if self.tokens else 1
            raise ProtoSyntaxError(f"line {last}: unexpected end of file")
        self.index += 1
        return token

    def accept(self, text: str) -> bool:
        token = self.peek()
        if token is not None and token.text == text and token.kind != "string":
            self.index += 1
            return True
        return False

    def expect(self, text: str) -> Token:
        token = self.next()
        if token.text != text:
            raise ProtoSyntaxError(f"line {token.line}: expected {text!r}, found {token.text!r}")
        return token

    def ident(self) -> Token:
        token = self.next()
        if token.kind != "ident" and not (token.text == "." and self.peek() is not None):
            raise ProtoSyntaxError(f"line {token.line}: expected a name, found {token.text!r}")
        if token.text == ".":  # fully qualified type: .pkg.Type
            inner = self.ident()
            return Token("ident", "." + inner.text, token.line)
        return token

    def integer(self) -> int:
        token = self.next()
        try:
            return int(token.text, 0)
        except ValueError:
            if token.text == "max":
                return _MAX_FIELD
            raise ProtoSyntaxError(
                f"line {token.line}: expected a number, found {token.text!r}"
            ) from None

    # ---- grammar -------------------------------------------------------------------------

    def file(self) -> ProtoFile:
        while self.peek() is not None:
            token = self.next()
            word = token.text
            if word in ("syntax", "edition"):
                self.expect("=")
                self.proto.syntax = self.string()
                self.expect(";")
            elif word == "package":
                self.proto.package = self.ident().text
                self.expect(";")
            elif word == "import":
                self.accept("public") or self.accept("weak")
                self.string()
                self.expect(";")
            elif word == "option":
                self.option_statement()
            elif word == "message":
                self.message("")
            elif word == "enum":
                self.enum("")
            elif word == "service":
                self.service(token.line)
            elif word == "extend":
                self.ident()
                self.skip_block()
            elif word != ";":
                raise ProtoSyntaxError(f"line {token.line}: unexpected {word!r}")
        return self.proto

    def string(self) -> str:
        token = self.next()
        if token.kind != "string":
            raise ProtoSyntaxError(f"line {token.line}: expected a string, found {token.text!r}")
        text = token.text[1:-1]
        while (following := self.peek()) is not None and following.kind == "string":
            text += self.next().text[1:-1]
        return text

    def option_statement(self) -> tuple[str, Any]:
        name = self.option_name()
        self.expect("=")
        value = self.constant()
        self.expect(";")
        return name, value

    def option_name(self) -> str:
        parts: list[str] = []
        while True:
            if self.accept("("):
                parts.append("(" + self.ident().text + ")")
                self.expect(")")
            else:
                parts.append(self.ident().text)
            token = self.peek()
            if token is None or token.text in ("=", "]", ","):
                break
            if token.text == ".":
                self.next()
            elif token.kind == "ident" and token.text.startswith("."):
                continue
            else:
                break
        return ".".join(p.lstrip(".") for p in parts)

    def constant(self) -> Any:
        token = self.peek()
        if token is None:
            raise ProtoSyntaxError("unexpected end of file in an option value")
        if token.text == "{":
            return self.aggregate()
        if token.kind == "string":
            return self.string()
        if token.text == "[":
            self.next()
            items = []
            while not self.accept("]"):
                items.append(self.constant())
                self.accept(",")
            return items
        if token.text in ("-", "+"):
            self.next()
        return self.next().text

    def aggregate(self) -> list[tuple[str, Any]]:
        """A text-format message value: ``{ key: value key { ... } }``."""
        self.expect("{")
        pairs: list[tuple[str, Any]] = []
        while not self.accept("}"):
            if self.accept("["):  # extension name in text format
                key = self.ident().text
                self.expect("]")
            else:
                key = self.ident().text
            self.accept(":")
            pairs.append((key, self.constant()))
            self.accept(",") or self.accept(";")
        return pairs

    def field_options(self) -> None:
        if self.accept("["):
            while not self.accept("]"):
                self.option_name()
                self.expect("=")
                self.constant()
                self.accept(",")

    def message(self, outer: str) -> None:
        name_token = self.ident()
        full = f"{outer}.{name_token.text}" if outer else name_token.text
        message = Message(full, name_token.line)
        self.proto.messages[full] = message
        self.expect("{")
        self.message_body(message)

    def message_body(self, message: Message) -> None:
        while not self.accept("}"):
            token = self.peek()
            if token is None:
                raise ProtoSyntaxError(f"line {message.line}: message {message.name} is not closed")
            word = token.text
            if word == ";":
                self.next()
            elif word == "option":
                self.next()
                self.option_statement()
            elif word == "message" and self.is_declaration():
                self.next()
                self.message(message.name)
            elif word == "enum" and self.is_declaration():
                self.next()
                self.enum(message.name)
            elif word == "oneof" and self.is_declaration():
                self.next()
                self.ident()
                self.expect("{")
                self.message_body(message)  # a oneof's fields belong to the message
            elif word == "reserved":
                self.next()
                self.reserved(
                    message.reserved_numbers, message.reserved_ranges, message.reserved_names
                )
            elif word in ("extensions", "extend"):
                self.next()
                if word == "extend":
                    self.ident()
                    self.skip_block()
                else:
                    self.skip_statement()
            elif word == "map" and self.text_at(1) == "<":
                self.next()
                self.expect("<")
                key = self.ident().text
                self.expect(",")
                value = self.ident().text
                self.expect(">")
                self.field(message, f"map<{key},{value}>", "map")
            else:
                label = ""
                if word in ("optional", "required", "repeated") and not self.is_type_named(word):
                    label = self.next().text
                type_token = self.ident()
                if type_token.text == "group":
                    raise ProtoSyntaxError(f"line {type_token.line}: groups are not supported")
                self.field(message, type_token.text, label)

    def is_declaration(self) -> bool:
        """``message Foo {`` versus a field whose type is literally named ``message``."""
        following = self.peek(2)
        return following is not None and following.text == "{"

    def is_type_named(self, word: str) -> bool:
        following = self.peek(2)
        return following is not None and following.text == "="

    def field(self, message: Message, type_name: str, label: str) -> None:
        name = self.ident()
        self.expect("=")
        number = self.integer()
        self.field_options()
        self.expect(";")
        message.fields[name.text] = Field(name.text, number, type_name, label, name.line)

    def reserved(self, numbers: set[int], ranges: list[tuple[int, int]], names: set[str]) -> None:
        while not self.accept(";"):
            token = self.peek()
            if token is not None and token.kind == "string":
                names.add(self.string())
            elif token is not None and token.kind == "ident" and token.text not in ("to", "max"):
                names.add(self.next().text)  # editions: reserved foo;
            else:
                low = self.integer()
                if self.accept("to"):
                    high = self.integer()
                    ranges.append((low, high))
                else:
                    numbers.add(low)
            self.accept(",")

    def enum(self, outer: str) -> None:
        name_token = self.ident()
        full = f"{outer}.{name_token.text}" if outer else name_token.text
        enum = Enum(full, name_token.line)
        self.proto.enums[full] = enum
        self.expect("{")
        while not self.accept("}"):
            token = self.next()
            if token.text == ";":
                continue
            if token.text == "option":
                self.option_statement()
            elif token.text == "reserved":
                ranges: list[tuple[int, int]] = []
                self.reserved(enum.reserved_numbers, ranges, enum.reserved_names)
                for low, high in ranges:
                    enum.reserved_numbers.update(range(low, min(high, low + 10_000) + 1))
            else:
                self.expect("=")
                enum.values[token.text] = self.integer()
                self.field_options()
                self.expect(";")

    def service(self, line: int) -> None:
        name = self.ident().text
        service = Service(name, line)
        self.proto.services[name] = service
        self.expect("{")
        while not self.accept("}"):
            token = self.next()
            if token.text == ";":
                continue
            if token.text == "option":
                self.option_statement()
            elif token.text == "rpc":
                rpc = self.rpc(token.line)
                service.rpcs[rpc.name] = rpc
            else:
                raise ProtoSyntaxError(
                    f"line {token.line}: unexpected {token.text!r} in service {name}"
                )

    def rpc(self, line: int) -> Rpc:
        name = self.ident().text
        self.expect("(")
        client = self.accept("stream") if self.text_at(1) not in (")", "") else False
        request = self.ident().text
        self.expect(")")
        self.expect("returns")
        self.expect("(")
        server = self.accept("stream") if self.text_at(1) not in (")", "") else False
        response = self.ident().text
        self.expect(")")
        rpc = Rpc(name, request, response, client, server, line)
        if self.accept("{"):
            while not self.accept("}"):
                token = self.next()
                if token.text == "option":
                    option, value = self.option_statement()
                    if option == "(google.api.http)" and isinstance(value, list):
                        rpc.http += _http_rules(value)
                elif token.text != ";":
                    raise ProtoSyntaxError(
                        f"line {token.line}: unexpected {token.text!r} in rpc {name}"
                    )
        else:
            self.expect(";")
        return rpc

    def skip_block(self) -> None:
        self.expect("{")
        depth = 1
        while depth:
            token = self.next()
            depth += {"{": 1, "}": -1}.get(token.text, 0) if token.kind == "symbol" else 0

    def skip_statement(self) -> None:
        while self.next().text != ";":
            pass


def _http_rules(value: list[tuple[str, Any]]) -> list[HttpRule]:
    rules: list[HttpRule] = []
    fields = dict(value)
    body = str(fields.get("body", ""))
    for key, item in value:
        if key in _HTTP_VERBS and isinstance(item, str):
            rules.append(HttpRule(key.upper(), item, body))
        elif key == "custom" and isinstance(item, list):
            custom = dict(item)
            rules.append(
                HttpRule(str(custom.get("kind", "")).upper(), str(custom.get("path", "")), body)
            )
        elif key == "additional_bindings" and isinstance(item, list):
            rules += _http_rules(item)
    return rules


def http_path(template: str) -> str:
    """A google.api.http path template as a normalised path.

    ``/v1/{name=shelves/*}`` -> ``/v1/shelves/{name}``: literal segments of a variable's
    pattern stay, its last wildcard takes the variable's name, earlier ones are numbered.
    """

    def expand(match: re.Match[str]) -> str:
        name, pattern = match.group(1), match.group(2)
        if pattern is None:
            return "{" + name + "}"
        segments = pattern.split("/")
        stars = [i for i, s in enumerate(segments) if s in ("*", "**")]
        for count, index in enumerate(stars):
            segments[index] = "{" + (name if index == stars[-1] else f"{name}_{count + 1}") + "}"
        return "/".join(segments)

    return normalise_path(re.sub(r"\{([\w.]+)(?:=([^}]*))?\}", expand, template))


# ---- extractor ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProtoFacts:
    proto: ProtoFile | None
    error: str


class GrpcExtractor:
    """gRPC services of .proto files, and the REST endpoints of their HTTP annotations."""

    name = "grpc"
    version = 1

    def wants(self, path: str) -> bool:
        return path.endswith(".proto")

    def scan(self, path: str, source: bytes) -> ProtoFacts:
        try:
            return ProtoFacts(parse_proto(source.decode("utf-8", "replace")), "")
        except ProtoSyntaxError as error:
            return ProtoFacts(None, str(error))

    def resolve(self, facts: Mapping[str, Any], project: Project) -> Inventory:
        endpoints: list[Endpoint] = []
        unresolved: list[Unresolved] = []
        for path, fact in facts.items():
            if not isinstance(fact, ProtoFacts):
                continue
            if fact.proto is None:
                unresolved.append(Unresolved(path, 1, "", f"proto file not parsed: {fact.error}"))
                continue
            package = f"{fact.proto.package}." if fact.proto.package else ""
            for service in fact.proto.services.values():
                for rpc in service.rpcs.values():
                    handler = f"{service.name}.{rpc.name}"
                    endpoints.append(
                        Endpoint(
                            "grpc",
                            "RPC",
                            f"/{package}{service.name}/{rpc.name}",
                            "unknown",
                            "grpc",
                            handler,
                            path,
                            rpc.line,
                        )
                    )
                    for rule in rpc.http:
                        endpoints.append(
                            Endpoint(
                                "rest",
                                rule.method,
                                http_path(rule.path),
                                "unknown",
                                "grpc-gateway",
                                handler,
                                path,
                                rpc.line,
                            )
                        )
        return Inventory(endpoints, unresolved).sorted()


extractor = GrpcExtractor()


# ---- contract diff --------------------------------------------------------------------------


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
