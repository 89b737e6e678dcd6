"""gRPC .proto services (with google.api.http mappings) and proto compatibility diffs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend_agent.analysis.endpoints.grpc import (
    ProtoSyntaxError,
    extractor,
    http_path,
    parse_proto,
    proto_changes,
)
from backend_agent.analysis.project import Project

FIXTURE = Path(__file__).parents[2] / "fixtures" / "endpoints" / "grpc"
PROTO = (FIXTURE / "proto" / "library" / "v1" / "library.proto").read_text()


def test_fixture_matches_expected_inventory() -> None:
    project = Project(FIXTURE)
    facts = {
        f: extractor.scan(f, project.read_bytes(f)) for f in project.files() if extractor.wants(f)
    }
    found = extractor.resolve(facts, project)
    rows = sorted([e.kind, e.method, e.path, e.auth, e.framework, e.file] for e in found.endpoints)
    assert rows == json.loads((FIXTURE / "expected.json").read_text())["endpoints"]


def test_parser_reads_nested_messages_oneofs_maps_and_reserved() -> None:
    proto = parse_proto(PROTO)
    assert proto.package == "library.v1"
    book = proto.messages["Book"]
    assert {name: (f.number, f.type, f.label) for name, f in book.fields.items()} == {
        "name": (1, "string", ""),
        "authors": (2, "Author", "repeated"),
        "labels": (3, "map<string,string>", "map"),
        "on_loan": (4, "bool", ""),
        "due_date": (5, "string", ""),
        "genre": (6, "Genre", ""),
    }
    assert "Book.Author" in proto.messages
    shelf = proto.messages["Shelf"]
    assert shelf.reserves(3) and shelf.reserves(11) and not shelf.reserves(4)
    assert shelf.reserved_names == {"location"}
    watch = proto.services["LibraryService"].rpcs["WatchShelf"]
    assert (watch.client_streaming, watch.server_streaming) == (False, True)


def test_http_templates_keep_literal_segments() -> None:
    assert http_path("/v1/{name=shelves/*}") == "/v1/shelves/{name}"
    assert (
        http_path("/v1/{name=shelves/*/books/*}:archive")
        == "/v1/shelves/{name_1}/books/{name}:archive"
    )
    assert http_path("/v1/{id}") == "/v1/{id}"


def test_syntax_error_names_the_line() -> None:
    with pytest.raises(ProtoSyntaxError, match="line 3"):
        parse_proto('syntax = "proto3";\nmessage A {\n  string = 1;\n}\n')


def changes(new: str) -> list[tuple[str, str]]:
    return sorted((c.rule, c.compatibility) for c in proto_changes(PROTO, new, "library.proto"))


def test_removed_rpc_and_field_without_reserved_are_breaking() -> None:
    new = PROTO.replace("  rpc WatchShelf(GetShelfRequest) returns (stream Shelf);\n", "")
    new = new.replace(" int32 page_size = 2;", "")
    assert changes(new) == [
        ("grpc.field-removed-without-reserved", "breaking"),
        ("grpc.rpc-removed", "breaking"),
    ]


def test_field_removed_with_reserved_is_only_possibly_breaking() -> None:
    new = PROTO.replace("  string theme = 2;\n", "").replace("reserved 3, 10", "reserved 2, 3, 10")
    assert changes(new) == [("grpc.field-removed", "possibly-breaking")]


def test_number_type_and_enum_changes() -> None:
    new = (
        PROTO.replace("string theme = 2;", "string theme = 7;")
        .replace("int32 page_size = 2;", "int64 page_size = 2;")
        .replace("  HISTORY = 2;\n", "")
        .replace("string due_date = 5;", "int32 due_date = 5;")
    )
    assert changes(new) == [
        ("grpc.enum-value-removed", "breaking"),
        ("grpc.field-number-changed", "breaking"),
        ("grpc.field-type-changed", "breaking"),  # string -> int32
        ("grpc.field-type-changed", "possibly-breaking"),  # int32 -> int64 share a wire type
    ]


def test_reusing_a_reserved_number_and_dropping_an_http_binding() -> None:
    new = PROTO.replace("string theme = 2;", "string theme = 2;\n  string floor = 11;").replace(
        '      additional_bindings { get: "/v1/books" }\n', ""
    )
    assert changes(new) == [
        ("grpc.http-binding-removed", "breaking"),
        ("grpc.reserved-field-reused", "breaking"),
    ]


FIELD_NAMES = st.lists(
    st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True), min_size=1, max_size=8, unique=True
)
TYPES = st.sampled_from(["string", "int32", "int64", "bool", "bytes", "double", "Other"])


@settings(max_examples=60, deadline=None)
@given(names=FIELD_NAMES, types=st.lists(TYPES, min_size=8, max_size=8), data=st.data())
def test_generated_messages_parse_back_and_diff_empty(
    names: list[str], types: list[str], data: st.DataObject
) -> None:
    numbers = data.draw(
        st.lists(st.integers(1, 18999), min_size=len(names), max_size=len(names), unique=True)
    )
    body = "".join(f"  {types[i]} {name} = {numbers[i]};\n" for i, name in enumerate(names))
    source = f'syntax = "proto3";\npackage gen.v1;\nmessage Other {{}}\nmessage M {{\n{body}}}\n'
    fields = parse_proto(source).messages["M"].fields
    assert {n: (f.number, f.type) for n, f in fields.items()} == {
        n: (numbers[i], types[i]) for i, n in enumerate(names)
    }
    assert proto_changes(source, source, "m.proto") == []
    victim = names[0]
    without = source.replace(f"  {types[0]} {victim} = {numbers[0]};\n", "")
    assert [c.rule for c in proto_changes(source, without, "m.proto")] == [
        "grpc.field-removed-without-reserved"
    ]


def test_reader_keeps_lines_and_reads_list_bindings_groups_and_editions() -> None:
    proto = parse_proto(
        'edition = "2023";\n'
        "package shop.v1;\n"
        'import "google/api/annotations.proto";\n'
        "message Order {\n"
        "  string id = 1;\n"
        '  string note = 2 [(validate.rules).string = {max_len: 10, prefix: "n"}];\n'
        "}\n"
        "service Orders {\n"
        "  rpc Update(Order) returns (Order) {\n"
        "    option (google.api.http) = {\n"
        '      put: "/v1/orders/{id}" body: "*"\n'
        '      additional_bindings: [{patch: "/v1/orders/{id}"},\n'
        '                            {post: "/v1/orders/{id}:update"}]\n'
        "    };\n"
        "  }\n"
        "}\n"
    )
    assert proto.syntax == "2023"
    assert proto.messages["Order"].line == 4
    assert proto.messages["Order"].fields["note"].line == 6
    update = proto.services["Orders"].rpcs["Update"]
    assert update.line == 9
    assert [(rule.method, rule.path) for rule in update.http] == [
        ("PUT", "/v1/orders/{id}"),
        ("PATCH", "/v1/orders/{id}"),
        ("POST", "/v1/orders/{id}:update"),
    ]
    legacy = parse_proto(
        'syntax = "proto2";\nmessage Search {\n'
        "  repeated group Result = 1 { required string url = 2; }\n}\n"
    )
    assert legacy.messages["Search"].fields["result"].label == "repeated"
    assert legacy.messages["Search.Result"].fields["url"].label == "required"


def test_unparsable_proto_is_unresolved_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "bad.proto").write_text(
        'syntax = "proto3";\nservice S {\n  rpc M(A) returns B;\n}\n'
    )
    project = Project(tmp_path)
    facts = {"bad.proto": extractor.scan("bad.proto", project.read_bytes("bad.proto"))}
    [unresolved] = extractor.resolve(facts, project).unresolved
    assert unresolved.line == 3 and "proto file not parsed" in unresolved.reason
