"""Reading .proto files with proto-schema-parser (a maintained ANTLR grammar of proto2, proto3
and editions) into the contract model, with the line of every declaration.

proto-schema-parser reads one file without its imports, which suits per-file scanning and
comparing two texts of one file; protoc would need every import (googleapis, validate,
gogoproto, ...) to be present (docs/endpoints-frameworks.md, "gRPC", has the measurements).
Its syntax tree has no positions, so the parse tree's name tokens give the lines.
"""

from __future__ import annotations

from typing import Any

from antlr4.error.ErrorListener import ErrorListener
from antlr4.tree.Tree import ParseTreeListener
from proto_schema_parser import ast
from proto_schema_parser.parser import Parser

from backend_agent.analysis.endpoints.grpc.model import (
    Enum,
    Field,
    HttpRule,
    Message,
    ProtoFile,
    ProtoSyntaxError,
    Rpc,
    Service,
)

_HTTP_VERBS = ("get", "put", "post", "delete", "patch")
_MAX_FIELD = 536_870_911
_MAX_ENUM = 2_147_483_647
# Name contexts of the generated parser -> kind of declaration, for line numbers.
_NAMED = {
    "MessageNameContext": "message",
    "EnumNameContext": "enum",
    "ServiceNameContext": "service",
    "MethodNameContext": "rpc",
    "FieldNameContext": "field",
    "EnumValueNameContext": "value",
}
# Declarations whose names qualify the names inside them.
_SCOPES = {
    "MessageDeclContext": "messageName",
    "EnumDeclContext": "enumName",
    "ServiceDeclContext": "serviceName",
    "GroupDeclContext": "fieldName",
    "OneofGroupDeclContext": "fieldName",
}


def parse_proto(source: str) -> ProtoFile:
    """Parse a .proto file; raises ProtoSyntaxError with the line on malformed input."""
    lines = _Lines()

    def strict_lexer(lexer: Any) -> None:
        lexer.removeErrorListeners()
        lexer.addErrorListener(_Raise())

    def strict_parser(parser: Any) -> None:
        parser.removeErrorListeners()
        parser.addErrorListener(_Raise())
        parser.addParseListener(lines)

    tree = Parser(setup_lexer=strict_lexer, setup_parser=strict_parser).parse(source)
    return _Builder(lines.found).file(tree)


class _Raise(ErrorListener):  # type: ignore[misc]
    def syntaxError(
        self, recognizer: Any, offending: Any, line: int, column: int, msg: str, e: Any
    ) -> None:
        raise ProtoSyntaxError(f"line {line}: {msg}")


class _Lines(ParseTreeListener):  # type: ignore[misc]
    """(kind, qualified name) -> line of each named declaration, as the parser builds them."""

    def __init__(self) -> None:
        self.found: dict[tuple[str, str], int] = {}

    def exitEveryRule(self, ctx: Any) -> None:
        kind = _NAMED.get(type(ctx).__name__)
        if kind is None or type(ctx.parentCtx).__name__ == "MessageLiteralFieldNameContext":
            return  # a field name inside an option value is not a declaration
        names = [ctx.getText()]
        scope = ctx.parentCtx.parentCtx if ctx.parentCtx is not None else None
        while scope is not None:
            getter = _SCOPES.get(type(scope).__name__)
            name = getattr(scope, getter)() if getter else None
            if name is not None:
                names.append(name.getText())
            scope = scope.parentCtx
        self.found.setdefault((kind, ".".join(reversed(names))), ctx.start.line)


