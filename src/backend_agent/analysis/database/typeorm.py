"""TypeORM migrations: the ``queryRunner`` calls of ``up``/``down``."""

from __future__ import annotations

from tree_sitter import Node

from backend_agent.analysis.database.js_syntax import (
    Reader,
    bool_value,
    calls,
    object_props,
    string_value,
)
from backend_agent.analysis.database.model import ConstraintKind, OperationKind

TYPEORM_CONSTRAINTS: dict[str, ConstraintKind] = {
    "createForeignKey": "foreign-key",
    "createForeignKeys": "foreign-key",
    "createUniqueConstraint": "unique",
    "createUniqueConstraints": "unique",
    "createCheckConstraint": "check",
    "createPrimaryKey": "primary-key",
}


def read(reader: Reader, body: Node) -> None:
    for call, method, _owner, args in calls(body):
        first = _table_arg(args[0]) if args else None
        if method == "query" and args:
            reader.sql(args[0], call)
        elif method == "createTable" and args:
            reader.add("create-table", call, table=string_value(object_props(args[0]).get("name")))
        elif method == "dropTable":
            reader.add("drop-table", call, table=first)
        elif method == "renameTable" and len(args) > 1:
            reader.add("rename-table", call, table=first, new_name=string_value(args[1]))
        elif method in ("addColumn", "addColumns") and len(args) > 1:
            for column in args[1].named_children if args[1].type == "array" else [args[1]]:
                _typeorm_column(reader, call, first, object_props(column), "add-column")
        elif method in ("dropColumn", "dropColumns") and len(args) > 1:
            for column in args[1].named_children if args[1].type == "array" else [args[1]]:
                name = string_value(column) or string_value(object_props(column).get("name"))
                reader.add("drop-column", call, table=first, column=name)
        elif method == "renameColumn" and len(args) > 2:
            reader.add(
                "rename-column",
                call,
                table=first,
                column=string_value(args[1]),
                new_name=string_value(args[2]),
            )
        elif method == "changeColumn" and len(args) > 2:
            _typeorm_column(reader, call, first, object_props(args[2]), "alter-column")
        elif method in ("createIndex", "createIndices") and len(args) > 1:
            index = object_props(args[1])
            reader.add(
                "add-index",
                call,
                table=first,
                name=string_value(index.get("name")),
                unique=bool(bool_value(index.get("isUnique"))),
                concurrent=bool(bool_value(index.get("isConcurrent"))),
            )
        elif method in ("dropIndex", "dropIndices"):
            name = string_value(args[1]) if len(args) > 1 else None
            reader.add("drop-index", call, table=first, name=name)
        elif method in TYPEORM_CONSTRAINTS and len(args) > 1:
            kind = TYPEORM_CONSTRAINTS[method]
            name = string_value(object_props(args[1]).get("name"))
            reader.add(
                "add-constraint",
                call,
                table=first,
                name=name,
                constraint=kind,
                unique=kind in ("unique", "primary-key"),
            )
        elif method.startswith("drop") and method.endswith(
            ("Key", "Keys", "Constraint", "Constraints")
        ):
            reader.add("drop-constraint", call, table=first)


def _table_arg(node: Node) -> str | None:
    return string_value(node) or string_value(object_props(node).get("name"))


def _typeorm_column(
    reader: Reader, call: Node, table: str | None, column: dict[str, Node], kind: OperationKind
) -> None:
    """TypeORM columns are NOT NULL unless ``isNullable: true``."""
    nullable = bool_value(column.get("isNullable")) is True
    has_default = "default" in column or "generationStrategy" in column
    type_ = string_value(column.get("type"))
    name = string_value(column.get("name"))
    if kind == "alter-column":
        reader.add(kind, call, table=table, column=name, type=type_)
    else:
        reader.add(
            kind,
            call,
            table=table,
            column=name,
            type=type_,
            nullable=nullable,
            has_default=has_default,
        )
