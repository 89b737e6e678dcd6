"""Rails ActiveRecord migrations: ``change`` (with what Rails cannot reverse, and ``reversible``
blocks), ``up``/``down`` and the older ``self.up``/``self.down``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any

from tree_sitter import Node

from backend_agent.analysis.database.model import Dialect, Migration, Operation, OperationKind
from backend_agent.analysis.database.sql import sql_operations
from backend_agent.analysis.parsing import node_line, node_text, parse, walk
from backend_agent.analysis.project import Project

COLUMN_TYPES = frozenset(
    {
        "string",
        "text",
        "integer",
        "bigint",
        "float",
        "decimal",
        "numeric",
        "datetime",
        "time",
        "date",
        "binary",
        "boolean",
        "json",
        "jsonb",
        "uuid",
        "citext",
        "hstore",
        "inet",
        "timestamp",
        "timestamptz",
        "virtual",
        "column",
        "enum",
    }
)
COLUMN_CALLS = frozenset(
    {
        "add_column",
        "remove_column",
        "remove_columns",
        "rename_column",
        "change_column",
        "change_column_null",
        "change_column_default",
    }
)
KEY_CALLS = frozenset(
    {
        "add_index",
        "remove_index",
        "add_foreign_key",
        "add_check_constraint",
        "validate_foreign_key",
        "validate_check_constraint",
        "remove_foreign_key",
        "remove_check_constraint",
    }
)
VERSION = re.compile(r"^(\d+)_(\w+)$")


def is_rails(path: str, text: str) -> bool:
    """An ActiveRecord migration, by its base class or its ``db/migrate/`` location."""
    return "ActiveRecord::Migration" in text or "/db/migrate/" in f"/{path}"


def rails(project: Project, path: str, dialect: Dialect) -> Migration:
    """Operations of ``change`` or ``up``, and of ``down`` when it is written out."""
    tree = parse(project.read_bytes(path), "ruby")
    # ``def up`` and, in migrations older than Rails 3.1, ``def self.up``.
    methods = {
        node_text(node.child_by_field_name("name")): node
        for node in walk(tree.root_node)
        if node.type in ("method", "singleton_method")
        and node.child_by_field_name("name") is not None
    }
    up, down = _Reader(dialect, reversing=False), _Reader(dialect, reversing=False)
    has_down, irreversible_line = False, None
    if "change" in methods:
        up.reversing = True
        up.read_method(methods["change"], down)
        has_down = True
    elif "up" in methods:
        up.read_method(methods["up"], down)
    if "down" in methods:
        down.read_method(methods["down"], down)
        raises = [
            n for n in walk(methods["down"]) if n.type == "call" and _method(n) in ("raise", "fail")
        ]
        irreversible_line = node_line(raises[0]) if raises else None
        has_down = has_down or bool(_statements(methods["down"]))
    stem = PurePosixPath(path).stem
    match = VERSION.match(stem)
    name = f"{match.group(1)}_{match.group(2)}" if match else stem
    migration = Migration("rails", path, name, dialect, up.operations, down.operations, has_down)
    migration.irreversible_line = irreversible_line
    return migration


# --- tree helpers ----------------------------------------------------------------------------


def _method(call: Node) -> str:
    return node_text(call.child_by_field_name("method"))


def _statements(method: Node) -> list[Node]:
    body = method.child_by_field_name("body")
    return [c for c in body.named_children if c.type != "comment"] if body is not None else []


def _value(node: Node | None) -> str | None:
    """Symbols and strings as their name; None for anything computed."""
    if node is None:
        return None
    if node.type == "simple_symbol":
        return node_text(node)[1:]
    if node.type in ("string", "delimited_symbol"):
        parts = [c for c in node.named_children if c.type != "string_content"]
        return None if parts else "".join(node_text(c) for c in node.named_children)
    if node.type in ("true", "false", "nil", "integer"):
        return node_text(node)
    return None


def _columns(node: Node) -> list[str]:
    """``:email`` or ``[:org_id, :email]`` as column names; [] when any is computed."""
    items = node.named_children if node.type == "array" else [node]
    names = [_value(item) for item in items]
    return [n for n in names if n is not None] if all(names) else []


def _heredoc(start: Node) -> str | None:
    """The body of ``<<~SQL`` from its beginning marker: the next heredoc_body in the tree."""
    root = start
    while root.parent is not None:
        root = root.parent
    bodies = [n for n in walk(root) if n.type == "heredoc_body" and n.start_byte > start.start_byte]
    if not bodies:
        return None
    content = [c for c in bodies[0].named_children if c.type == "heredoc_content"]
    return "".join(node_text(c) for c in content) if content else None


@dataclass(frozen=True)
class _Args:
    positional: list[Node]
    options: dict[str, Node]

    def value(self, index: int) -> str | None:
        return _value(self.positional[index]) if len(self.positional) > index else None

    def option(self, key: str) -> str | None:
        return _value(self.options.get(key))


def _args(call: Node) -> _Args:
    arguments = call.child_by_field_name("arguments")
    positional, options = [], {}
    for arg in arguments.named_children if arguments is not None else []:
        pairs = [arg] if arg.type == "pair" else arg.named_children if arg.type == "hash" else []
        if pairs:
            for pair in pairs:
                key = pair.child_by_field_name("key")
                name = node_text(key).lstrip(":").rstrip(":") if key is not None else ""
                value = pair.child_by_field_name("value")
                if value is not None:
                    options[name.strip("\"'")] = value
        else:
            positional.append(arg)
    return _Args(positional, options)


@dataclass
class _Reader:
    dialect: Dialect
    reversing: bool  # inside ``change``: Rails must be able to invert each step
    operations: list[Operation] = field(default_factory=list)

    def add(self, kind: OperationKind, call: Node, **values: Any) -> None:
        self.operations.append(Operation(kind, node_line(call), **values))

    def read_method(self, method: Node, down: _Reader) -> None:
        for call in walk(method):
            if call.type != "call":
                continue
            place = _context(call, method)
            if place.block in ("create_table", "skip"):
                continue
            target = down if place.direction == "down" else self
            if place.block == "change_table" and place.table_call is not None:
                target.table_call(call, place.table_call, explicit=bool(place.direction))
            else:
                target.call(call, explicit=bool(place.direction))

    def call(self, call: Node, explicit: bool) -> None:
        """One top-level schema statement; ``explicit``: inside reversible's up/down."""
        before = len(self.operations)
        self.dispatch(call, explicit)
        method = _method(call)
        self.operations[before:] = [
            op if op.reversible or op.note else replace(op, note=f"{method} in change")
            for op in self.operations[before:]
        ]

    def dispatch(self, call: Node, explicit: bool) -> None:
        method, args = _method(call), _args(call)
        table = args.value(0)
        irreversible = self.reversing and not explicit
        if method in COLUMN_CALLS:
            self.column_call(call, method, table, args, irreversible)
        elif method in KEY_CALLS:
            self.key_call(call, method, table, args, irreversible)
        elif method == "create_table":
            self.add("create-table", call, table=table)
        elif method == "drop_table":
            has_block = call.child_by_field_name("block") is not None
            self.add("drop-table", call, table=table, reversible=not irreversible or has_block)
        elif method == "rename_table":
            self.add("rename-table", call, table=table, new_name=args.value(1))
        elif method in ("add_reference", "add_belongs_to"):
            self.add_reference(call, table, args.value(1), args)
        elif method in ("remove_reference", "remove_belongs_to"):
            self.add("drop-column", call, table=table, column=f"{args.value(1)}_id")
        elif method == "add_timestamps":
            for column in ("created_at", "updated_at"):
                self.add_column(call, table, column, "datetime", args, null_default=False)
        elif method == "execute":
            self.execute(call, args, reversible=not irreversible)

    def column_call(
        self, call: Node, method: str, table: str | None, args: _Args, irreversible: bool
    ) -> None:
        column = args.value(1)
        if method == "add_column":
            self.add_column(call, table, column, args.value(2), args)
        elif method in ("remove_column", "remove_columns"):
            typed = "type" in args.options or (
                method == "remove_column" and len(args.positional) > 2
            )
            names = (
                [column]
                if method == "remove_column"
                else [args.value(i) for i in range(1, len(args.positional))]
            )
            for name in names:
                self.add(
                    "drop-column",
                    call,
                    table=table,
                    column=name,
                    reversible=not irreversible or typed,
                )
        elif method == "rename_column":
            self.add("rename-column", call, table=table, column=column, new_name=args.value(2))
        elif method == "change_column":
            not_null = args.option("null") == "false"
            self.add(
                "alter-column",
                call,
                table=table,
                column=column,
                type=args.value(2),
                nullable=False if not_null else None,
                reversible=not irreversible,
            )
        elif method == "change_column_null" and args.value(2) == "false":
            self.add("alter-column", call, table=table, column=column, nullable=False)
        elif method == "change_column_default":
            from_to = "from" in args.options and "to" in args.options
            self.add(
                "alter-column",
                call,
                table=table,
                column=column,
                has_default=True,
                reversible=not irreversible or from_to,
            )

    def key_call(
        self, call: Node, method: str, table: str | None, args: _Args, irreversible: bool
    ) -> None:
        """Indexes and constraints."""
        name = args.option("name")
        not_valid = args.option("validate") == "false"
        if method == "add_index":
            self.add_index(call, table, args)
        elif method == "remove_index":
            has_column = len(args.positional) > 1 or "column" in args.options
            self.add(
                "drop-index",
                call,
                table=table,
                name=name,
                concurrent=args.option("algorithm") == "concurrently",
                reversible=not irreversible or has_column,
            )
        elif method in ("add_foreign_key", "add_check_constraint"):
            kind = "foreign-key" if method == "add_foreign_key" else "check"
            self.add(
                "add-constraint", call, table=table, name=name, constraint=kind, not_valid=not_valid
            )
        elif method in ("validate_foreign_key", "validate_check_constraint"):
            self.add("validate-constraint", call, table=table)
        elif method in ("remove_foreign_key", "remove_check_constraint"):
            self.add("drop-constraint", call, table=table, name=name)

    def table_call(self, call: Node, block_call: Node, explicit: bool) -> None:
        """``t.string :name`` and friends inside ``change_table :t do |t|``."""
        receiver = call.child_by_field_name("receiver")
        if receiver is None or receiver.type != "identifier":
            return
        table = _args(block_call).value(0)
        method, args = _method(call), _args(call)
        irreversible = self.reversing and not explicit
        if method in COLUMN_TYPES:
            for position in range(len(args.positional)):
                self.add_column(call, table, args.value(position), method, args)
        elif method == "remove":
            typed = "type" in args.options
            for position in range(len(args.positional)):
                self.add(
                    "drop-column",
                    call,
                    table=table,
                    column=args.value(position),
                    reversible=not irreversible or typed,
                )
        elif method == "rename":
            self.add(
                "rename-column", call, table=table, column=args.value(0), new_name=args.value(1)
            )
        elif method == "change":
            self.add(
                "alter-column",
                call,
                table=table,
                column=args.value(0),
                type=args.value(1),
                reversible=not irreversible,
                note="change",
            )
        elif method == "index":
            self.add_index(call, table, _Args([call, *args.positional], args.options))
        elif method == "remove_index":
            self.add(
                "drop-index",
                call,
                table=table,
                name=args.option("name"),
                concurrent=args.option("algorithm") == "concurrently",
            )
        elif method in ("references", "belongs_to"):
            for position in range(len(args.positional)):
                self.add_reference(call, table, args.value(position), args)
        elif method == "timestamps":
            for column in ("created_at", "updated_at"):
                self.add_column(call, table, column, "datetime", args, null_default=False)

    def add_column(
        self,
        call: Node,
        table: str | None,
        column: str | None,
        type_: str | None,
        args: _Args,
        null_default: bool = True,
    ) -> None:
        null = args.option("null")
        nullable = null_default if null is None else null != "false"
        has_default = "default" in args.options and args.option("default") != "nil"
        self.add(
            "add-column",
            call,
            table=table,
            column=column,
            type=type_,
            nullable=nullable,
            has_default=has_default,
        )

    def add_index(self, call: Node, table: str | None, args: _Args) -> None:
        columns = _columns(args.positional[1]) if len(args.positional) > 1 else []
        name = args.option("name")
        if name is None and table and columns:  # the name Rails gives it
            name = f"index_{table}_on_{'_and_'.join(columns)}"
        self.add(
            "add-index",
            call,
            table=table,
            column=columns[0] if len(columns) == 1 else None,
            name=name,
            unique=args.option("unique") == "true",
            concurrent=args.option("algorithm") == "concurrently",
        )

    def add_reference(self, call: Node, table: str | None, ref: str | None, args: _Args) -> None:
        column = f"{ref}_id"
        self.add_column(call, table, column, "bigint", args)
        if args.option("foreign_key") not in (None, "false"):
            self.add("add-constraint", call, table=table, column=column, constraint="foreign-key")
        index = args.options.get("index")
        if _value(index) != "false":
            concurrent = index is not None and "concurrently" in node_text(index)
            self.add("add-index", call, table=table, column=column, concurrent=concurrent)

    def execute(self, call: Node, args: _Args, reversible: bool) -> None:
        first = args.positional[0] if args.positional else None
        sql = _value(first) if first is not None and first.type == "string" else None
        if first is not None and first.type == "heredoc_beginning":
            sql = _heredoc(first)
        if sql is None:
            self.add("raw-sql", call, note="SQL built at run time", reversible=reversible)
            return
        operations = sql_operations(
            sql, self.dialect, node_line(first) if first else node_line(call)
        )
        if not reversible and not operations:
            operations = [Operation("raw-sql", node_line(call), sql=" ".join(sql.split())[:200])]
        for op in operations:
            self.operations.append(
                op
                if reversible
                else replace(op, reversible=False, note=op.note or "execute in change")
            )


