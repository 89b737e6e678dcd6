"""GraphQL: operations from SDL files (and from SDL embedded in code), and schema diffs.

Each field of the root types (``Query``, ``Mutation``, ``Subscription`` or those named by a
``schema { ... }`` definition) is one endpoint: method ``QUERY|MUTATION|SUBSCRIPTION``,
path = the field name. Schema changes come from graphql-core's breaking/dangerous change
finders plus description and deprecation comparisons.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from backend_agent.analysis.endpoints.model import (
    Auth,
    Compatibility,
    ContractChange,
    Endpoint,
    Inventory,
)
from backend_agent.analysis.project import Project

if TYPE_CHECKING:
    from graphql import GraphQLSchema

SDL_SUFFIXES = (".graphql", ".gql", ".graphqls")
GQLGEN_CONFIGS = ("gqlgen.yml", "gqlgen.yaml")
_ROOTS = {"query": "QUERY", "mutation": "MUTATION", "subscription": "SUBSCRIPTION"}
_AUTH_DIRECTIVE = re.compile(r"auth|authenticated|requires?(scope|role|login)|hasrole|login", re.I)


@dataclass(frozen=True)
class Operation:
    method: str  # QUERY | MUTATION | SUBSCRIPTION
    name: str
    type_name: str
    line: int  # 1-based, within the SDL text
    auth: Auth


@dataclass(frozen=True)
class SdlFacts:
    """One SDL document: its root type names (if declared) and every object type's fields."""

    roots: tuple[tuple[str, str], ...]  # (operation, type name) from `schema { ... }`
    fields: tuple[tuple[str, str, int, Auth], ...]  # (type name, field, line, auth)


def sdl_facts(sdl: str) -> SdlFacts | None:
    """Root declarations and object fields of an SDL document; None when it does not parse."""
    from graphql import GraphQLError, parse
    from graphql.language import (
        ObjectTypeDefinitionNode,
        ObjectTypeExtensionNode,
        SchemaDefinitionNode,
        SchemaExtensionNode,
    )

    try:
        document = parse(sdl, no_location=False)
    except GraphQLError:
        return None
    roots: list[tuple[str, str]] = []
    fields: list[tuple[str, str, int, Auth]] = []
    for definition in document.definitions:
        if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            for op in definition.operation_types or ():
                roots.append((op.operation.value, op.type.name.value))
        elif isinstance(definition, ObjectTypeDefinitionNode | ObjectTypeExtensionNode):
            type_auth = _directive_auth(definition.directives)
            for field in definition.fields or ():
                auth = _directive_auth(field.directives) or type_auth or "unknown"
                line = field.loc.source.get_location(field.loc.start).line if field.loc else 1
                fields.append((definition.name.value, field.name.value, line, auth))
    return SdlFacts(tuple(roots), tuple(fields))


def _directive_auth(directives: Any) -> Auth | None:
    for directive in directives or ():
        if _AUTH_DIRECTIVE.search(directive.name.value):
            return "required"
    return None


def operations(documents: list[SdlFacts]) -> list[Operation]:
    """The root fields of a schema split over several documents."""
    roots = {op: name for doc in documents for op, name in doc.roots}
    by_type = {roots.get(op, op.capitalize()): method for op, method in _ROOTS.items()}
    return [
        Operation(by_type[type_name], field, type_name, line, auth)
        for doc in documents
        for type_name, field, line, auth in doc.fields
        if type_name in by_type
    ]


def sdl_operations(sdl: str) -> list[Operation]:
    """Operations declared by one SDL text (e.g. an Apollo ``gql`` template literal)."""
    facts = sdl_facts(sdl)
    return operations([facts]) if facts is not None else []


class GraphQLExtractor:
    """Operations of ``.graphql``/``.gql``/``.graphqls`` schema files (gqlgen, Apollo, ...)."""

    name = "graphql"
    version = 2

    def wants(self, path: str) -> bool:
        return path.lower().endswith(SDL_SUFFIXES) or path.rsplit("/", 1)[-1] in GQLGEN_CONFIGS

    def scan(self, path: str, source: bytes) -> SdlFacts | GqlgenConfig | None:
        text = source.decode("utf-8", "replace")
        if path.rsplit("/", 1)[-1] in GQLGEN_CONFIGS:
            return GqlgenConfig(gqlgen_schema_globs(text))
        return sdl_facts(text)

    def resolve(self, facts: Mapping[str, Any], project: Project) -> Inventory:
        documents = {p: f for p, f in facts.items() if isinstance(f, SdlFacts)}
        gqlgen = [
            posixpath.join(posixpath.dirname(p), glob)
            for p, f in facts.items()
            if isinstance(f, GqlgenConfig)
            for glob in f.schema_globs
        ]
        roots = tuple(r for doc in documents.values() for r in doc.roots)
        endpoints = []
        for path, doc in documents.items():
            framework = "gqlgen" if any(_glob_match(path, g) for g in gqlgen) else "graphql"
            for op in operations([SdlFacts(roots, doc.fields)]):
                endpoints.append(
                    Endpoint(
                        "graphql",
                        op.method,
                        op.name,
                        op.auth,
                        framework,
                        op.type_name,
                        path,
                        op.line,
                    )
                )
        return Inventory(endpoints, []).sorted()


@dataclass(frozen=True)
class GqlgenConfig:
    """The ``schema:`` globs of a gqlgen.yml (relative to its directory)."""

    schema_globs: tuple[str, ...]


