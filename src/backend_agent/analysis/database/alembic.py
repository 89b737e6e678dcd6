"""Alembic revisions: the ``op.*`` calls of ``upgrade()``/``downgrade()``, read with ``ast``."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from backend_agent.analysis.database.model import (
    ConstraintKind,
    Dialect,
    Migration,
    Operation,
)
from backend_agent.analysis.database.python_ast import (
    argument,
    callee,
    flag,
    has_keyword,
    keyword_value,
    parse_migration,
    raw_sql,
    string_value,
    trivial,
)
from backend_agent.analysis.project import Project

ALEMBIC_CONSTRAINTS: dict[str, ConstraintKind] = {
    "create_unique_constraint": "unique",
    "create_foreign_key": "foreign-key",
    "create_check_constraint": "check",
    "create_primary_key": "primary-key",
}


def is_alembic(text: str) -> bool:
    """An Alembic revision: an ``upgrade()`` in a file that names alembic or a down_revision."""
    return "def upgrade(" in text and ("alembic" in text or "down_revision" in text)


def alembic(project: Project, path: str, dialect: Dialect) -> Migration:
    """``upgrade()``/``downgrade()`` bodies of ``op.*`` calls, including batch_alter_table."""
    tree = parse_migration("alembic", project, path, dialect)
    if isinstance(tree, Migration):
        return tree
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    upgrade, downgrade = functions.get("upgrade"), functions.get("downgrade")
    up = _AlembicOps(dialect).collect(upgrade) if upgrade else []
    down = _AlembicOps(dialect).collect(downgrade) if downgrade else []
    irreversible_line = None
    if downgrade is not None:
        raised = [n.lineno for n in ast.walk(downgrade) if isinstance(n, ast.Raise)]
        irreversible_line = min(raised) if raised else None
    revision = _module_string(tree, "revision") or PurePosixPath(path).stem
    migration = Migration("alembic", path, revision, dialect, up, down)
    migration.previous = _module_string(tree, "down_revision") or "base"
    migration.has_down = downgrade is not None and not trivial(downgrade.body)
    migration.irreversible_line = irreversible_line
    return migration


def _module_string(tree: ast.Module, name: str) -> str | None:
    """A module-level ``name = "..."`` (annotated or not); a tuple (a merge) gives its first."""
    for node in tree.body:
        target, value = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and target.id == name:
            if isinstance(value, ast.Tuple) and value.elts:
                value = value.elts[0]
            return string_value(value)
    return None


@dataclass
class _AlembicOps:
    dialect: Dialect
    batches: dict[str, str] = field(default_factory=dict)  # batch_op alias -> table

    def collect(self, function: ast.FunctionDef) -> list[Operation]:
        for node in ast.walk(function):
            if isinstance(node, ast.With):
                for item in node.items:
                    call = item.context_expr
                    if (
                        isinstance(call, ast.Call)
                        and callee(call) == "batch_alter_table"
                        and isinstance(item.optional_vars, ast.Name)
                    ):
                        table = string_value(argument(call, 0, "table_name"))
                        if table:
                            self.batches[item.optional_vars.id] = table
        found = [
            op
            for node in ast.walk(function)
            if isinstance(node, ast.Call)
            for op in self.call(node)
        ]
        return sorted(found, key=lambda op: op.line)

    def call(self, call: ast.Call) -> list[Operation]:
        func = call.func
        if not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Name):
            return []
        owner = func.value.id
        if owner in self.batches:
            # batch operations take the same arguments minus the table name
            return self.operation(func.attr, call, self.batches[owner], shift=-1)
        if owner == "op":
            return self.operation(func.attr, call, None, shift=0)
        return []

    def operation(
        self, method: str, call: ast.Call, batch: str | None, shift: int
    ) -> list[Operation]:
        """One ``op.<method>(...)``; ``shift`` is -1 for batch calls (no table argument)."""
        line = call.lineno
        if method in ("add_column", "drop_column", "alter_column"):
            return self.column_operation(
                method, call, batch or string_value(argument(call, 0, "table_name")), shift
            )
        if method in ("create_index", "drop_index"):
            return [self.index(method, call, batch, line)]
        if method in ALEMBIC_CONSTRAINTS:
            return [self.constraint(method, call, batch, line)]
        table = string_value(argument(call, 0, "table_name"))
        if method == "create_table":
            return [Operation("create-table", line, table=table)]
        if method == "drop_table":
            return [Operation("drop-table", line, table=table)]
        if method == "rename_table":
            old, new = (
                string_value(argument(call, 0, "old_table_name")),
                string_value(argument(call, 1, "new_table_name")),
            )
            return [Operation("rename-table", line, table=old, new_name=new)]
        if method == "drop_constraint":
            table = batch or string_value(argument(call, 1, "table_name"))
            name = string_value(argument(call, 0, "constraint_name"))
            return [Operation("drop-constraint", line, table=table, name=name)]
        if method == "execute":
            return raw_sql(argument(call, 0, "sqltext"), line, self.dialect)
        if method == "bulk_insert":
            return [Operation("raw-sql", line, note="changes data", sql="bulk_insert(...)")]
        return []

    def column_operation(
        self, method: str, call: ast.Call, table: str | None, shift: int
    ) -> list[Operation]:
        second = argument(call, 1 + shift, "column" if method == "add_column" else "column_name")
        if method == "add_column":
            return [_sa_column(second, table, call.lineno)] if isinstance(second, ast.Call) else []
        if method == "drop_column":
            return [Operation("drop-column", call.lineno, table=table, column=string_value(second))]
        return _alter_column(call, table, string_value(second), call.lineno)

    def index(self, method: str, call: ast.Call, batch: str | None, line: int) -> Operation:
        return Operation(
            "add-index" if method == "create_index" else "drop-index",
            line,
            table=batch or string_value(argument(call, 1, "table_name")),
            name=string_value(argument(call, 0, "index_name")),
            unique=bool(flag(call, "unique")),
            concurrent=bool(flag(call, "postgresql_concurrently")),
        )

    def constraint(self, method: str, call: ast.Call, batch: str | None, line: int) -> Operation:
        kind = ALEMBIC_CONSTRAINTS[method]
        table = batch or string_value(
            argument(call, 1, "source_table" if kind == "foreign-key" else "table_name")
        )
        return Operation(
            "add-constraint",
            line,
            table=table,
            name=string_value(argument(call, 0, "constraint_name")),
            constraint=kind,
            unique=kind in ("unique", "primary-key"),
            not_valid=bool(flag(call, "postgresql_not_valid")),
        )


def _sa_column(column: ast.Call, table: str | None, line: int) -> Operation:
    """``sa.Column("name", Type, nullable=..., server_default=...)`` as add-column."""
    nullable = flag(column, "nullable")
    primary = flag(column, "primary_key")
    type_node = column.args[1] if len(column.args) > 1 else None
    return Operation(
        "add-column",
        line,
        table=table,
        column=string_value(column.args[0]) if column.args else None,
        type=ast.unparse(type_node) if type_node is not None else None,
        nullable=not (nullable is False or primary is True),
        has_default=has_keyword(column, "server_default"),
    )


def _alter_column(
    call: ast.Call, table: str | None, column: str | None, line: int
) -> list[Operation]:
    operations = []
    type_node = keyword_value(call, "type_")
    nullable = flag(call, "nullable")
    if type_node is not None or nullable is False:
        operations.append(
            Operation(
                "alter-column",
                line,
                table=table,
                column=column,
                type=ast.unparse(type_node) if type_node is not None else None,
                nullable=False if nullable is False else None,
            )
        )
    new_name = string_value(keyword_value(call, "new_column_name"))
    if new_name:
        operations.append(
            Operation("rename-column", line, table=table, column=column, new_name=new_name)
        )
    return operations
