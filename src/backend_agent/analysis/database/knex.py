"""Knex migrations: ``knex.schema`` calls and the column builders of their table callbacks."""

from __future__ import annotations

from tree_sitter import Node

from backend_agent.analysis.database.js_syntax import (
    FUNCTIONS,
    Reader,
    calls,
    params,
    short,
    string_value,
)
from backend_agent.analysis.parsing import node_text

KNEX_COLUMN_TYPES = frozenset(
    {
        "increments",
        "bigIncrements",
        "integer",
        "bigInteger",
        "bigint",
        "tinyint",
        "smallint",
        "mediumint",
        "text",
        "string",
        "float",
        "double",
        "decimal",
        "boolean",
        "date",
        "datetime",
        "time",
        "timestamp",
        "binary",
        "enum",
        "enu",
        "json",
        "jsonb",
        "uuid",
        "specificType",
        "geometry",
        "geography",
        "point",
    }
)


def read(reader: Reader, body: Node) -> None:
    for call, method, owner, args in calls(body):
        first = string_value(args[0]) if args else None
        if method in ("createTable", "createTableIfNotExists"):
            reader.add("create-table", call, table=first)
        elif method in ("dropTable", "dropTableIfExists"):
            reader.add("drop-table", call, table=first)
        elif method == "renameTable" and len(args) > 1:
            reader.add("rename-table", call, table=first, new_name=string_value(args[1]))
        elif (
            method in ("alterTable", "table")
            and owner is not None
            and node_text(owner).endswith("schema")
        ):
            callback = next((a for a in args if a.type in FUNCTIONS), None)
            if callback is not None and first:
                _knex_table(reader, first, callback)
        elif method == "raw" and args:
            reader.sql(args[0], call)
        elif (
            method in ("insert", "update", "del", "delete")
            and owner is not None
            and owner.type == "call_expression"
        ):
            reader.add("raw-sql", call, note="changes data", sql=short(call))


def _knex_table(reader: Reader, table: str, callback: Node) -> None:
    names = params(callback)
    builder = names[0] if names else "table"
    for call, method, owner, args in calls(callback):
        if owner is None or owner.type != "identifier" or node_text(owner) != builder:
            continue
        chain = _chain(call)
        first = string_value(args[0]) if args else None
        if method in KNEX_COLUMN_TYPES:
            _knex_column(reader, call, table, method, first, chain)
        elif method in ("dropColumn", "dropColumns"):
            for arg in args:
                reader.add("drop-column", call, table=table, column=string_value(arg))
        elif method == "renameColumn" and len(args) > 1:
            reader.add(
                "rename-column", call, table=table, column=first, new_name=string_value(args[1])
            )
        elif method == "index":
            reader.add(
                "add-index",
                call,
                table=table,
                name=string_value(args[1]) if len(args) > 1 else None,
            )
        elif method == "unique":
            reader.add("add-constraint", call, table=table, constraint="unique", unique=True)
        elif method == "foreign":
            reader.add("add-constraint", call, table=table, column=first, constraint="foreign-key")
        elif method == "dropIndex":
            reader.add(
                "drop-index",
                call,
                table=table,
                name=string_value(args[1]) if len(args) > 1 else None,
            )
        elif method in ("dropUnique", "dropForeign", "dropPrimary"):
            reader.add("drop-constraint", call, table=table)
        elif method == "dropNullable":
            reader.add("alter-column", call, table=table, column=first, nullable=False)


def _chain(call: Node) -> list[str]:
    """The methods chained on a call: ``t.string('a').notNullable().alter()`` -> [...]."""
    names = []
    node = call
    while node.parent is not None and node.parent.type == "member_expression":
        prop = node.parent.child_by_field_name("property")
        names.append(node_text(prop) if prop else "")
        outer = node.parent.parent
        if outer is None or outer.type != "call_expression":
            break
        node = outer
    return names


def _knex_column(
    reader: Reader, call: Node, table: str, kind: str, column: str | None, chain: list[str]
) -> None:
    not_null = (
        "notNullable" in chain or "primary" in chain or kind in ("increments", "bigIncrements")
    )
    if "alter" in chain:
        reader.add(
            "alter-column",
            call,
            table=table,
            column=column,
            type=kind,
            nullable=False if not_null else None,
        )
        return
    has_default = "defaultTo" in chain or kind in ("increments", "bigIncrements")
    reader.add(
        "add-column",
        call,
        table=table,
        column=column,
        type=kind,
        nullable=not not_null,
        has_default=has_default,
    )
    unique = "unique" in chain
    reader.column_constraints(call, table, column, references="references" in chain, unique=unique)
    if "index" in chain and not unique:
        reader.add("add-index", call, table=table, column=column)