class _Builder:
    """proto-schema-parser's syntax tree -> the contract model."""

    def __init__(self, lines: dict[tuple[str, str], int]) -> None:
        self.lines = lines
        self.proto = ProtoFile()

    def line(self, kind: str, name: str) -> int:
        return self.lines.get((kind, name), 1)

    def file(self, tree: ast.File) -> ProtoFile:
        self.proto.syntax = tree.edition or tree.syntax or "proto2"
        for element in tree.file_elements:
            if isinstance(element, ast.Package):
                self.proto.package = element.name
            elif isinstance(element, ast.Message):
                self.message(element.name, element.elements)
            elif isinstance(element, ast.Enum):
                self.enum(element.name, element.elements)
            elif isinstance(element, ast.Service):
                self.service(element)
        return self.proto

    def message(self, name: str, elements: list[Any]) -> Message:
        message = Message(name, self.line("message", name))
        self.proto.messages[name] = message
        self.members(message, elements)
        return message

    def members(self, message: Message, elements: list[Any]) -> None:
        for element in elements:
            if isinstance(element, ast.Field):
                self.field(message, element.name, element.number, element.type, element)
            elif isinstance(element, ast.MapField):
                kind = f"map<{element.key_type},{element.value_type}>"
                self.field(message, element.name, element.number, kind, None, "map")
            elif isinstance(element, ast.Group):  # a field and a nested message in one
                self.field(message, element.name.lower(), element.number, element.name, element)
                self.message(f"{message.name}.{element.name}", element.elements)
            elif isinstance(element, ast.OneOf):  # a oneof's fields belong to the message
                self.members(message, element.elements)
            elif isinstance(element, ast.Message):
                self.message(f"{message.name}.{element.name}", element.elements)
            elif isinstance(element, ast.Enum):
                self.enum(f"{message.name}.{element.name}", element.elements)
            elif isinstance(element, ast.Reserved):
                message.reserved_names.update(element.names)
                for low, high in _ranges(element.ranges, _MAX_FIELD):
                    if low == high:
                        message.reserved_numbers.add(low)
                    else:
                        message.reserved_ranges.append((low, high))

    def field(
        self,
        message: Message,
        name: str,
        number: int,
        kind: str,
        declared: ast.Field | ast.Group | None,
        label: str = "",
    ) -> None:
        cardinality = declared.cardinality if declared is not None else None
        if cardinality is not None:
            label = cardinality.value.lower()
        line = self.line("field", f"{message.name}.{name}")
        message.fields[name] = Field(name, number, kind, label, line)

    def enum(self, name: str, elements: list[Any]) -> None:
        enum = Enum(name, self.line("enum", name))
        self.proto.enums[name] = enum
        for element in elements:
            if isinstance(element, ast.EnumValue):
                enum.values[element.name] = element.number
            elif isinstance(element, ast.EnumReserved):
                enum.reserved_names.update(element.names)
                for low, high in _ranges(element.ranges, _MAX_ENUM):
                    enum.reserved_numbers.update(range(low, min(high, low + 10_000) + 1))

    def service(self, declared: ast.Service) -> None:
        service = Service(declared.name, self.line("service", declared.name))
        self.proto.services[declared.name] = service
        for element in declared.elements:
            if not isinstance(element, ast.Method):
                continue
            rpc = Rpc(
                element.name,
                element.input_type.type,
                element.output_type.type,
                element.input_type.stream,
                element.output_type.stream,
                self.line("rpc", f"{declared.name}.{element.name}"),
            )
            for option in element.elements:
                if isinstance(option, ast.Option) and option.name == "(google.api.http)":
                    rpc.http += _http_rules(option.value)
            service.rpcs[element.name] = rpc


def _ranges(texts: list[str], maximum: int) -> list[tuple[int, int]]:
    """``["2", "5 to 9", "10 to max"]`` -> ``[(2, 2), (5, 9), (10, maximum)]``."""
    found: list[tuple[int, int]] = []
    for text in texts:
        low, _, high = (part.strip() for part in text.partition(" to "))
        start = int(low, 0)
        found.append((start, maximum if high == "max" else int(high, 0) if high else start))
    return found


def _http_rules(value: Any) -> list[HttpRule]:
    """The bindings of an ``option (google.api.http) = {...}`` value."""
    if not isinstance(value, ast.MessageLiteral):
        return []
    pairs = [(e.name, e.value) for e in value.elements if isinstance(e, ast.MessageLiteralField)]
    fields = dict(pairs)
    body = str(fields.get("body", ""))
    rules: list[HttpRule] = []
    for key, item in pairs:
        if key in _HTTP_VERBS and isinstance(item, str):
            rules.append(HttpRule(key.upper(), item, body))
        elif key == "custom" and isinstance(item, ast.MessageLiteral):
            custom = {
                e.name: e.value for e in item.elements if isinstance(e, ast.MessageLiteralField)
            }
            rules.append(
                HttpRule(str(custom.get("kind", "")).upper(), str(custom.get("path", "")), body)
            )
        elif key == "additional_bindings":
            for binding in item if isinstance(item, list) else [item]:
                rules += _http_rules(binding)
    return rules
