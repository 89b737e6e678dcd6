"""Knex, TypeORM and Sequelize migrations: the calls in their ``up``/``down``, via tree-sitter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from tree_sitter import Node

from backend_agent.analysis.database.model import (
    ConstraintKind,
    Dialect,
    Migration,
    Operation,
    OperationKind,
    Tool,
)
from backend_agent.analysis.database.sql import sql_operations
from backend_agent.analysis.database.syntax import node_line, node_text, walk
from backend_agent.analysis.parsing import language_for, parse
from backend_agent.analysis.project import Project

FUNCTIONS = frozenset(
    {
        "function_expression",
        "function",
        "arrow_function",
        "function_declaration",
        "method_definition",
        "generator_function",
    }
)
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


def tool_of(text: str) -> Tool | None:
    """Which library a JS/TS migration file is written for, from what it calls."""
    if "MigrationInterface" in text or "queryRunner" in text:
        return "typeorm"
    if "queryInterface" in text:
        return "sequelize"
    return "knex" if "knex" in text.lower() else None


def js_migration(project: Project, path: str, tool: Tool, dialect: Dialect) -> Migration:
    """The up/down operations of one Knex, TypeORM or Sequelize migration file."""
    language = language_for(path) or "javascript"
    tree = parse(project.read_bytes(path), language)
    steps = dict(_steps(tree.root_node))
    reader = {"knex": _knex, "typeorm": _typeorm, "sequelize": _sequelize}[tool]
    up = _Reader(dialect)
    if "up" in steps:
        reader(up, steps["up"])
    down = _Reader(dialect)
    has_down, irreversible_line = False, None
    if "down" in steps:
        reader(down, steps["down"])
        throws = [n for n in walk(steps["down"]) if n.type == "throw_statement"]
        irreversible_line = node_line(throws[0]) if throws else None
        has_down = bool(down.operations) or any(
            n.type in ("call_expression", "throw_statement")
            and not node_text(n).startswith("Promise.resolve")
            for n in walk(steps["down"])
        )
    name = PurePosixPath(path).name.split(".")[0]
    migration = Migration(tool, path, name, dialect, up.sorted(), down.sorted(), has_down)
    migration.irreversible_line = irreversible_line
    return migration


# --- tree helpers ----------------------------------------------------------------------------


def _string(node: Node | None) -> str | None:
    """A string literal, or a template literal without substitutions."""
    if node is None:
        return None
    if node.type == "string":
        return "".join(
            node_text(c)
            for c in node.named_children
            if c.type in ("string_fragment", "escape_sequence")
        )
    if node.type == "template_string" and not any(
        c.type == "template_substitution" for c in node.named_children
    ):
        return node_text(node)[1:-1]
    return None


def _args(call: Node) -> list[Node]:
    arguments = call.child_by_field_name("arguments")
    return [a for a in arguments.named_children if a.type != "comment"] if arguments else []


def _method(call: Node) -> tuple[str, Node | None]:
    """``obj.method(...)`` -> ("method", obj); ``fn(...)`` -> ("fn", None)."""
    function = call.child_by_field_name("function")
    if function is not None and function.type == "member_expression":
        prop = function.child_by_field_name("property")
        return (node_text(prop) if prop else "", function.child_by_field_name("object"))
    return (node_text(function) if function is not None else "", None)


def _object(node: Node | None) -> dict[str, Node]:
    """``{a: 1, b: 'x'}`` (also inside ``new Table({...})``) as key -> value node."""
    if node is None:
        return {}
    if node.type == "new_expression":
        arguments = node.child_by_field_name("arguments")
        inner = arguments.named_children if arguments else []
        return _object(inner[0]) if inner else {}
    if node.type != "object":
        return {}
    pairs = {}
    for pair in node.named_children:
        if pair.type == "pair":
            key, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
            if key is not None and value is not None:
                pairs[_string(key) or node_text(key)] = value
    return pairs


def _bool(node: Node | None) -> bool | None:
    if node is None:
        return None
    return {"true": True, "false": False}.get(node.type)


def _steps(root: Node) -> Iterator[tuple[str, Node]]:
    """The bodies of functions named up/down, however they are declared or exported."""
    for node in walk(root):
        name, function = None, None
        if node.type in ("method_definition", "function_declaration"):
            key = node.child_by_field_name("name")
            name, function = (node_text(key) if key else None), node
        elif node.type in ("pair", "variable_declarator", "assignment_expression"):
            key = (
                node.child_by_field_name("key")
                or node.child_by_field_name("name")
                or node.child_by_field_name("left")
            )
            value = node.child_by_field_name("value") or node.child_by_field_name("right")
            if key is not None and value is not None and value.type in FUNCTIONS:
                name = node_text(key).rsplit(".", 1)[-1]
                function = value
        if name in ("up", "down") and function is not None:
            body = function.child_by_field_name("body")
            if body is not None:
                yield name, body


def _params(function: Node) -> list[str]:
    single = function.child_by_field_name("parameter")
    if single is not None:
        return [node_text(single)]
    params = function.child_by_field_name("parameters")
    names = []
    for param in params.named_children if params else []:
        ident = param.child_by_field_name("pattern") if param.type != "identifier" else param
        names.append(node_text(ident) if ident is not None else "")
    return names


@dataclass
class _Reader:
    dialect: Dialect
    operations: list[Operation] = field(default_factory=list)

    def add(self, kind: OperationKind, node: Node, **values: Any) -> None:
        self.operations.append(Operation(kind, node_line(node), **values))

    def sql(self, node: Node, call: Node) -> None:
        text = _string(node)
        if text is None:
            self.add("raw-sql", call, note="SQL built at run time", sql=_short(node))
        else:
            self.operations.extend(sql_operations(text, self.dialect, node_line(node)))

    def column_constraints(
        self, call: Node, table: str | None, column: str | None, *, references: bool, unique: bool
    ) -> None:
        """The foreign key and unique constraint a column definition declares inline."""
        if references:
            self.add("add-constraint", call, table=table, column=column, constraint="foreign-key")
        if unique:
            self.add(
                "add-constraint", call, table=table, column=column, constraint="unique", unique=True
            )

    def sorted(self) -> list[Operation]:
        return sorted(self.operations, key=lambda op: op.line)


def _short(node: Node | None) -> str | None:
    if node is None:
        return None
    flat = " ".join(node_text(node).split())
    return flat if len(flat) <= 200 else flat[:199] + "…"


def _calls(body: Node) -> Iterator[tuple[Node, str, Node | None, list[Node]]]:
    for node in walk(body):
        if node.type == "call_expression":
            method, owner = _method(node)
            yield node, method, owner, _args(node)


# --- Knex ------------------------------------------------------------------------------------


def _knex(reader: _Reader, body: Node) -> None:
    for call, method, owner, args in _calls(body):
        first = _string(args[0]) if args else None
        if method in ("createTable", "createTableIfNotExists"):
            reader.add("create-table", call, table=first)
        elif method in ("dropTable", "dropTableIfExists"):
            reader.add("drop-table", call, table=first)
        elif method == "renameTable" and len(args) > 1:
            reader.add("rename-table", call, table=first, new_name=_string(args[1]))
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
            reader.add("raw-sql", call, note="changes data", sql=_short(call))


def _knex_table(reader: _Reader, table: str, callback: Node) -> None:
    params = _params(callback)
    builder = params[0] if params else "table"
    for call, method, owner, args in _calls(callback):
        if owner is None or owner.type != "identifier" or node_text(owner) != builder:
            continue
        chain = _chain(call)
        first = _string(args[0]) if args else None
        if method in KNEX_COLUMN_TYPES:
            _knex_column(reader, call, table, method, first, chain)
        elif method in ("dropColumn", "dropColumns"):
            for arg in args:
                reader.add("drop-column", call, table=table, column=_string(arg))
        elif method == "renameColumn" and len(args) > 1:
            reader.add("rename-column", call, table=table, column=first, new_name=_string(args[1]))
        elif method == "index":
            reader.add(
                "add-index", call, table=table, name=_string(args[1]) if len(args) > 1 else None
            )
        elif method == "unique":
            reader.add("add-constraint", call, table=table, constraint="unique", unique=True)
        elif method == "foreign":
            reader.add("add-constraint", call, table=table, column=first, constraint="foreign-key")
        elif method == "dropIndex":
            reader.add(
                "drop-index", call, table=table, name=_string(args[1]) if len(args) > 1 else None
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
    reader: _Reader, call: Node, table: str, kind: str, column: str | None, chain: list[str]
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


# --- TypeORM ---------------------------------------------------------------------------------

TYPEORM_CONSTRAINTS: dict[str, ConstraintKind] = {
    "createForeignKey": "foreign-key",
    "createForeignKeys": "foreign-key",
    "createUniqueConstraint": "unique",
    "createUniqueConstraints": "unique",
    "createCheckConstraint": "check",
    "createPrimaryKey": "primary-key",
}


def _typeorm(reader: _Reader, body: Node) -> None:
    for call, method, _owner, args in _calls(body):
        first = _table_arg(args[0]) if args else None
        if method == "query" and args:
            reader.sql(args[0], call)
        elif method == "createTable" and args:
            reader.add("create-table", call, table=_string(_object(args[0]).get("name")))
        elif method == "dropTable":
            reader.add("drop-table", call, table=first)
        elif method == "renameTable" and len(args) > 1:
            reader.add("rename-table", call, table=first, new_name=_string(args[1]))
        elif method in ("addColumn", "addColumns") and len(args) > 1:
            for column in args[1].named_children if args[1].type == "array" else [args[1]]:
                _typeorm_column(reader, call, first, _object(column), "add-column")
        elif method in ("dropColumn", "dropColumns") and len(args) > 1:
            for column in args[1].named_children if args[1].type == "array" else [args[1]]:
                name = _string(column) or _string(_object(column).get("name"))
                reader.add("drop-column", call, table=first, column=name)
        elif method == "renameColumn" and len(args) > 2:
            reader.add(
                "rename-column",
                call,
                table=first,
                column=_string(args[1]),
                new_name=_string(args[2]),
            )
        elif method == "changeColumn" and len(args) > 2:
            _typeorm_column(reader, call, first, _object(args[2]), "alter-column")
        elif method in ("createIndex", "createIndices") and len(args) > 1:
            index = _object(args[1])
            reader.add(
                "add-index",
                call,
                table=first,
                name=_string(index.get("name")),
                unique=bool(_bool(index.get("isUnique"))),
                concurrent=bool(_bool(index.get("isConcurrent"))),
            )
        elif method in ("dropIndex", "dropIndices"):
            name = _string(args[1]) if len(args) > 1 else None
            reader.add("drop-index", call, table=first, name=name)
        elif method in TYPEORM_CONSTRAINTS and len(args) > 1:
            kind = TYPEORM_CONSTRAINTS[method]
            name = _string(_object(args[1]).get("name"))
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
    return _string(node) or _string(_object(node).get("name"))


def _typeorm_column(
    reader: _Reader, call: Node, table: str | None, column: dict[str, Node], kind: OperationKind
) -> None:
    """TypeORM columns are NOT NULL unless ``isNullable: true``."""
    nullable = _bool(column.get("isNullable")) is True
    has_default = "default" in column or "generationStrategy" in column
    type_ = _string(column.get("type"))
    name = _string(column.get("name"))
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


# --- Sequelize -------------------------------------------------------------------------------

SEQUELIZE_CONSTRAINTS: dict[str, ConstraintKind] = {
    "unique": "unique",
    "foreign key": "foreign-key",
    "check": "check",
    "primary key": "primary-key",
}


def _sequelize(reader: _Reader, body: Node) -> None:
    handlers: dict[str, Callable[[_Reader, Node, str | None, list[Node]], None]] = {
        "addColumn": _sequelize_add_column,
        "changeColumn": _sequelize_change_column,
        "addIndex": _sequelize_add_index,
        "addConstraint": _sequelize_add_constraint,
    }
    for call, method, _owner, args in _calls(body):
        first = _string(args[0]) if args else None
        if method in handlers:
            handlers[method](reader, call, first, args)
        elif method == "createTable":
            reader.add("create-table", call, table=first)
        elif method == "dropTable":
            reader.add("drop-table", call, table=first)
        elif method == "renameTable" and len(args) > 1:
            reader.add("rename-table", call, table=first, new_name=_string(args[1]))
        elif method == "removeColumn" and len(args) > 1:
            reader.add("drop-column", call, table=first, column=_string(args[1]))
        elif method == "renameColumn" and len(args) > 2:
            reader.add(
                "rename-column",
                call,
                table=first,
                column=_string(args[1]),
                new_name=_string(args[2]),
            )
        elif method == "removeIndex" and len(args) > 1:
            options = _object(args[2]) if len(args) > 2 else {}
            reader.add(
                "drop-index",
                call,
                table=first,
                name=_string(args[1]),
                concurrent=bool(_bool(options.get("concurrently"))),
            )
        elif method == "removeConstraint":
            reader.add(
                "drop-constraint",
                call,
                table=first,
                name=_string(args[1]) if len(args) > 1 else None,
            )
        elif method == "query" and args:
            reader.sql(args[0], call)
        elif method in ("bulkInsert", "bulkUpdate", "bulkDelete"):
            reader.add("raw-sql", call, table=first, note="changes data", sql=_short(call))


def _sequelize_add_column(reader: _Reader, call: Node, table: str | None, args: list[Node]) -> None:
    if len(args) < 3:
        return
    column, options = _string(args[1]), _object(args[2])
    nullable = _bool(options.get("allowNull")) is not False
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
        unique=bool(_bool(options.get("unique"))),
    )


def _sequelize_change_column(
    reader: _Reader, call: Node, table: str | None, args: list[Node]
) -> None:
    if len(args) < 3:
        return
    options = _object(args[2])
    type_ = node_text(options["type"]) if "type" in options else node_text(args[2])
    not_null = _bool(options.get("allowNull")) is False
    reader.add(
        "alter-column",
        call,
        table=table,
        column=_string(args[1]),
        type=type_,
        nullable=False if not_null else None,
    )


def _sequelize_add_index(reader: _Reader, call: Node, table: str | None, args: list[Node]) -> None:
    options = next((_object(a) for a in args[1:] if a.type == "object"), {})
    reader.add(
        "add-index",
        call,
        table=table,
        name=_string(options.get("name")),
        unique=bool(_bool(options.get("unique"))),
        concurrent=bool(_bool(options.get("concurrently"))),
    )


def _sequelize_add_constraint(
    reader: _Reader, call: Node, table: str | None, args: list[Node]
) -> None:
    options = next((_object(a) for a in args[1:] if a.type == "object"), {})
    kind = SEQUELIZE_CONSTRAINTS.get((_string(options.get("type")) or "").lower(), "check")
    reader.add(
        "add-constraint",
        call,
        table=table,
        name=_string(options.get("name")),
        constraint=kind,
        unique=kind in ("unique", "primary-key"),
    )
