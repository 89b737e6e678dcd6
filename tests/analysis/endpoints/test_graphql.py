"""GraphQL SDL operations and schema diffs."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from backend_agent.analysis.endpoints.graphql import (
    extractor,
    gqlgen_schema_globs,
    schema_changes,
    sdl_operations,
)
from backend_agent.analysis.project import Project

FIXTURE = Path(__file__).parents[2] / "fixtures" / "endpoints" / "graphql"

BASE = '''
"""A person."""
type User {
  id: ID!
  name: String
  email: String
}
enum Role { ADMIN MEMBER }
type Query {
  user(id: ID!): User
  users(role: Role): [User!]!
}
'''


def test_schema_files_split_over_documents_match_expected_inventory() -> None:
    project = Project(FIXTURE)
    facts = {
        f: extractor.scan(f, project.read_bytes(f)) for f in project.files() if extractor.wants(f)
    }
    found = extractor.resolve(facts, project)
    rows = sorted([e.kind, e.method, e.path, e.auth, e.framework, e.file] for e in found.endpoints)
    assert rows == json.loads((FIXTURE / "expected.json").read_text())["endpoints"]
    # the schema { query: RootQuery } in one file names the root of an extension in another
    # and gqlgen.yml's `schema:` globs mark the files as gqlgen's
    assert [
        "graphql",
        "QUERY",
        "me",
        "required",
        "gqlgen",
        "graph/schema/subscriptions.graphqls",
    ] in rows


def test_gqlgen_config_schema_globs() -> None:
    assert gqlgen_schema_globs("schema:\n  - graph/*.graphqls\n  - api/**/*.graphql\n") == (
        "graph/*.graphqls",
        "api/**/*.graphql",
    )
    assert gqlgen_schema_globs("schema: schema.graphql\n") == ("schema.graphql",)
    assert gqlgen_schema_globs("schema: [unclosed\n") == ()


def test_client_documents_and_invalid_sdl_yield_no_operations() -> None:
    assert sdl_operations("query Q { users { id } }") == []
    assert sdl_operations("type Query {") == []


def rules(old: str, new: str) -> dict[str, str]:
    return {c.rule: c.compatibility for c in schema_changes(old, new, "schema.graphql")}


def test_removed_field_is_breaking_with_its_line() -> None:
    changes = schema_changes(BASE, BASE.replace("  email: String\n", ""), "schema.graphql")
    removed = [c for c in changes if c.rule == "graphql.field-removed"]
    assert len(removed) == 1 and removed[0].compatibility == "breaking"
    assert "User.email" in removed[0].message
    assert removed[0].line == BASE.splitlines().index("type User {") + 1


def test_required_argument_breaks_and_enum_value_is_dangerous() -> None:
    new = BASE.replace("users(role: Role)", "users(role: Role, org: ID!)").replace(
        "MEMBER }", "MEMBER GUEST }"
    )
    found = rules(BASE, new)
    assert found["graphql.required-arg-added"] == "breaking"
    assert found["graphql.value-added-to-enum"] == "possibly-breaking"


def test_description_deprecation_and_additions_are_non_breaking() -> None:
    new = BASE.replace('"""A person."""', '"""A registered person."""').replace(
        "  name: String\n",
        '  name: String @deprecated(reason: "use fullName")\n  fullName: String\n',
    )
    assert rules(BASE, new) == {
        "graphql.description-changed": "non-breaking",
        "graphql.field-deprecated": "non-breaking",
        "graphql.field-added": "non-breaking",
    }


def test_schema_that_stops_parsing_is_reported() -> None:
    assert rules(BASE, "type Query {") == {"graphql.schema-invalid": "possibly-breaking"}


NAMES = st.from_regex(r"[a-z][a-zA-Z0-9]{0,8}", fullmatch=True)


@settings(max_examples=40, deadline=None)
@given(fields=st.lists(NAMES, min_size=1, max_size=6, unique=True), dropped=st.integers(0, 5))
def test_removing_any_root_field_is_reported_as_breaking(fields: list[str], dropped: int) -> None:
    old = "type Query {\n" + "".join(f"  {f}: String\n" for f in fields) + "}\n"
    assert schema_changes(old, old, "s.graphql") == []
    assert [op.name for op in sdl_operations(old)] == fields
    gone = fields[dropped % len(fields)]
    if len(fields) > 1:
        new = old.replace(f"  {gone}: String\n", "")
        found = [c for c in schema_changes(old, new, "s.graphql") if c.compatibility == "breaking"]
        assert [c.rule for c in found] == ["graphql.field-removed"]
        assert f"Query.{gone}" in found[0].message