def _block_owner(node: Node) -> Node | None:
    """The call whose do/brace block contains ``node``."""
    current = node.parent
    while current is not None:
        if current.type in ("do_block", "block") and current.parent is not None:
            return current.parent
        current = current.parent
    return None


# Blocks whose calls run as part of the migration, in order (anything else, such as
# ``User.find_each do ... end``, runs application code we do not model).
WRAPPERS = frozenset({"reversible", "revert", "say_with_time", "suppress_messages", "transaction"})


@dataclass(frozen=True)
class _Place:
    """Where a call sits in a migration method."""

    block: str  # "top", "create_table", "change_table" or "skip"
    direction: str  # "up"/"down" inside reversible's dir.up/dir.down (or up_only), else ""
    table_call: Node | None = None  # the change_table call around it


def _context(call: Node, method: Node) -> _Place:
    """Walk out through the blocks around ``call`` up to ``method``."""
    block, direction, table_call = "", "", None
    current = call
    while True:
        owner = _block_owner(current)
        if owner is None or owner.start_byte < method.start_byte:
            return _Place(block or "top", direction, table_call)
        name = _method(owner)
        if name in ("create_table", "change_table"):
            if not block:
                block, table_call = name, owner
        elif name in ("up", "down") and owner.child_by_field_name("receiver") is not None:
            direction = direction or name
        elif name == "up_only":
            direction = direction or "up"
        elif name not in WRAPPERS and not block:
            block = "skip"
        current = owner
