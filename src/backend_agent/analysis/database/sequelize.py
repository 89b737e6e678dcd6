"""Sequelize migrations: the ``queryInterface`` calls of ``up``/``down``."""

from __future__ import annotations

from collections.abc import Callable

from tree_sitter import Node

from backend_agent.analysis.database.js_syntax import (
    Reader,
    bool_value,
    calls,
    object_props,
    short,
    string_value,
)
from backend_agent.analysis.database.model import ConstraintKind
from backend_agent.analysis.parsing import node_text

SEQUELIZE_CONSTRAINTS: dict[str, ConstraintKind] = {
    "unique": "unique",
    "foreign key": "foreign-key",
    "check": "check",
    "primary key": "primary-key",
}


def read(reader: Reader, body: Node) -> None:
    handlers: dict[str, Callable[[Reader, Node, str | None, list[Node]], None]] = {
        "addColumn": _sequelize_add_column,
        "changeColumn": _sequelize_change_column,
        "addIndex": _sequelize_add_index,
        "addConstraint": _sequelize_add_constraint,
    }
    for call, method, _owner, args in calls(body):
        first = string_value(args[0]) if args else None
        if method in handlers:
            handlers[method](reader, call, first, args)
        elif method == "createTable":
            reader.add("create-table", call, table=first)
        elif method == "dropTable":
            reader.add("drop-table", call, table=first)
        elif method == "renameTable" and len(args) > 1:
            reader.add("rename-table", call, table=first, new_name=string_value(args[1]))
        elif method == "removeColumn" and len(args) > 1:
            reader.add("drop-column", call, table=first, column=string_value(args[1]))
        elif method == "renameColumn" and len(args) > 2:
            reader.add(
                "rename-column",
                call,
                table=first,
                column=string_value(args[1]),
                new_name=string_value(args[2]),
            )
        elif method == "removeIndex" and len(args) > 1:
            options = object_props(args[2]) if len(args) > 2 else {}
            reader.add(
                "drop-index",
                call,
                table=first,
                name=string_value(args[1]),
                concurrent=bool(bool_value(options.get("concurrently"))),
            )
        elif method == "removeConstraint":
            reader.add(
                "drop-constraint",
                call,
                table=first,
                name=string_value(args[1]) if len(args) > 1 else None,
            )
        elif method == "query" and args:
            reader.sql(args[0], call)
        elif method in ("bulkInsert", "bulkUpdate", "bulkDelete"):
            reader.add("raw-sql", call, table=first, note="changes data", sql=short(call))


def _sequelize_add_column(reader: Reader, call: Node, table: str | None, args: list[Node]) -> None:
    if len(args) < 3:
        return
    column, options = string_value(args[1]), object_props(args[2])
    nullable = bool_value(options.get("allowNull")) is not False
    has_default = "defaultValue" in options or "autoIncrement" in options
    type_ = node_text(options["type"]) if "type" in options else node_text(args[2])
    reader.add(
        "add-column",
        call,
        table=table,
        column=column,
        type=type_,
        nullable=nullable,
        has_default=has_default,
    )
    reader.column_constraints(
        call,
        table,
        column,
        references="references" in options,
        unique=bool(bool_value(options.get("unique"))),
    )


def _sequelize_change_column(
    reader: Reader, call: Node, table: str | None, args: list[Node]
) -> None:
    if len(args) < 3:
        return
    options = object_props(args[2])
    type_ = node_text(options["type"]) if "type" in options else node_text(args[2])
    not_null = bool_value(options.get("allowNull")) is False
    reader.add(
        "alter-column",
        call,
        table=table,
        column=string_value(args[1]),
        type=type_,
        nullable=False if not_null else None,
    )


def _sequelize_add_index(reader: Reader, call: Node, table: str | None, args: list[Node]) -> None:
    options = next((object_props(a) for a in args[1:] if a.type == "object"), {})
    reader.add(
        "add-index",
        call,
        table=table,
        name=string_value(options.get("name")),
        unique=bool(bool_value(options.get("unique"))),
        concurrent=bool(bool_value(options.get("concurrently"))),
    )


def _sequelize_add_constraint(
    reader: Reader, call: Node, table: str | None, args: list[Node]
) -> None:
    options = next((object_props(a) for a in args[1:] if a.type == "object"), {})
    kind = SEQUELIZE_CONSTRAINTS.get((string_value(options.get("type")) or "").lower(), "check")
    reader.add(
        "add-constraint",
        call,
        table=table,
        name=string_value(options.get("name")),
        constraint=kind,
        unique=kind in ("unique", "primary-key"),
    )