def gqlgen_schema_globs(config: str) -> tuple[str, ...]:
    """The ``schema:`` entry of gqlgen.yml: one glob or a list of them."""
    import yaml

    try:
        data = yaml.safe_load(config)
    except yaml.YAMLError:
        return ()
    schema = data.get("schema") if isinstance(data, dict) else None
    if isinstance(schema, str):
        return (schema,)
    return tuple(str(item) for item in schema) if isinstance(schema, list) else ()


def _glob_match(path: str, pattern: str) -> bool:
    """gqlgen globs: ``*`` within a directory, ``**`` across directories."""
    pattern = posixpath.normpath(pattern)
    regex = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
    return re.fullmatch(regex, path) is not None


extractor = GraphQLExtractor()


# ---- schema diff ----------------------------------------------------------------------------


def _schema(sdl: str) -> GraphQLSchema:
    """Build a schema leniently: validation is skipped, so partial schemas still compare."""
    from graphql import build_ast_schema, parse

    return build_ast_schema(parse(sdl), assume_valid=True, assume_valid_sdl=True)


def schema_changes(old_sdl: str, new_sdl: str, file: str) -> list[ContractChange]:
    """Classified differences between two versions of one GraphQL schema file."""
    from graphql import GraphQLError, find_breaking_changes, find_dangerous_changes

    try:
        old = _schema(old_sdl)
    except (GraphQLError, TypeError):
        return []
    try:
        new = _schema(new_sdl)
    except (GraphQLError, TypeError) as error:
        message = str(error).splitlines()[0]
        return [
            ContractChange(
                "graphql.schema-invalid",
                "possibly-breaking",
                f"the schema no longer parses: {message}",
                file,
                1,
                "graphql",
            )
        ]
    changes = [
        _change(str(c.type.name), "breaking", c.description, new_sdl, file)
        for c in find_breaking_changes(old, new)
    ]
    changes += [
        _change(str(c.type.name), "possibly-breaking", c.description, new_sdl, file)
        for c in find_dangerous_changes(old, new)
    ]
    changes += _additions_and_metadata(old, new, new_sdl, file)
    return changes


def _change(
    kind: str, compatibility: Compatibility, description: str, sdl: str, file: str
) -> ContractChange:
    rule = "graphql." + kind.lower().replace("_", "-")
    return ContractChange(
        rule, compatibility, description, file, _line_of(sdl, description), "graphql"
    )


def _line_of(sdl: str, description: str) -> int:
    """Best line for a change: the field or type the message names, if still in the file.

    graphql-core words its messages differently across versions ("User.email was removed." or
    "Field User.email was removed."; "B was removed from enum type Role."), so look for a
    dotted ``Type.member`` first, then for any word that names a type defined in ``sdl``.
    """
    lines = sdl.splitlines()
    dotted = re.search(r"\b(\w+)\.(\w+)", description)
    candidates = [dotted.groups()] if dotted else []
    candidates += [(word, None) for word in re.findall(r"\b[A-Za-z_]\w*\b", description)]
    for type_name, member in candidates:
        start = next(
            (
                i
                for i, text in enumerate(lines)
                if re.search(rf"{_TYPE_KEYWORDS}\s+{type_name}\b", text)
            ),
            None,
        )
        if start is None:
            continue
        if member:
            for offset, text in enumerate(lines[start:]):
                if re.match(rf"\s*{member}\b", text):
                    return start + offset + 1
        return start + 1
    return 1


_TYPE_KEYWORDS = r"\b(?:type|input|interface|enum|union|scalar)"


def _additions_and_metadata(
    old: GraphQLSchema, new: GraphQLSchema, sdl: str, file: str
) -> list[ContractChange]:
    """Added types and fields, and description or deprecation changes (all non-breaking)."""
    from graphql import (
        GraphQLEnumType,
        GraphQLInputObjectType,
        GraphQLInterfaceType,
        GraphQLObjectType,
    )

    changes: list[ContractChange] = []

    def note(rule: str, message: str) -> None:
        changes.append(
            ContractChange(
                f"graphql.{rule}", "non-breaking", message, file, _line_of(sdl, message), "graphql"
            )
        )

    for name, new_type in new.type_map.items():
        if name.startswith("__"):
            continue
        old_type = old.type_map.get(name)
        if old_type is None:
            note("type-added", f"{name} was added.")
            continue
        if (old_type.description or "") != (new_type.description or ""):
            note("description-changed", f"{name} description changed.")
        if isinstance(
            new_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType
        ) and isinstance(
            old_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType
        ):
            old_fields: dict[str, Any] = dict(old_type.fields)
            for field_name, field in new_type.fields.items():
                before = old_fields.get(field_name)
                if before is None:
                    if not isinstance(new_type, GraphQLInputObjectType):
                        note("field-added", f"{name}.{field_name} was added.")
                    continue
                _compare_metadata(f"{name}.{field_name}", before, field, note)
        if isinstance(new_type, GraphQLEnumType) and isinstance(old_type, GraphQLEnumType):
            for value_name, value in new_type.values.items():
                if value_name in old_type.values:
                    _compare_metadata(
                        f"{name}.{value_name}", old_type.values[value_name], value, note
                    )
    return changes


def _compare_metadata(label: str, before: Any, after: Any, note: Any) -> None:
    if (before.description or "") != (after.description or ""):
        note("description-changed", f"{label} description changed.")
    old_reason = getattr(before, "deprecation_reason", None)
    new_reason = getattr(after, "deprecation_reason", None)
    if old_reason is None and new_reason is not None:
        note("field-deprecated", f"{label} was deprecated: {new_reason}")
    elif old_reason is not None and new_reason is None:
        note("field-undeprecated", f"{label} is no longer deprecated.")
    elif old_reason != new_reason:
        note("deprecation-reason-changed", f"{label} deprecation reason changed.")
